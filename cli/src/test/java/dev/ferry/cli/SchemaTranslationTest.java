package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.testkit.KafkaAndPostgres;
import dev.ferry.testkit.SqliteTestDatabase;
import dev.ferry.testkit.TableComparison;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Defaults, collations, indexes, foreign keys and CHECK constraints reach PostgreSQL as docs/type-mapping.md says. */
class SchemaTranslationTest {

    /** A schema with a case of every kind; ferry schema's test reads it too. */
    static final String[] LIBRARY = {
            "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL COLLATE NOCASE UNIQUE, email TEXT,"
                    + " born DATE DEFAULT '1970-01-01')",
            "CREATE TABLE books (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                    + " author_id INTEGER NOT NULL REFERENCES authors(id) ON DELETE CASCADE,"
                    + " title TEXT NOT NULL DEFAULT 'untitled',"
                    + " \"Price [EUR]\" NUMERIC DEFAULT 9.99 CHECK (\"Price [EUR]\" >= 0),"
                    + " pages INTEGER DEFAULT (10 * 2),"
                    + " added_at DATETIME DEFAULT CURRENT_TIMESTAMP,"
                    + " added_on TEXT DEFAULT CURRENT_DATE,"
                    + " stamp INTEGER DEFAULT (strftime('%s','now')),"
                    + " local DATETIME DEFAULT (datetime('now','localtime')),"
                    + " note TEXT DEFAULT 'null',"
                    + " flag BOOLEAN DEFAULT TRUE,"
                    + " raw BLOB DEFAULT x'00ff',"
                    + " status TEXT DEFAULT 'draft' CHECK (status IN ('draft', 'published')),"
                    + " CONSTRAINT title_not_empty CHECK (length(title) > 0),"
                    + " CHECK (title NOT LIKE '%test%'))",
            "CREATE UNIQUE INDEX books_author_title ON books(author_id, title DESC)",
            "CREATE INDEX books_published ON books(added_at) WHERE status = 'published'",
            "CREATE INDEX books_lower_title ON books(lower(title))",
            "CREATE INDEX books_odd ON books(title) WHERE title GLOB 'A*'",
            "CREATE INDEX authors_email_nocase ON authors(email COLLATE NOCASE)"};

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();

    @TempDir
    Path dir;

