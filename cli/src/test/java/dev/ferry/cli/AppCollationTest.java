package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.testkit.KafkaAndPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file whose schema names a collation the application registers itself (Android's LOCALIZED, here a case-insensitive
 * one) is read with a stand-in: without it SQLite refused every statement touching such a column or index, and ferry
 * read nothing. Rows keyed by such a column are looked up exactly, so a key whose case changes arrives changed.
 */
class AppCollationTest {

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();

    @TempDir
    Path dir;

    /** The application's connection: it has the collation. */
    private static Connection app(Path file) throws Exception {
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
        org.sqlite.Collation.create(c, "LOCALIZED", new org.sqlite.Collation() {
            @Override
            protected int xCompare(String a, String b) {
                return a.toLowerCase(Locale.ROOT).compareTo(b.toLowerCase(Locale.ROOT));
            }
        });
        return c;
    }

    private static void execute(Path file, String... sql) throws Exception {
        try (Connection c = app(file); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    private static List<String> sqliteRows(Path file, String sql) throws Exception {
        try (Connection c = app(file)) {
            return rows(c, sql);
        }
    }

    private static List<String> pgRows(String sql) throws Exception {
        try (Connection c = infra.pg().connect()) {
            return rows(c, sql);
        }
    }

    private static List<String> rows(Connection c, String sql) throws Exception {
        List<String> rows = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    row.add(rs.getString(i));
                }
                rows.add(String.join("|", row));
            }
        }
        return rows;
    }

    @Test
    void tablesOfTheApplicationsOwnCollationArriveAndFollowChangesExactly() throws Exception {
        Path file = dir.resolve("android.db");
        execute(file,
                "CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT COLLATE LOCALIZED, phone TEXT)",
                "CREATE INDEX contacts_name ON contacts (name)",
                "CREATE TABLE tags (tag TEXT COLLATE LOCALIZED PRIMARY KEY, n INTEGER)");
        for (int i = 1; i <= 30; i++) {
            execute(file, "INSERT INTO contacts (name, phone) VALUES ('Name " + i + "', '555-" + i + "')",
                    "INSERT INTO tags VALUES ('tag" + i + "', " + i + ")");
        }
        String sqliteContacts = "SELECT id, name, phone FROM contacts ORDER BY id";
        String pgContacts = "SELECT id, name, phone FROM app.contacts ORDER BY id";
        String sqliteTags = "SELECT tag, n FROM tags ORDER BY n";
        String pgTags = "SELECT tag, n FROM app.tags ORDER BY n";
        try (Pipeline pipeline = new Pipeline(new Pipeline.Options(file, infra.pg().jdbcUrl(), dir.resolve("state"), "app",
                infra.broker().bootstrapServers(), "ferry", "app", 1, false, Map.of()))) {
            pipeline.start().awaitCaughtUp(Duration.ofMinutes(1));
            assertEquals(sqliteRows(file, sqliteContacts), pgRows(pgContacts));
            assertEquals(sqliteRows(file, sqliteTags), pgRows(pgTags));

            execute(file, "UPDATE contacts SET name = 'renamed' WHERE id = 3", "DELETE FROM contacts WHERE id = 4",
                    "INSERT INTO contacts (name, phone) VALUES ('new', '555-0')",
                    // A change of case only: one key to the application, two to ferry and PostgreSQL.
                    "UPDATE tags SET tag = 'TAG5' WHERE tag = 'tag5'", "UPDATE tags SET n = 100 WHERE tag = 'TAG7'",
                    "DELETE FROM tags WHERE tag = 'Tag9'", "INSERT INTO tags VALUES ('fresh', 31)");
            pipeline.awaitCaughtUp(Duration.ofMinutes(1));
            assertEquals(sqliteRows(file, sqliteContacts), pgRows(pgContacts));
            assertEquals(sqliteRows(file, sqliteTags), pgRows(pgTags));
            assertEquals(List.of("TAG5|5"), pgRows("SELECT tag, n FROM app.tags WHERE n = 5"));
            assertEquals(List.of("tag7|100"), pgRows("SELECT tag, n FROM app.tags WHERE tag = 'tag7'"));
            assertEquals(0, pipeline.writer().deadLetters());
        }
    }

    /**
     * A NOCASE key (citext in PostgreSQL) whose case alone changes. ferry looked the old key up under NOCASE, found the
     * renamed row, and so sent no delete: PostgreSQL kept {@code abc} where SQLite had {@code ABC}.
     */
    @Test
    void aNocaseKeyWhoseCaseChangesArrivesChanged() throws Exception {
        Path file = dir.resolve("nocase.db");
        execute(file, "CREATE TABLE t (k TEXT COLLATE NOCASE PRIMARY KEY, v TEXT)", "INSERT INTO t VALUES ('abc', 'one'), ('x', 'two')");
        try (Pipeline pipeline = new Pipeline(new Pipeline.Options(file, infra.pg().jdbcUrl(), dir.resolve("state2"), "nc",
                infra.broker().bootstrapServers(), "ferry", "nc", 1, false, Map.of()))) {
            pipeline.start().awaitCaughtUp(Duration.ofMinutes(1));
            execute(file, "UPDATE t SET k = 'ABC' WHERE k = 'abc'", "UPDATE t SET k = 'X', v = 'three' WHERE k = 'x'");
            pipeline.awaitCaughtUp(Duration.ofMinutes(1));
            assertEquals(List.of("ABC|one", "X|three"), sqliteRows(file, "SELECT k, v FROM t ORDER BY k COLLATE BINARY"));
            assertEquals(List.of("ABC|one", "X|three"), pgRows("SELECT k, v FROM nc.t ORDER BY k::text COLLATE \"C\""));
            assertEquals(0, pipeline.writer().deadLetters());
        }
    }
}
