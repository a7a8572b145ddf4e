package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.broker.EmbeddedKafkaBroker;
import dev.ferry.ingest.sqlite.ChangeCapture;
import dev.ferry.ingest.sqlite.SchemaReader;
import dev.ferry.testkit.PostgresTestDatabase;
import dev.ferry.testkit.SqliteTestDatabase;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ferry command as a script sees it: help texts, exit codes, and messages that name what is wrong. */
class FerryCommandTest {

    @TempDir
    Path dir;

    record Run(int exitCode, String out, String err) {
    }

    static Run ferry(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Ferry.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void everyCommandHasHelpAndExitsZero() {
        for (String command : List.of("up", "ingest", "write", "embed", "status", "uninstall", "demo", "dlq", "dlq list", "dlq retry")) {
            List<String> args = new ArrayList<>(List.of(command.split(" ")));
            args.add("--help");
            Run run = ferry(args.toArray(String[]::new));
            assertEquals(0, run.exitCode(), command);
            assertTrue(run.out().contains("Usage: ferry " + command), run.out());
        }
        Run top = ferry("--help");
        assertEquals(0, top.exitCode());
        assertTrue(top.out().contains("Exit codes"), top.out());
    }

    @Test
    void aMissingSqliteFileIsARunTimeFailureThatNamesTheFile() {
        Path missing = dir.resolve("nope.db");
        Run run = ferry("up", "--sqlite", missing.toString(), "--data-dir", dir.resolve("state").toString());
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains(missing + " does not exist"), run.err());
    }

