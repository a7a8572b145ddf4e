package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.testkit.KafkaAndPostgres;
import dev.ferry.testkit.SqliteTestDatabase;
import dev.ferry.testkit.TableComparison;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generated columns (VIRTUAL and STORED) arrive with the values SQLite computed, from the snapshot, from live changes,
 * and when one is added while replicating; virtual tables (FTS5) and views are left out, not half-copied.
 */
class GeneratedColumnsTest {

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();

    @TempDir
    Path dir;

    @Test
    void generatedColumnsArriveWithSqlitesValuesAndVirtualTablesAndViewsAreLeftOut() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "gen.db",
                "CREATE TABLE items (id INTEGER PRIMARY KEY, price REAL, qty INT,"
                        + " total REAL GENERATED ALWAYS AS (price * qty) VIRTUAL,"
                        + " label TEXT GENERATED ALWAYS AS ('#' || id || ' x' || qty) STORED NOT NULL)",
                "CREATE VIRTUAL TABLE items_fts USING fts5(label, content='items', content_rowid='id')",
                "CREATE VIEW big_items AS SELECT id, total FROM items WHERE total > 100");
        List<Object[]> rows = new ArrayList<>();
        for (int i = 1; i <= 50; i++) {
            rows.add(new Object[] {i, i * 1.5, i % 7});
        }
        db.insert("INSERT INTO items (id, price, qty) VALUES (?, ?, ?)", rows);
        db.execute("INSERT INTO items_fts (items_fts) VALUES ('rebuild')");

        try (Pipeline pipeline = new Pipeline(new Pipeline.Options(db.path(), infra.pg().jdbcUrl(), dir.resolve("state"), "gen",
                infra.broker().bootstrapServers(), "ferry", "gen", 1, false, Map.of()))) {
            pipeline.start().awaitCaughtUp(Duration.ofMinutes(1));
            TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), "gen");
            assertEquals(List.of("t", "#15 x1"), pgRow("SELECT total = 22.5, label FROM gen.items WHERE id = 15"));

            // Live: a change of qty changes both generated columns; new and deleted rows; a generated column added.
            db.execute("UPDATE items SET qty = 10 WHERE id = 15", "INSERT INTO items (id, price, qty) VALUES (51, 2.0, 3)",
                    "DELETE FROM items WHERE id = 2",
                    "ALTER TABLE items ADD COLUMN doubled INT GENERATED ALWAYS AS (qty * 2) VIRTUAL");
            pipeline.awaitCaughtUp(Duration.ofMinutes(1));
            TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), "gen");
            assertEquals(List.of("t", "#15 x10", "20"), pgRow("SELECT total = 225, label, doubled FROM gen.items WHERE id = 15"));
            assertEquals(List.of("t", "#51 x3", "6"), pgRow("SELECT total = 6, label, doubled FROM gen.items WHERE id = 51"));
            assertEquals(List.of("t"), pgRow("SELECT bool_and(doubled = qty * 2) FROM gen.items"), "the added column, on every row");
            assertEquals(List.of("50"), pgRow("SELECT count(*) FROM gen.items"));

            // Only the table: no copy of the FTS5 table, of its shadow tables, or of the view.
            assertEquals(List.of("items"), pgRow("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables"
                    + " WHERE table_schema = 'gen'"));
            assertEquals(0, pipeline.writer().deadLetters());
        }
    }

    @Test
    void ferrySchemaReportsGeneratedColumnsAndWhatIsNotCopied() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "report.db",
                "CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b INT GENERATED ALWAYS AS (a + 1) VIRTUAL)",
                "CREATE VIRTUAL TABLE t_fts USING fts5(x)",
                "CREATE VIRTUAL TABLE t_ext USING fts5(a, content='t', content_rowid='id')",
                "CREATE VIEW t_view AS SELECT b FROM t");
        java.io.StringWriter out = new java.io.StringWriter();
        int code = Ferry.run(new java.io.PrintWriter(out), new java.io.PrintWriter(new java.io.StringWriter()),
                new String[] {"schema", "--sqlite", db.path().toString()});
        assertEquals(0, code);
        String text = out.toString();
        assertTrue(text.contains("\"b\" bigint"), text);
        assertTrue(text.contains("t.b: generated column (VIRTUAL) in SQLite: a plain column here"), text);
        assertTrue(text.contains("\"t_fts\" (virtual table USING fts5): not copied"), text);
        assertTrue(text.contains("its text is stored in it and in no other table, so it is NOT migrated"), "fts5(x) keeps its own text: " + text);
        assertTrue(!text.contains("\"t_ext\" (virtual table USING fts5): not copied, ferry copies tables: its text is stored"),
                "content='t' keeps its text in t: " + text);
        assertTrue(text.contains("\"t_view\" (view): not copied"), text);
        assertTrue(!text.contains("t_fts_data") && !text.contains("t_fts_config"), "shadow tables are the virtual table's own: " + text);
    }

    private static List<String> pgRow(String sql) throws Exception {
        try (Connection c = infra.pg().connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next(), sql);
            List<String> values = new ArrayList<>();
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                values.add(rs.getString(i));
            }
            return values;
        }
    }
}
