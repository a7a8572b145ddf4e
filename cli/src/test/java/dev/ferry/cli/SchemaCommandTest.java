package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.testkit.PostgresTestDatabase;
import dev.ferry.testkit.SqliteTestDatabase;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ferry schema prints the DDL the writer runs, runnable as it is, and a report of every lossy decision. */
class SchemaCommandTest {

    @TempDir
    Path dir;

    private static String[] ferry(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Ferry.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void printsTablesIndexesConstraintsAndTheReport() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "library.db", SchemaTranslationTest.LIBRARY);
        db.execute("CREATE TABLE loose (a, b MONEY)");
        String[] run = ferry("schema", "--sqlite", db.path().toString(), "--target-schema", "lib", "--type-override", "loose.a=jsonb");
        assertEquals("0", run[0], run[2]);
        String out = run[1];
        assertTrue(out.contains("CREATE TABLE IF NOT EXISTS \"lib\".\"authors\" (\"id\" bigint NOT NULL, \"name\" citext NOT NULL, \"email\" text,"
                + " \"born\" date DEFAULT '1970-01-01'::date, PRIMARY KEY (\"id\"));"), out);
        assertTrue(out.contains("\"added_at\" timestamptz DEFAULT CURRENT_TIMESTAMP"), out);
        assertTrue(out.contains("ALTER TABLE \"lib\".\"books\" ALTER COLUMN \"pages\" SET DEFAULT (10 * 2);"), out);
        assertTrue(out.contains("CREATE UNIQUE INDEX IF NOT EXISTS \"books_author_title\" ON \"lib\".\"books\" (\"author_id\", \"title\" DESC);"), out);
        assertTrue(out.contains("CREATE INDEX IF NOT EXISTS \"books_published\" ON \"lib\".\"books\" (\"added_at\") WHERE \"status\" = 'published';"), out);
        assertTrue(out.contains("ALTER TABLE \"lib\".\"books\" ADD CONSTRAINT \"books_author_id_fkey\" FOREIGN KEY (\"author_id\")"
                + " REFERENCES \"lib\".\"authors\" (\"id\") ON DELETE CASCADE NOT VALID;"), out);
        assertFalse(out.contains("books_odd\" ON"), "the GLOB index is reported, not printed");
        assertTrue(out.indexOf("CREATE TABLE") < out.indexOf("CREATE UNIQUE INDEX") && out.indexOf("CREATE UNIQUE INDEX") < out.indexOf("FOREIGN KEY"),
                "tables, then indexes, then foreign keys");
        for (String reported : new String[] {
                "books.stamp: DEFAULT strftime('%s','now') not carried",
                "books.local: DEFAULT datetime('now','localtime') not carried",
                "books.note: DEFAULT 'null' is the text 'null', not NULL",
                "books.index books_odd: not created: partial index WHERE title GLOB 'A*'",
                "books.CHECK (title NOT LIKE '%test%'): not created",
                "authors.name: COLLATE NOCASE: citext",
                "loose: no primary key",
                "loose.a: type override: jsonb instead of text",
                "loose.b: declared type MONEY matches no rule: text (fallback)"}) {
            assertTrue(out.contains("--   " + reported), reported + " in\n" + out);
        }
        try (PostgresTestDatabase pg = PostgresTestDatabase.create(); Connection c = pg.connect(); Statement st = c.createStatement()) {
            st.execute(out);
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_indexes WHERE schemaname = 'lib' AND indexname NOT LIKE '%pkey'")) {
                rs.next();
                assertEquals(5, rs.getInt(1), "the printed DDL runs as it is");
            }
        }
    }

    @Test
    void hasHelp() {
        String[] run = ferry("schema", "--help");
        assertEquals("0", run[0]);
        assertTrue(run[1].contains("Usage: ferry schema"), run[1]);
    }
}