    @Test
    void aFileThatIsNotADatabaseIsRefusedBeforeAnythingStarts() throws Exception {
        Path text = Files.writeString(dir.resolve("notes.db"), "these are my notes, not a database\n");
        Run run = ferry("up", "--sqlite", text.toString(), "--data-dir", dir.resolve("state").toString());
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("is not a SQLite database"), run.err());
        assertFalse(Files.exists(dir.resolve("state")), "nothing was started");
        assertEquals("these are my notes, not a database\n", Files.readString(text), "the file is untouched");
    }

    @Test
    void anUnreachableDatabaseIsNamedInTheMessage() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "app.db", "CREATE TABLE t (id INTEGER PRIMARY KEY)");
        Run run = ferry("up", "--sqlite", db.path().toString(), "--postgres", "jdbc:postgresql://127.0.0.1:1/nowhere?user=postgres",
                "--data-dir", dir.resolve("state").toString());
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("cannot connect to PostgreSQL at jdbc:postgresql://127.0.0.1:1/nowhere"), run.err());
    }

    @Test
    void badOptionValuesAreUsageErrorsThatNameTheOption() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "app.db", "CREATE TABLE t (id INTEGER PRIMARY KEY)");
        Run name = ferry("up", "--sqlite", db.path().toString(), "--source-name", "has space");
        assertEquals(2, name.exitCode());
        assertTrue(name.err().contains("--source-name 'has space'"), name.err());
        Run regex = ferry("up", "--sqlite", db.path().toString(), "--tables", "(unclosed");
        assertEquals(2, regex.exitCode());
        assertTrue(regex.err().contains("--tables '(unclosed'"), regex.err());
        Run unknown = ferry("up", "--sqlite", db.path().toString(), "--no-such-option");
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().contains("--no-such-option"), unknown.err());
    }

    @Test
    void uninstallLeavesTheFileAsItWasApartFromTheAppsData() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "app.db",
                "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", "CREATE TABLE \"odd name\" (a, b)", "INSERT INTO t VALUES (1, 'one')");
        List<String> schemaBefore = schema(db);
        String modeBefore = journalMode(db);
        try (Connection c = db.connect()) {
            ChangeCapture.install(c, SchemaReader.readTables(c, null));
        }
        db.execute("INSERT INTO t VALUES (2, 'two')");
        assertFalse(schema(db).equals(schemaBefore), "capture added triggers and tables");
        Run run = ferry("uninstall", "--sqlite", db.path().toString());
        assertEquals(0, run.exitCode(), run.err());
        assertEquals(schemaBefore, schema(db));
        assertEquals(modeBefore, journalMode(db));
        assertEquals(2, db.count("t"), "the application's rows are kept, including the one written while capture was on");
        Run again = ferry("uninstall", "--sqlite", db.path().toString());
        assertEquals(0, again.exitCode());
        assertTrue(again.out().contains("nothing to do"), again.out());
    }

    @Test
    void statusShowsRowsOnBothSidesAndTheLag(@TempDir Path brokerDir) throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "shop.db",
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)", "INSERT INTO orders VALUES (1, 9.5), (2, 10), (3, 0)");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(brokerDir); PostgresTestDatabase pg = PostgresTestDatabase.create();
             Pipeline pipeline = new Pipeline(new Pipeline.Options(db.path(), pg.jdbcUrl(), dir.resolve("state"), "shop",
                     broker.bootstrapServers(), "ferry", "public", 1, false, Map.of()))) {
            pipeline.start();
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            Run run = ferry("status", "--sqlite", db.path().toString(), "--postgres", pg.jdbcUrl(),
                    "--data-dir", dir.resolve("state").toString());
            assertEquals(0, run.exitCode(), run.err());
            String orders = run.out().lines().filter(l -> l.startsWith("orders")).findFirst().orElseThrow();
            assertEquals(List.of("orders", "3", "3", "0", "0"), List.of(orders.trim().split("\\s+")).subList(0, 5), run.out());
            assertTrue(orders.endsWith("caught up") || orders.endsWith("snapshot"), "state column: " + orders);
        }
    }

    @Test
    void upUntilCaughtUpCopiesEveryRowWithItsOwnBrokerAndExitsZero() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "notes.db",
                "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body BLOB, score REAL)",
                "CREATE TABLE tags (note INTEGER, tag TEXT, PRIMARY KEY (note, tag)) WITHOUT ROWID",
                "CREATE INDEX notes_title ON notes (title)");
        List<Object[]> notes = new ArrayList<>();
        List<Object[]> tags = new ArrayList<>();
        for (int i = 1; i <= 3000; i++) {
            notes.add(new Object[] {i, "note " + i + "\ttab", i % 7 == 0 ? null : new byte[] {(byte) i, 0, 1}, i / 3.0});
            tags.add(new Object[] {i, i % 2 == 0 ? "even" : "odd"});
        }
        db.insert("INSERT INTO notes VALUES (?, ?, ?, ?)", notes);
        db.insert("INSERT INTO tags VALUES (?, ?)", tags);
        try (PostgresTestDatabase pg = PostgresTestDatabase.create()) {
            Run run = ferry("up", "--sqlite", db.path().toString(), "--postgres", pg.jdbcUrl(), "--data-dir", dir.resolve("state").toString(),
                    "--metrics-port", "0", "--until-caught-up");
            assertEquals(0, run.exitCode(), run.err());
            dev.ferry.testkit.TableComparison.assertIdentical(db.path(), pg.jdbcUrl(), "public");
            try (Connection c = pg.connect(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
                         + " WHERE t.relname = 'notes' AND NOT i.indisprimary")) {
                rs.next();
                assertEquals(1, rs.getInt(1), "the index is built before ferry says it is caught up");
            }
        }
    }

    @Test
    void aTableFerryCannotKeyStopsUpWithExitOneAndNamesTheTable() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "hidden.db", "CREATE TABLE ok (id INTEGER PRIMARY KEY)",
                "CREATE TABLE \"no key\" (rowid, _rowid_, oid)");
        try (PostgresTestDatabase pg = PostgresTestDatabase.create()) {
            Run run = ferry("up", "--sqlite", db.path().toString(), "--postgres", pg.jdbcUrl(), "--data-dir", dir.resolve("state").toString(),
                    "--metrics-port", "0", "--until-caught-up");
            assertEquals(1, run.exitCode(), run.err());
            assertTrue(run.err().contains("table \"no key\" has no primary key and its columns hide every name of the rowid"), run.err());
        }
    }

    @Test
    void aBrokerThatCannotStartStopsUpWithExitOneAndLeavesNoIngestRunning() throws Exception {
        // The ingest starts while the broker starts: when the broker fails, the ingest must stop too, not run on.
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "b.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)",
                "INSERT INTO t VALUES (1, 'a')");
        Path state = Files.createDirectories(dir.resolve("state"));
        Files.writeString(state.resolve("kafka"), "a file where the broker's directory should be");
        try (PostgresTestDatabase pg = PostgresTestDatabase.create()) {
            Run run = ferry("up", "--sqlite", db.path().toString(), "--postgres", pg.jdbcUrl(), "--data-dir", state.toString(),
                    "--metrics-port", "0", "--until-caught-up");
            assertEquals(1, run.exitCode(), run.err());
            assertTrue(run.err().contains("Could not format Kafka log dir"), run.err());
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            while (Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.isAlive() && t.getName().equals("ferry-ingest"))) {
                assertTrue(System.nanoTime() < deadline, "the ingest engine still runs after ferry up failed");
                Thread.sleep(50);
            }
        }
    }

    private static List<String> schema(SqliteTestDatabase db) throws Exception {
        List<String> rows = new ArrayList<>();
        try (Connection c = db.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name")) {
            while (rs.next()) {
                rows.add(rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getString(3) + "|" + rs.getString(4));
            }
        }
        return rows;
    }

    private static String journalMode(SqliteTestDatabase db) throws Exception {
        try (Connection c = db.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("PRAGMA journal_mode")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