    static SqliteTestDatabase library(Path dir) throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "library.db", LIBRARY);
        db.insert("INSERT INTO authors (id, name, email) VALUES (?, ?, ?)",
                IntStream.range(1, 51).mapToObj(i -> new Object[] {i, "Author " + i, "a" + i + "@example.com"}).toList());
        db.insert("INSERT INTO books (author_id, title, status) VALUES (?, ?, ?)",
                IntStream.range(0, 500).mapToObj(i -> new Object[] {1 + i % 50, "Book " + i, i % 3 == 0 ? "published" : "draft"}).toList());
        return db;
    }

    @Test
    void constraintsAndIndexesArriveAfterTheSnapshotAndReplicationStaysIdentical() throws Exception {
        SqliteTestDatabase db = library(dir);
        try (Pipeline p = new Pipeline(new Pipeline.Options(db.path(), infra.pg().jdbcUrl(), dir.resolve("state"), "lib", infra.broker().bootstrapServers(),
                "ferry", "lib", 1, false, Map.of()))) {
            p.start().awaitCaughtUp(Duration.ofMinutes(2));
            try (Connection c = infra.pg().connect()) {
                Map<String, String> defaults = columnDefaults(c, "books");
                assertEquals("'untitled'::text", defaults.get("title"));
                assertEquals("9.99", defaults.get("Price [EUR]").replace("'", "").replace("::numeric", ""));
                assertEquals("(10 * 2)", defaults.get("pages"));
                assertEquals("CURRENT_TIMESTAMP", defaults.get("added_at"));
                assertTrue(defaults.get("added_on").startsWith("to_char("), defaults.get("added_on"));
                assertEquals("'null'::text", defaults.get("note"), "the text 'null', as in SQLite");
                assertEquals("true", defaults.get("flag"));
                assertEquals("'\\x00ff'::bytea", defaults.get("raw"));
                assertEquals(null, defaults.get("stamp"), "strftime() is not carried");
                assertEquals(null, defaults.get("local"), "datetime('now','localtime') is not carried");
                assertEquals("'1970-01-01'::date", columnDefaults(c, "authors").get("born"));
                assertEquals("citext", single(c, "SELECT udt_name FROM information_schema.columns WHERE table_schema = 'lib'"
                        + " AND table_name = 'authors' AND column_name = 'name'"));

                Map<String, String> indexes = new HashMap<>();
                try (ResultSet rs = c.createStatement().executeQuery("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'lib'")) {
                    while (rs.next()) {
                        indexes.put(rs.getString(1), rs.getString(2));
                    }
                }
                assertTrue(indexes.get("books_author_title").startsWith("CREATE UNIQUE INDEX"), indexes.toString());
                assertTrue(indexes.get("books_author_title").endsWith("(author_id, title DESC)"), indexes.toString());
                assertTrue(indexes.get("books_published").endsWith("WHERE (status = 'published'::text)"), indexes.toString());
                assertTrue(indexes.get("books_lower_title").endsWith("(lower(title))"), indexes.toString());
                assertTrue(indexes.get("authors_email_nocase").endsWith("(lower(email))"), indexes.toString());
                assertTrue(indexes.get("sqlite_autoindex_authors_1").startsWith("CREATE UNIQUE INDEX"), indexes.toString());
                assertFalse(indexes.containsKey("books_odd"), "GLOB is not translated: the index is reported, not created");

                assertEquals("f", single(c, "SELECT convalidated::text FROM pg_constraint WHERE conname = 'books_author_id_fkey'"
                        + " AND contype = 'f' AND confrelid = 'lib.authors'::regclass AND confdeltype = 'c'").substring(0, 1));
                assertEquals("3", single(c, "SELECT count(*) FROM pg_constraint WHERE conrelid = 'lib.books'::regclass"
                        + " AND contype = 'c' AND NOT convalidated"), "the >= 0, IN and length() checks; NOT LIKE is reported");

                // Built after the bulk load: each index's catalog row is from a transaction no older than the last snapshot row's.
                for (String table : new String[] {"authors", "books"}) {
                    String newestRow = single(c, "SELECT max(xmin::text::bigint) FROM lib." + table);
                    try (PreparedStatement ps = c.prepareStatement("SELECT relname, xmin::text::bigint FROM pg_class"
                            + " WHERE relkind = 'i' AND relnamespace = 'lib'::regnamespace AND relname NOT LIKE '\\_ferry\\_pk\\_%'"
                            + " AND oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = ?::regclass)")) {
                        ps.setString(1, "lib." + table);
                        try (ResultSet rs = ps.executeQuery()) {
                            int seen = 0;
                            while (rs.next()) {
                                seen++;
                                assertTrue(rs.getLong(2) >= Long.parseLong(newestRow), rs.getString(1) + " was built before the last row of " + table);
                            }
                            assertEquals(table.equals("books") ? 3 : 2, seen);
                        }
                    }
                }
            }
            // Streaming with the constraints in place: a child written with its new parent, updates, deletes.
            db.execute("INSERT INTO authors (id, name) VALUES (100, 'New Author')",
                    "INSERT INTO books (author_id, title, status) VALUES (100, 'Fresh', 'published')",
                    "UPDATE books SET status = 'published' WHERE id < 20", "DELETE FROM books WHERE id BETWEEN 100 AND 110",
                    "UPDATE authors SET name = 'AUTHOR 1 renamed' WHERE id = 1");
            p.awaitCaughtUp(Duration.ofMinutes(2));
            TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), "lib");
            assertEquals(0L, p.writer().deadLetters(), "no row was refused by a constraint");
        }
    }

    private static Map<String, String> columnDefaults(Connection c, String table) throws Exception {
        Map<String, String> defaults = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT column_name, column_default FROM information_schema.columns"
                + " WHERE table_schema = 'lib' AND table_name = ?")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    defaults.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        return defaults;
    }

    private static String single(Connection c, String sql) throws Exception {
        try (ResultSet rs = c.createStatement().executeQuery(sql)) {
            assertTrue(rs.next(), sql);
            return rs.getString(1);
        }
    }
}
