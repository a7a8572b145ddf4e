package dev.ferry.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.testkit.KafkaAndPostgres;
import dev.ferry.testkit.SqliteTestDatabase;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ferry status --json}, {@code --watch} and the state column against the real broker, PostgreSQL and SQLite:
 * the JSON parses (Jackson) and holds the numbers, the states follow replication, the watch refreshes and stops.
 */
class StatusCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();

    @TempDir
    Path dir;

    // Broker and database are shared: each test replicates its own source into its own schema.
    String source = "shop";
    String schema = "public";

    private String[] statusArgs(SqliteTestDatabase db, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("status", "--sqlite", db.path().toString(), "--postgres", infra.pg().jdbcUrl(),
                "--data-dir", dir.resolve("state").toString(), "--source-name", source, "--target-schema", schema));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    private JsonNode statusJson(SqliteTestDatabase db, String... more) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of(more));
        args.add("--json");
        FerryCommandTest.Run run = FerryCommandTest.ferry(statusArgs(db, args.toArray(String[]::new)));
        assertEquals(0, run.exitCode(), run.err());
        assertEquals(1, run.out().lines().count(), "one JSON object on one line: " + run.out());
        return JSON.readTree(run.out());
    }

    private static JsonNode table(JsonNode status, String name) {
        for (JsonNode t : status.get("tables")) {
            if (t.get("table").asText().equals(name)) {
                return t;
            }
        }
        throw new AssertionError("no table " + name + " in " + status);
    }

    private Pipeline pipeline(SqliteTestDatabase db, String include) {
        return new Pipeline(new Pipeline.Options(db.path(), infra.pg().jdbcUrl(), dir.resolve("state"), source, infra.broker().bootstrapServers(), "ferry",
                schema, 1, false, Map.of("tables.include", include)));
    }

    @Test
    void jsonHoldsTheNumbersAndTheStatesFollowReplication() throws Exception {
        // A table name that needs escaping in JSON, left out of the capture by --tables.
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "shop.db",
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)", "INSERT INTO orders VALUES (1, 9.5), (2, 10), (3, 0)",
                "CREATE TABLE \"say \"\"hi\"\"\\now\" (id INTEGER PRIMARY KEY)", "INSERT INTO \"say \"\"hi\"\"\\now\" VALUES (1)");
        String odd = "say \"hi\"\\now";

        JsonNode before = statusJson(db, "--bootstrap-servers", infra.broker().bootstrapServers());
        assertEquals("not captured", before.get("state").asText(), before.toString());
        assertFalse(before.get("captured").asBoolean());
        assertEquals(3, table(before, "orders").get("rows_sqlite").asLong());
        assertTrue(table(before, "orders").get("rows_postgres").isNull(), "no target table yet");
        assertTrue(table(before, "orders").get("backlog").isNull(), "no changelog yet");
        assertTrue(table(before, "orders").get("lag_records").isNull(), "no writer offsets in PostgreSQL yet");
        assertEquals("not captured", table(before, "orders").get("state").asText());

        try (Pipeline pipeline = pipeline(db, "orders")) {
            pipeline.start();
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            // The ingest stores its stream position (committed_seq) within about a second of the snapshot's end.
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).until(
                    () -> statusJson(db).get("state").asText().equals("caught up"));
            JsonNode caughtUp = statusJson(db);
            assertEquals("shop", caughtUp.get("source").asText());
            assertTrue(caughtUp.get("captured").asBoolean());
            assertEquals(infra.broker().bootstrapServers(), caughtUp.get("kafka").asText(), "found through --data-dir");
            assertEquals(2, caughtUp.get("tables").size());
            JsonNode orders = table(caughtUp, "orders");
            assertEquals(3, orders.get("rows_sqlite").asLong());
            assertEquals(3, orders.get("rows_postgres").asLong());
            assertEquals(0, orders.get("backlog").asLong());
            assertEquals(0, orders.get("lag_records").asLong());
            assertEquals("caught up", orders.get("state").asText());
            JsonNode skipped = table(caughtUp, odd);
            assertEquals(1, skipped.get("rows_sqlite").asLong());
            assertTrue(skipped.get("rows_postgres").isNull(), skipped.toString());
            assertEquals("not captured", skipped.get("state").asText());

            // The writer stops: two new rows reach Kafka but not PostgreSQL.
            pipeline.stopWriter();
            db.execute("INSERT INTO orders VALUES (4, 1)", "INSERT INTO orders VALUES (5, 2)");
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).until(
                    () -> table(statusJson(db), "orders").get("lag_records").asLong() == 2);
            JsonNode behind = statusJson(db);
            orders = table(behind, "orders");
            assertEquals(5, orders.get("rows_sqlite").asLong());
            assertEquals(3, orders.get("rows_postgres").asLong());
            assertEquals(0, orders.get("backlog").asLong());
            assertEquals("streaming", orders.get("state").asText());
            assertEquals("streaming", behind.get("state").asText());

            FerryCommandTest.Run table = FerryCommandTest.ferry(statusArgs(db));
            assertEquals(0, table.exitCode(), table.err());
            String line = table.out().lines().filter(l -> l.startsWith("orders")).findFirst().orElseThrow();
            assertEquals(List.of("orders", "5", "3", "0", "2", "streaming"), List.of(line.trim().split("\\s+")), table.out());
            assertTrue(table.out().contains("state: streaming"), table.out());

            // Kafka unreachable: the lag is unknown (null), the rest is still there.
            JsonNode noKafka = statusJson(db, "--bootstrap-servers", "127.0.0.1:1");
            orders = table(noKafka, "orders");
            assertTrue(orders.get("lag_records").isNull(), orders.toString());
            assertTrue(noKafka.get("kafka").isNull());
            assertEquals(5, orders.get("rows_sqlite").asLong());
            assertEquals("lag unknown", orders.get("state").asText());
            assertEquals("lag unknown", noKafka.get("state").asText());

            pipeline.startWriter();
            pipeline.awaitCaughtUp(Duration.ofMinutes(1));
            JsonNode again = statusJson(db);
            assertEquals(5, table(again, "orders").get("rows_postgres").asLong());
            assertEquals("caught up", again.get("state").asText());
        }
    }

    @Test
    void watchRefreshesUntilStoppedAndCountStopsAfterNRefreshes() throws Exception {
        source = "watched";
        schema = "watched";
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "shop.db",
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)", "INSERT INTO orders VALUES (1, 9.5)");
        try (Pipeline pipeline = pipeline(db, ".*")) {
            pipeline.start();
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));

            // --watch 1 runs until stopped (Ctrl-C; here an interrupt), printing one table per refresh.
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            AtomicInteger exit = new AtomicInteger(-1);
            Thread watch = new Thread(() -> exit.set(Ferry.run(new PrintWriter(out, true), new PrintWriter(err, true),
                    statusArgs(db, "--watch", "1"))), "status-watch");
            watch.start();
            Thread.sleep(2500);
            watch.interrupt();
            watch.join(15_000);
            assertFalse(watch.isAlive(), "the watch stops when interrupted");
            assertEquals(0, exit.get(), err.toString());
            long tables = out.toString().lines().filter(l -> l.startsWith("table ")).count();
            assertTrue(tables >= 2, "at least 2 refreshes in 2.5 s:\n" + out);
            assertEquals(tables, out.toString().lines().filter(l -> l.startsWith("orders ")).count(), out.toString());
            assertFalse(out.toString().contains("\033["), "no ANSI escapes when not on a terminal");

            // --count N stops by itself; with --json one object per line.
            long start = System.nanoTime();
            FerryCommandTest.Run counted = FerryCommandTest.ferry(statusArgs(db, "--watch", "1", "--count", "3", "--json"));
            assertEquals(0, counted.exitCode(), counted.err());
            List<String> lines = counted.out().lines().toList();
            assertEquals(3, lines.size(), counted.out());
            for (String line : lines) {
                JsonNode status = JSON.readTree(line);
                assertEquals(1, table(status, "orders").get("rows_postgres").asLong());
            }
            assertTrue(System.nanoTime() - start >= Duration.ofSeconds(2).toNanos(), "waits between refreshes");

            // --count alone implies --watch; bad values are usage errors.
            FerryCommandTest.Run once = FerryCommandTest.ferry(statusArgs(db, "--count", "1"));
            assertEquals(0, once.exitCode(), once.err());
            assertEquals(1, once.out().lines().filter(l -> l.startsWith("table ")).count(), once.out());
            FerryCommandTest.Run zero = FerryCommandTest.ferry(statusArgs(db, "--watch", "0"));
            assertEquals(2, zero.exitCode());
            assertTrue(zero.err().contains("--watch"), zero.err());
        }
    }
}
