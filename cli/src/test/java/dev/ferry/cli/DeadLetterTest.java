package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.broker.EmbeddedKafkaBroker;
import dev.ferry.testkit.PostgresTestDatabase;
import dev.ferry.testkit.SqliteTestDatabase;
import dev.ferry.testkit.TableComparison;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A row PostgreSQL refuses is set aside with its reason, listed, and written once the cause is fixed. */
class DeadLetterTest {

    @TempDir
    Path dir;

    @Test
    void aRefusedRowIsListedAndArrivesWhenRetriedAfterTheFix(@TempDir Path brokerDir) throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "shop.db", "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER)",
                "INSERT INTO items VALUES (1, 'pen', 5)");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(brokerDir); PostgresTestDatabase pg = PostgresTestDatabase.create();
             Pipeline pipeline = new Pipeline(new Pipeline.Options(db.path(), pg.jdbcUrl(), dir.resolve("state"), "shop",
                     broker.bootstrapServers(), "ferry", "public", 1, false, Map.of()))) {
            pipeline.start().awaitCaughtUp(Duration.ofMinutes(2));
            try (Connection c = pg.connect(); Statement st = c.createStatement()) {
                st.execute("ALTER TABLE items ADD CONSTRAINT small_qty CHECK (qty < 100)");
            }
            db.execute("INSERT INTO items VALUES (2, 'crate', 500)", "INSERT INTO items VALUES (3, 'ink', 7)");
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            assertEquals(1, pipeline.writer().deadLetters());

            String[] where = {"--sqlite", db.path().toString(), "--bootstrap-servers", broker.bootstrapServers()};
            FerryCommandTest.Run list = FerryCommandTest.ferry(concat(new String[] {"dlq", "list"}, where));
            assertEquals(0, list.exitCode(), list.err());
            List<String> lines = list.out().lines().toList();
            assertEquals(2, lines.size(), list.out());
            assertTrue(lines.get(0).contains("\titems\tid=2\t"), lines.get(0));
            assertTrue(lines.get(0).contains("small_qty"), "the reason names the constraint: " + lines.get(0));
            assertEquals("1 dead letter(s) not yet retried", lines.get(1));

            try (Connection c = pg.connect(); Statement st = c.createStatement()) {
                st.execute("ALTER TABLE items DROP CONSTRAINT small_qty");
            }
            FerryCommandTest.Run retry = FerryCommandTest.ferry(concat(new String[] {"dlq", "retry"}, where));
            assertEquals(0, retry.exitCode(), retry.err());
            assertTrue(retry.out().startsWith("1 row(s) queued"), retry.out());
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            TableComparison.assertIdentical(db.path(), pg.jdbcUrl(), "public");
            assertEquals(1, pipeline.writer().deadLetters(), "the retried row was written, not refused again");

            assertEquals("0 dead letter(s) not yet retried", FerryCommandTest.ferry(concat(new String[] {"dlq", "list"}, where)).out().trim());
            assertTrue(FerryCommandTest.ferry(concat(new String[] {"dlq", "list", "--all"}, where)).out().contains("1 dead letter(s)"));
        }
    }

    @Test
    void aRefusedRowWhoseTextKeyIsNotValidUtf8ArrivesWhenRetried(@TempDir Path brokerDir) throws Exception {
        // Such a key travels as its bytes, as a BLOB key would; the retry must ask SQLite which of the two the row has,
        // or it looks the row up as a BLOB, finds none, and the row is taken for deleted.
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "tags.db", "CREATE TABLE tags (name TEXT PRIMARY KEY, qty INTEGER)",
                "INSERT INTO tags VALUES ('ok', 1)");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(brokerDir); PostgresTestDatabase pg = PostgresTestDatabase.create();
             Pipeline pipeline = new Pipeline(new Pipeline.Options(db.path(), pg.jdbcUrl(), dir.resolve("state"), "tags",
                     broker.bootstrapServers(), "ferry", "public", 1, false, Map.of(), Map.of("tags.name", "bytea")))) {
            pipeline.start().awaitCaughtUp(Duration.ofMinutes(2));
            try (Connection c = pg.connect(); Statement st = c.createStatement()) {
                st.execute("ALTER TABLE tags ADD CONSTRAINT small_qty CHECK (qty < 100)");
            }
            db.execute("INSERT INTO tags VALUES (CAST(X'C328' AS TEXT), 500)");
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            assertEquals(1, pipeline.writer().deadLetters());
            try (Connection c = pg.connect(); Statement st = c.createStatement()) {
                st.execute("ALTER TABLE tags DROP CONSTRAINT small_qty");
            }
            String[] where = {"--sqlite", db.path().toString(), "--bootstrap-servers", broker.bootstrapServers()};
            FerryCommandTest.Run retry = FerryCommandTest.ferry(concat(new String[] {"dlq", "retry"}, where));
            assertEquals(0, retry.exitCode(), retry.err());
            assertTrue(retry.out().startsWith("1 row(s) queued"), retry.out());
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            try (Connection c = pg.connect(); Statement st = c.createStatement();
                 java.sql.ResultSet rs = st.executeQuery("SELECT qty FROM tags WHERE name = '\\xc328'::bytea")) {
                assertTrue(rs.next(), "the retried row is in PostgreSQL");
                assertEquals(500, rs.getInt(1));
            }
            assertEquals(1, pipeline.writer().deadLetters(), "the retried row was written, not refused again");
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
