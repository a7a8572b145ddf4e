package dev.ferry.ingest.sqlite;

import static dev.ferry.ingest.sqlite.CaptureFixture.changelog;
import static dev.ferry.ingest.sqlite.CaptureFixture.queryStrings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.testkit.SqliteTestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChangeCaptureTest {

    @TempDir
    Path dir;
    private SqliteTestDatabase db;

    @BeforeEach
    void createDatabase() throws SQLException {
        db = SqliteTestDatabase.create(dir, "app.db", CaptureFixture.DDL);
    }

    private void install() throws SQLException {
        try (Connection c = SqliteFile.open(db.path())) {
            ChangeCapture.install(c, SchemaReader.readTables(c, null));
        }
    }

    private List<List<String>> changelogRows() throws SQLException {
        try (Connection c = db.connect()) {
            return changelog(c);
        }
    }

    /** How the triggers log a text key: T'hex of its UTF-8 bytes' (quote() would cut it at a NUL). */
    private static String text(String value) {
        return "T'" + java.util.HexFormat.of().withUpperCase().formatHex(value.getBytes(java.nio.charset.StandardCharsets.UTF_8)) + "'";
    }

    private static List<String> row(String table, String op, String key) {
        return List.of(table, op, key);
    }

    @Test
    void integerPrimaryKeyTableLogsInsertUpdateKeyChangeAndDelete() throws SQLException {
        install();
        db.execute("INSERT INTO items (id, name, price) VALUES (1, 'pen', 1.5)",
                "INSERT INTO items (id, name, price) VALUES (-7, 'ink', NULL)",
                "UPDATE items SET name = 'blue pen' WHERE id = 1",
                "UPDATE items SET id = 5 WHERE id = 1",
                "DELETE FROM items WHERE id = 5");

        assertEquals(List.of(
                row("items", "c", "1"),
                row("items", "c", "-7"),
                row("items", "u", "1"),
                row("items", "d", "1"),
                row("items", "u", "5"),
                row("items", "d", "5")), changelogRows());
    }

    @Test
    void textKeyIsLoggedAsTheHexOfItsBytes() throws SQLException {
        install();
        db.execute("INSERT INTO users VALUES ('ann@example.com', 'Ann')",
                "INSERT INTO users VALUES ('o''neil, jr@example.com', 'O''Neil')",
                "UPDATE users SET name = 'Annie' WHERE email = 'ann@example.com'",
                "UPDATE users SET email = 'annie@example.com' WHERE email = 'ann@example.com'",
                "DELETE FROM users WHERE email = 'o''neil, jr@example.com'");

        assertEquals(List.of(
                row("users", "c", text("ann@example.com")),
                row("users", "c", text("o'neil, jr@example.com")),
                row("users", "u", text("ann@example.com")),
                row("users", "d", text("ann@example.com")),
                row("users", "u", text("annie@example.com")),
                row("users", "d", text("o'neil, jr@example.com"))), changelogRows());
    }

    @Test
    void compositeKeyIsLoggedInPrimaryKeyOrderNotColumnOrder() throws SQLException {
        install();
        db.execute("INSERT INTO order_lines VALUES ('acme', 7, 1)",
                "UPDATE order_lines SET qty = 2 WHERE id = 7",
                "UPDATE order_lines SET tenant = 'globex' WHERE id = 7",
                "DELETE FROM order_lines");

        assertEquals(List.of(
                row("order_lines", "c", "7,"+ text("acme")),
                row("order_lines", "u", "7,"+ text("acme")),
                row("order_lines", "d", "7,"+ text("acme")),
                row("order_lines", "u", "7,"+ text("globex")),
                row("order_lines", "d", "7,"+ text("globex"))), changelogRows());
    }

    @Test
    void withoutRowidTableWithBlobKeyLogsHexLiterals() throws SQLException {
        install();
        db.execute("INSERT INTO kv VALUES (X'00FF', 'a')",
                "INSERT INTO kv VALUES (X'', 'empty key')",
                "UPDATE kv SET v = 'b' WHERE k = X'00FF'",
                "UPDATE kv SET k = X'01' WHERE k = X'00FF'",
                "DELETE FROM kv WHERE k = X''");

        assertEquals(List.of(
                row("kv", "c", "X'00FF'"),
                row("kv", "c", "X''"),
                row("kv", "u", "X'00FF'"),
                row("kv", "d", "X'00FF'"),
                row("kv", "u", "X'01'"),
                row("kv", "d", "X''")), changelogRows());
    }

    @Test
    void tableWithoutPrimaryKeyIsLoggedByRowid() throws SQLException {
        install();
        db.execute("INSERT INTO log VALUES ('first', 1)",
                "INSERT INTO log VALUES ('second', 2)",
                "UPDATE log SET line = 'FIRST' WHERE at = 1",
                "DELETE FROM log WHERE at = 2");

        assertEquals(List.of(
                row("log", "c", "1"),
                row("log", "c", "2"),
                row("log", "u", "1"),
                row("log", "d", "2")), changelogRows());
    }

    @Test
    void reservedWordTableWithQuotedColumnNameIsCaptured() throws SQLException {
        install();
        db.execute("INSERT INTO \"select\" VALUES (1, 'one')",
                "UPDATE \"select\" SET \"Other Col\" = 'uno' WHERE \"weird \"\"col\"\"\" = 1",
                "UPDATE \"select\" SET \"weird \"\"col\"\"\" = 2",
                "DELETE FROM \"select\"");

        assertEquals(List.of(
                row("select", "c", "1"),
                row("select", "u", "1"),
                row("select", "d", "1"),
                row("select", "u", "2"),
                row("select", "d", "2")), changelogRows());
    }

    @Test
    void updateThatKeepsTheKeyLogsNoDelete() throws SQLException {
        install();
        db.execute("INSERT INTO items VALUES (1, 'pen', 1.5)",
                "UPDATE items SET id = 1, name = 'pen' WHERE id = 1");

        assertEquals(List.of(row("items", "c", "1"), row("items", "u", "1")), changelogRows());
    }

    @Test
    void aRolledBackWriteLeavesNoChangelogRow() throws SQLException {
        install();
        try (Connection app = db.connect()) {
            app.setAutoCommit(false);
            try (var st = app.createStatement()) {
                st.execute("INSERT INTO items VALUES (1, 'pen', 1.5)");
            }
            app.rollback();
        }
        db.execute("INSERT INTO items VALUES (2, 'ink', 2.5)");

        assertEquals(List.of(row("items", "c", "2")), changelogRows());
    }

    @Test
    void installSwitchesToWalAndIsIdempotent() throws SQLException {
        install();
        db.execute("INSERT INTO items VALUES (1, 'pen', 1.5)");
        install();
        db.execute("INSERT INTO items VALUES (2, 'ink', 2.5)");

        try (Connection c = db.connect()) {
            assertEquals(List.of("String:wal"), queryStrings(c, "PRAGMA journal_mode"));
            assertEquals(List.of("Integer:18"), queryStrings(c,
                    "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name LIKE '\\_ferry\\_%' ESCAPE '\\'"),
                    "three triggers for each of the six tables, not more after a second install");
            assertTrue(ChangeCapture.installed(c));
        }
        assertEquals(List.of(row("items", "c", "1"), row("items", "c", "2")), changelogRows(),
                "the changelog survives a second install and each write is logged once");
    }

    @Test
    void uninstallLeavesTheFileAsItWasBeforeInstall() throws SQLException {
        // A file of an application: its own index, view and trigger, rows in every table, rollback journal.
        db.execute("CREATE INDEX items_by_name ON items (name)",
                "CREATE VIEW cheap_items AS SELECT * FROM items WHERE price < 2",
                "CREATE TABLE audit (what TEXT)",
                "CREATE TRIGGER audit_items AFTER INSERT ON items BEGIN INSERT INTO audit VALUES ('item ' || NEW.id); END",
                "INSERT INTO items VALUES (1, 'pen', 1.5)",
                "INSERT INTO users VALUES ('ann@example.com', 'Ann')",
                "INSERT INTO order_lines VALUES ('acme', 7, 1)",
                "INSERT INTO kv VALUES (X'00FF', 1.25)",
                "INSERT INTO log VALUES ('first', 1)",
                "INSERT INTO \"select\" VALUES (1, 'one')");
        List<String> schemaBefore;
        List<String> modeBefore;
        List<String> dataBefore;
        try (Connection c = db.connect()) {
            schemaBefore = schema(c);
            modeBefore = queryStrings(c, "PRAGMA journal_mode");
            dataBefore = data(c);
        }
        assertEquals(List.of("String:delete"), modeBefore);

        install();
        try (Connection c = db.connect()) {
            assertFalse(schema(c).equals(schemaBefore), "install adds the changelog and triggers");
        }
        try (Connection c = SqliteFile.open(db.path())) {
            ChangeCapture.uninstall(c);
        }

        try (Connection c = db.connect()) {
            assertEquals(schemaBefore, schema(c), "sqlite_schema after uninstall");
            assertEquals(modeBefore, queryStrings(c, "PRAGMA journal_mode"), "journal mode after uninstall");
            assertEquals(dataBefore, data(c), "rows after uninstall");
            assertFalse(ChangeCapture.installed(c));
        }
        db.execute("INSERT INTO items VALUES (2, 'ink', 2.5)");
        try (Connection c = db.connect()) {
            assertEquals(List.of("String:item 1", "String:item 2"), queryStrings(c, "SELECT what FROM audit ORDER BY rowid"),
                    "the application's own trigger still fires");
        }
    }

    @Test
    void uninstallKeepsTheRowsWrittenWhileCaptureWasInstalled() throws SQLException {
        install();
        db.execute("INSERT INTO items VALUES (1, 'pen', 1.5)", "INSERT INTO kv VALUES (X'01', X'02')");
        List<String> dataBefore;
        try (Connection c = db.connect()) {
            dataBefore = data(c);
        }
        try (Connection c = SqliteFile.open(db.path())) {
            ChangeCapture.uninstall(c);
        }
        try (Connection c = db.connect()) {
            assertEquals(dataBefore, data(c));
        }
    }

    private static List<String> schema(Connection c) throws SQLException {
        return queryStrings(c, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name");
    }

    private static List<String> data(Connection c) throws SQLException {
        List<String> rows = new ArrayList<>();
        // The rowid too where there is one: uninstall must not renumber rows either.
        for (String select : List.of("SELECT rowid, * FROM items", "SELECT rowid, * FROM users", "SELECT rowid, * FROM order_lines",
                "SELECT * FROM kv", "SELECT rowid, * FROM log", "SELECT rowid, * FROM \"select\"")) {
            rows.add("-- " + select);
            rows.addAll(queryStrings(c, select + " ORDER BY 1"));
        }
        return rows;
    }
}
