package dev.ferry.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.schemas.TopicNames;
import dev.ferry.testkit.KafkaAndPostgres;
import dev.ferry.testkit.SqliteTestDatabase;
import dev.ferry.testkit.TableComparison;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} and {@code /health} of a running pipeline, scraped over HTTP as Prometheus does, while a real SQLite
 * file, the real broker and the real PostgreSQL replicate: the values move as docs/metrics.md says they do.
 */
class MetricsEndpointTest {

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(Pipeline pipeline, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pipeline.metricsPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private Scrape scrape(Pipeline pipeline) throws IOException, InterruptedException {
        HttpResponse<String> response = get(pipeline, "/metrics");
        assertEquals(200, response.statusCode());
        return new Scrape(response.body());
    }

    /** One scrape in the Prometheus text format. */
    record Scrape(String body) {
        /** The sample of {@code name} whose labels include {@code labels} ("k=v" pairs); NaN when there is none. */
        double value(String name, String... labels) {
            Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)} (\\S+)$").matcher(body);
            while (m.find()) {
                String found = "," + m.group(1) + ",";
                boolean all = true;
                for (String label : labels) {
                    int eq = label.indexOf('=');
                    all &= found.contains("," + label.substring(0, eq) + "=\"" + label.substring(eq + 1) + "\",");
                }
                if (all) {
                    return Double.parseDouble(m.group(2));
                }
            }
            return Double.NaN;
        }
    }

    @Test
    void theMetricsPortIsCheckedAndAPortInUseStopsUpWithTheAddress() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "port.db", "CREATE TABLE t (id INTEGER PRIMARY KEY)");
        FerryCommandTest.Run outOfRange = FerryCommandTest.ferry("up", "--sqlite", db.path().toString(), "--postgres", infra.pg().jdbcUrl(),
                "--data-dir", dir.resolve("state").toString(), "--metrics-port", "70000");
        assertEquals(2, outOfRange.exitCode());
        assertTrue(outOfRange.err().contains("--metrics-port must be between 0 and 65535, not 70000"), outOfRange.err());
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            FerryCommandTest.Run inUse = FerryCommandTest.ferry("up", "--sqlite", db.path().toString(), "--postgres", infra.pg().jdbcUrl(),
                    "--data-dir", dir.resolve("state").toString(), "--metrics-port", Integer.toString(taken.getLocalPort()));
            assertEquals(1, inUse.exitCode());
            assertTrue(inUse.err().contains("cannot serve metrics on 127.0.0.1:" + taken.getLocalPort()), inUse.err());
        }
        assertTrue(FerryCommandTest.ferry("up", "--help").out().contains("--metrics-port=PORT"));
    }

    private static long pgCount(String table) throws Exception {
        try (Connection c = infra.pg().connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM meter." + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void scrapedValuesFollowSnapshotStreamingLagAndHealth() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "app.db",
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT, qty INTEGER)",
                "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
        db.insert("INSERT INTO orders VALUES (?, ?, ?)", IntStream.range(0, 2_000).mapToObj(i -> new Object[] {i, "item " + i, i % 7}).toList());
        Pipeline.Options options = new Pipeline.Options(db.path(), infra.pg().jdbcUrl(), dir.resolve("state"), "meter", infra.broker().bootstrapServers(),
                "ferry", "meter", 1, false, Map.of());
        try (Pipeline pipeline = new Pipeline(options).withMetrics("127.0.0.1", 0)) {
            pipeline.start();
            assertTrue(pipeline.metricsPort() > 0, "port 0 picks a free port");
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));

            // Snapshot: every row of each table read, and each table done, the empty one too.
            await().atMost(Duration.ofSeconds(10)).until(() -> scrape(pipeline).value("ferry_snapshot_done", "table=notes") == 1);
            Scrape snapshot = scrape(pipeline);
            assertEquals(2_000, snapshot.value("ferry_snapshot_rows", "source=meter", "table=orders"));
            assertEquals(2_000, snapshot.value("ferry_snapshot_rows_expected", "source=meter", "table=orders"));
            assertEquals(1, snapshot.value("ferry_snapshot_done", "source=meter", "table=orders"));
            assertEquals(0, snapshot.value("ferry_snapshot_rows", "source=meter", "table=notes"));
            assertEquals(2_000, snapshot.value("ferry_ingest_records_total", "source=meter", "table=orders", "op=r"));
            assertEquals(2_000, snapshot.value("ferry_writer_rows_total", "source=meter", "table=orders", "op=upsert"));
            assertEquals(pgCount("orders"), snapshot.value("ferry_writer_rows_total", "source=meter", "table=orders", "op=upsert"),
                    "after the snapshot the rows counter equals the rows PostgreSQL holds");
            assertEquals(0, snapshot.value("ferry_e2e_latency_seconds_count", "source=meter"), "snapshot reads are no end-to-end latency");
            assertEquals(0, snapshot.value("ferry_replication_lag_seconds", "source=meter", "table=orders"));
            assertEquals(0, snapshot.value("ferry_ingest_changelog_backlog", "source=meter"));
            for (String family : new String[] {"jvm_memory_used_bytes", "jvm_threads_live_threads", "process_uptime_seconds",
                "kafka_producer_", "kafka_consumer_"}) {
                assertTrue(snapshot.body().contains(family), family + " is exposed");
            }

            // A burst while PostgreSQL holds the writer back: lag in records and seconds rises.
            try (Connection blocker = infra.pg().connect()) {
                blocker.setAutoCommit(false);
                try (Statement st = blocker.createStatement()) {
                    st.execute("LOCK TABLE meter.orders IN ACCESS EXCLUSIVE MODE");
                }
                db.insert("INSERT INTO orders VALUES (?, ?, ?)", IntStream.range(10_000, 10_300).mapToObj(i -> new Object[] {i, "new " + i, 1}).toList());
                db.execute("UPDATE orders SET qty = qty + 100 WHERE id < 200", "DELETE FROM orders WHERE id BETWEEN 1000 AND 1099");
                String topic = TopicNames.tableTopic("ferry", "meter", "orders");
                await().atMost(Duration.ofSeconds(30)).until(() -> scrape(pipeline).value("ferry_writer_lag_records", "topic=" + topic) > 0);
                await().atMost(Duration.ofSeconds(30)).until(() -> scrape(pipeline).value("ferry_replication_lag_seconds", "table=orders") >= 2);
                blocker.rollback();
            }
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            await().atMost(Duration.ofSeconds(10)).until(() -> scrape(pipeline).value("ferry_replication_lag_seconds", "table=orders") == 0);
            TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), "meter");

            Scrape streamed = scrape(pipeline);
            assertEquals(300, streamed.value("ferry_ingest_records_total", "table=orders", "op=c"));
            assertEquals(200, streamed.value("ferry_ingest_records_total", "table=orders", "op=u"));
            assertEquals(100, streamed.value("ferry_ingest_records_total", "table=orders", "op=d"));
            assertEquals(100, streamed.value("ferry_ingest_records_total", "table=orders", "op=tombstone"));
            assertEquals(2_000 + 300 + 200, streamed.value("ferry_writer_rows_total", "table=orders", "op=upsert"));
            assertEquals(100, streamed.value("ferry_writer_rows_total", "table=orders", "op=delete"));
            assertEquals(pgCount("orders"), 2_000 + 300 - 100);
            assertEquals(600, streamed.value("ferry_e2e_latency_seconds_count", "source=meter"),
                    "one end-to-end latency per streamed change: 300 inserts, 200 updates, 100 deletes");
            assertTrue(streamed.value("ferry_e2e_latency_seconds_sum", "source=meter") >= 300 * 2,
                    "the held-back changes waited at least 2 s each");
            assertEquals(600, streamed.value("ferry_e2e_latency_seconds_bucket", "source=meter", "le=+Inf"));
            assertEquals(0, streamed.value("ferry_writer_lag_records", "topic=" + TopicNames.tableTopic("ferry", "meter", "orders")));
            for (String reason : new String[] {"value", "refused", "no_schema", "unknown_payload"}) {
                assertEquals(0, streamed.value("ferry_writer_dead_letters_total", "table=orders", "reason=" + reason),
                        "no dead letter, and the series is there at 0 so that increase() sees the first one");
            }
            assertEquals(0, streamed.value("ferry_ingest_records_total", "table=notes", "op=c"));
            assertTrue(streamed.value("ferry_writer_batch_seconds_count", "source=meter") >= 1);
            assertTrue(streamed.value("ferry_writer_batch_size_sum", "source=meter") >= 2_600);

            HttpResponse<String> healthy = get(pipeline, "/health");
            assertEquals(200, healthy.statusCode(), healthy.body());
            assertEquals("{\"status\":\"up\",\"checks\":{\"ingest\":{\"status\":\"up\"},\"writer\":{\"status\":\"up\"},"
                    + "\"postgres\":{\"status\":\"up\"}}}\n", healthy.body());

            pipeline.killWriter();
            HttpResponse<String> down = get(pipeline, "/health");
            assertEquals(503, down.statusCode());
            assertTrue(down.body().startsWith("{\"status\":\"down\",\"failing\":[\"writer\"]"), down.body());
            assertTrue(down.body().contains("\"writer\":{\"status\":\"down\",\"reason\":\"not running\"}"), down.body());
        }
    }
}
