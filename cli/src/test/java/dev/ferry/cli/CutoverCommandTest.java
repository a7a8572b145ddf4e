package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.testkit.KafkaAndPostgres;
import dev.ferry.testkit.SqliteTestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ferry cutover} against the real broker, PostgreSQL and SQLite: INTEGER PRIMARY KEY columns become identities
 * whose sequences continue after SQLite's ids (AUTOINCREMENT's sqlite_sequence included), and every NOT VALID
 * constraint is validated on its own, its failure reported.
 */
class CutoverCommandTest {

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();

    @TempDir
    Path dir;

    private String[] cutoverArgs(SqliteTestDatabase db, String source, String schema, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("cutover", "--sqlite", db.path().toString(), "--postgres", infra.pg().jdbcUrl(),
                "--data-dir", dir.resolve("state").toString(), "--source-name", source, "--target-schema", schema));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    private Pipeline pipeline(SqliteTestDatabase db, String source, String schema) {
        return new Pipeline(new Pipeline.Options(db.path(), infra.pg().jdbcUrl(), dir.resolve("state"), source,
                infra.broker().bootstrapServers(), "ferry", schema, 1, false, Map.of()));
    }

    private static long insertWithoutId(Connection pg, String sql) throws Exception {
        try (Statement st = pg.createStatement(); ResultSet rs = st.executeQuery(sql + " RETURNING id")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void sequencesContinueAfterSqlitesIdsAndEachForeignKeyIsValidatedOrReported() throws Exception {
        String schema = "cutover_ok";
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "app.db",
                "CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL)",
                "CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors(id), title TEXT)",
                "CREATE TABLE reviews (id INTEGER PRIMARY KEY, book_id INTEGER REFERENCES books(id), stars INTEGER)",
                "CREATE TABLE tags (name TEXT PRIMARY KEY)",
                "INSERT INTO authors (name) VALUES ('a1'), ('a2'), ('a3'), ('a4'), ('a5')",
                // SQLite does not enforce foreign keys unless asked: book 3 names an author that never existed.
                "INSERT INTO books VALUES (1, 1, 'b1'), (2, 2, 'b2'), (3, 99, 'orphan')",
                "INSERT INTO reviews VALUES (1, 1, 5), (2, 2, 4)",
                "INSERT INTO tags VALUES ('x')");
        try (Pipeline pipeline = pipeline(db, "cut", schema)) {
            pipeline.start();
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            // While streaming: the highest ids are deleted, so sqlite_sequence (7) is above max(id) (3).
            db.execute("INSERT INTO authors (name) VALUES ('a6'), ('a7')", "DELETE FROM authors WHERE id > 3",
                    "INSERT INTO books VALUES (10, 1, 'b10')");
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            try (Connection sqlite = db.connect(); Statement st = sqlite.createStatement();
                 ResultSet rs = st.executeQuery("SELECT seq FROM sqlite_sequence WHERE name = 'authors'")) {
                rs.next();
                assertEquals(7, rs.getLong(1));
            }

            FerryCommandTest.Run run = FerryCommandTest.ferry(cutoverArgs(db, "cut", schema, "--timeout", "60"));
            assertEquals(1, run.exitCode(), "a foreign key that does not hold fails the cutover: " + run.out() + run.err());
            String out = run.out();
            assertTrue(out.contains("caught up: yes"), out);
            assertTrue(out.contains("sequences: 3 column(s)"), out);
            assertTrue(out.contains("\"" + schema + "\".\"authors\".\"id\": next id 8"), out);
            assertTrue(out.contains("\"" + schema + "\".\"books\".\"id\": next id 11"), out);
            assertTrue(out.contains("\"" + schema + "\".\"reviews\".\"id\": next id 3"), out);
            assertTrue(out.contains("constraints validated: 2"), out);
            String books = out.lines().filter(l -> l.contains("foreign key") && l.contains("books")).findFirst().orElseThrow();
            assertTrue(books.contains("FAILED") && books.contains("author_id"), books);
            String reviews = out.lines().filter(l -> l.contains("foreign key") && l.contains("reviews")).findFirst().orElseThrow();
            assertTrue(reviews.contains(": valid"), reviews);
            assertTrue(out.contains("cutover FAILED"), out);

            try (Connection pg = infra.pg().connect()) {
                assertEquals(8, insertWithoutId(pg, "INSERT INTO " + schema + ".authors (name) VALUES ('after cutover')"),
                        "AUTOINCREMENT never reuses an id: sqlite_sequence + 1, not max(id) + 1");
                assertEquals(11, insertWithoutId(pg, "INSERT INTO " + schema + ".books (author_id, title) VALUES (1, 'new')"));
                try (Statement st = pg.createStatement(); ResultSet rs = st.executeQuery(
                        "SELECT conname, convalidated FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
                                + " WHERE n.nspname = '" + schema + "' AND contype = 'f' ORDER BY conrelid::regclass::text")) {
                    rs.next();
                    assertEquals(false, rs.getBoolean(2), "books' key stays NOT VALID: " + rs.getString(1));
                    rs.next();
                    assertEquals(true, rs.getBoolean(2), "reviews' key is validated: " + rs.getString(1));
                }
            }

            // Once the orphan is fixed, cutover again: every step succeeds, and the sequences do not go back.
            db.execute("UPDATE books SET author_id = 1 WHERE id = 3");
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            FerryCommandTest.Run again = FerryCommandTest.ferry(cutoverArgs(db, "cut", schema));
            assertEquals(0, again.exitCode(), again.out() + again.err());
            assertTrue(again.out().contains("constraints validated: 1"), again.out());
            assertTrue(again.out().contains("\"" + schema + "\".\"authors\".\"id\": next id 9"), again.out());
            assertTrue(again.out().contains("cutover done"), again.out());
        }
    }

    @Test
    void indexesAndConstraintsPostgresLacksAreListed() throws Exception {
        String schema = "cutover_gaps";
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "gaps.db",
                "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
                // SQLite takes a foreign key to a table that does not exist; the writer's key waits for it for ever.
                "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), ghost_id INTEGER REFERENCES ghost(id),"
                        + " body TEXT CHECK (length(body) < 100))",
                "CREATE INDEX child_body ON child (body)",
                "INSERT INTO parent VALUES (1)", "INSERT INTO child VALUES (1, 1, 7, 'x')");
        try (Pipeline pipeline = pipeline(db, "gaps", schema)) {
            pipeline.start().awaitCaughtUp(Duration.ofMinutes(2));

            FerryCommandTest.Run run = FerryCommandTest.ferry(cutoverArgs(db, "gaps", schema));
            assertEquals(0, run.exitCode(), "a missing constraint is reported, not a failure: " + run.out() + run.err());
            assertTrue(run.out().contains("schema: 2 table(s), 1 index(es), 1 foreign key(s), 1 check(s) in PostgreSQL; missing: 1"), run.out());
            assertTrue(run.out().contains("foreign key \"child_ghost_id_fkey\" of \"" + schema + "\".\"child\": not in PostgreSQL (its parent table \""
                    + schema + "\".\"ghost\" is not there)"), run.out());
            assertTrue(run.out().contains("cutover done, 1 index(es) or constraint(s) missing in PostgreSQL"), run.out());

            // An index PostgreSQL lost (or never built: the writer reports and goes on) is listed too.
            try (Connection pg = infra.pg().connect(); Statement st = pg.createStatement()) {
                st.execute("DROP INDEX " + schema + ".child_body");
            }
            FerryCommandTest.Run again = FerryCommandTest.ferry(cutoverArgs(db, "gaps", schema));
            assertEquals(0, again.exitCode(), again.out() + again.err());
            assertTrue(again.out().contains("schema: 2 table(s), 0 index(es), 1 foreign key(s), 1 check(s) in PostgreSQL; missing: 2"), again.out());
            assertTrue(again.out().contains("index \"child_body\" of \"" + schema + "\".\"child\": not in PostgreSQL"), again.out());
        }
    }

    @Test
    void aPipelineThatIsNotCaughtUpChangesNothing() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "never.db", "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT)",
                "INSERT INTO t DEFAULT VALUES");
        FerryCommandTest.Run run = FerryCommandTest.ferry(cutoverArgs(db, "never", "cutover_never", "--timeout", "0",
                "--bootstrap-servers", infra.broker().bootstrapServers()));
        assertEquals(1, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("caught up: NO") && run.out().contains("not captured"), run.out());
        assertTrue(run.out().contains("nothing was changed"), run.out());

        FerryCommandTest.Run usage = FerryCommandTest.ferry(cutoverArgs(db, "never", "cutover_never", "--timeout", "-1"));
        assertEquals(2, usage.exitCode(), usage.out() + usage.err());
    }
}
