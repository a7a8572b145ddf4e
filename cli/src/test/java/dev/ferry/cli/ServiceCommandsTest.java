package dev.ferry.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.testkit.AppWriter;
import dev.ferry.testkit.KafkaAndPostgres;
import dev.ferry.testkit.SqliteTestDatabase;
import dev.ferry.testkit.TableComparison;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ferry ingest} and {@code ferry write} as two separate services against an external broker, each with its endpoints. */
class ServiceCommandsTest {

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(ServiceRunner runner, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runner.metricsPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static <T> T parse(T command, String... args) {
        new CommandLine(command).parseArgs(args);
        return command;
    }

    @Test
    void ingestAndWriteRunAloneWithTheirOwnHealthAndMetricsAndReplicateEveryRow() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "shop.db", "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT, qty INTEGER)");
        db.insert("INSERT INTO orders VALUES (?, ?, ?)", IntStream.range(0, 3_000).mapToObj(i -> new Object[] {i, "item " + i, i % 5}).toList());
        String kafka = infra.broker().bootstrapServers();
        IngestCommand ingest = parse(new IngestCommand(), "--sqlite", db.path().toString(), "--data-dir", dir.resolve("state").toString(),
                "--source-name", "svc", "--bootstrap-servers", kafka, "--partitions", "3", "--metrics-port", "0", "--report-interval", "1");
        WriteCommand write = parse(new WriteCommand(), "--source-name", "svc", "--postgres", infra.pg().jdbcUrl(), "--target-schema", "svc",
                "--bootstrap-servers", kafka, "--metrics-port", "0", "--report-interval", "1");
        assertEquals(IngestCommand.DEFAULT_METRICS_PORT, parse(new IngestCommand(), "--sqlite", "a.db", "--bootstrap-servers", "x:1").service.metricsPort);
        assertEquals(WriteCommand.DEFAULT_METRICS_PORT, parse(new WriteCommand(), "--source-name", "a", "--bootstrap-servers", "x:1").service.metricsPort);

        ServiceRunner ingestRunner = ingest.runner();
        ServiceRunner writeRunner = write.runner();
        CountDownLatch stop = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try (AppWriter app = new AppWriter(db.path(), 7, 400, 2_000, (c, random, step) -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT OR REPLACE INTO orders VALUES (?, ?, ?)")) {
                ps.setLong(1, random.nextInt(4_000));
                ps.setString(2, "changed " + step);
                ps.setInt(3, random.nextInt(100));
                ps.executeUpdate();
            }
        })) {
            Future<Integer> writer = threads.submit(() -> writeRunner.run(write::create, stop));
            Future<Integer> ingester = threads.submit(() -> ingestRunner.run(ingest::create, stop));
            await().atMost(Duration.ofSeconds(60)).until(() -> ingestRunner.metricsPort() > 0 && writeRunner.metricsPort() > 0);
            await().atMost(Duration.ofSeconds(60)).until(() -> get(writeRunner, "/health/ready").statusCode() == 200
                    && get(ingestRunner, "/health/ready").statusCode() == 200);
            assertEquals("{\"status\":\"up\",\"checks\":{\"writer\":{\"status\":\"up\"},\"kafka\":{\"status\":\"up\"},"
                    + "\"postgres\":{\"status\":\"up\"}}}\n", get(writeRunner, "/health/ready").body());
            assertEquals("{\"status\":\"up\",\"checks\":{\"ingest\":{\"status\":\"up\"},\"kafka\":{\"status\":\"up\"},"
                    + "\"sqlite\":{\"status\":\"up\"}}}\n", get(ingestRunner, "/health").body());
            assertEquals("{\"status\":\"up\",\"checks\":{\"ingest\":{\"status\":\"up\"}}}\n", get(ingestRunner, "/health/live").body());

            app.start();
            app.join(120_000);
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                    .until(() -> TableComparison.compare(db.path(), "orders", infra.pg().jdbcUrl(), "svc").identical());
            TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), "svc");

            MetricsEndpointTest.Scrape ingestMetrics = new MetricsEndpointTest.Scrape(get(ingestRunner, "/metrics").body());
            assertTrue(ingestMetrics.value("ferry_ingest_records_total", "source=svc", "table=orders", "op=r") >= 3_000, ingestMetrics.body());
            MetricsEndpointTest.Scrape writerMetrics = new MetricsEndpointTest.Scrape(get(writeRunner, "/metrics").body());
            assertTrue(writerMetrics.value("ferry_writer_rows_total", "source=svc", "table=orders", "op=upsert") >= 3_000, writerMetrics.body());
            assertTrue(!writerMetrics.body().contains("ferry_ingest_records_total"), "each service serves its own meters only");

            stop.countDown();
            assertEquals(0, writer.get(60, TimeUnit.SECONDS));
            assertEquals(0, ingester.get(60, TimeUnit.SECONDS));
            assertThrows(ConnectException.class, () -> get(writeRunner, "/health/live"), "the endpoint closes with the service");
        } finally {
            stop.countDown();
            threads.shutdownNow();
        }
    }

    @Test
    void serviceCommandsNeedAKafkaClusterAndCheckTheirOptionsAsUpDoes() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "opts.db", "CREATE TABLE t (id INTEGER PRIMARY KEY)");
        FerryCommandTest.Run noKafka = FerryCommandTest.ferry("write", "--source-name", "svc");
        assertEquals(2, noKafka.exitCode());
        assertTrue(noKafka.err().contains("Missing required option: '--bootstrap-servers=HOST:PORT'"), noKafka.err());
        FerryCommandTest.Run badPartitions = FerryCommandTest.ferry("ingest", "--sqlite", db.path().toString(), "--bootstrap-servers",
                infra.broker().bootstrapServers(), "--partitions", "0");
        assertEquals(2, badPartitions.exitCode());
        assertTrue(badPartitions.err().contains("--partitions must be between 1 and 1024, not 0"), badPartitions.err());
        FerryCommandTest.Run badSource = FerryCommandTest.ferry("write", "--source-name", "a b", "--bootstrap-servers", "127.0.0.1:1");
        assertEquals(2, badSource.exitCode());
        assertTrue(badSource.err().contains("--source-name 'a b' must use only letters"), badSource.err());
        FerryCommandTest.Run missingFile = FerryCommandTest.ferry("ingest", "--sqlite", dir.resolve("nope.db").toString(),
                "--bootstrap-servers", infra.broker().bootstrapServers());
        assertEquals(1, missingFile.exitCode());
        assertTrue(missingFile.err().contains("nope.db does not exist"), missingFile.err());
        FerryCommandTest.Run noConfig = FerryCommandTest.ferry("embed", "--source-name", "kb", "--config", dir.resolve("none.yaml").toString(),
                "--bootstrap-servers", infra.broker().bootstrapServers());
        assertEquals(2, noConfig.exitCode());
        assertTrue(noConfig.err().contains("none.yaml: no such file"), noConfig.err());
        for (String command : new String[] {"ingest", "write", "embed"}) {
            FerryCommandTest.Run help = FerryCommandTest.ferry(command, "--help");
            assertEquals(0, help.exitCode());
            assertTrue(help.out().contains("--metrics-port=PORT"), help.out());
        }
    }
}
