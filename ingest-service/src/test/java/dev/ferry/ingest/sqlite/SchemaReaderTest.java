package dev.ferry.ingest.sqlite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.ingest.connect.SqliteSourceConfig;
import dev.ferry.schemas.avro.ForeignKey;
import dev.ferry.schemas.avro.Index;
import dev.ferry.testkit.SqliteTestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What SQLite's PRAGMAs do not say is read from the CREATE text: collations, CHECKs, index expressions and WHERE. */
class SchemaReaderTest {

    @TempDir
    Path dir;

    @Test
    void theDefaultTablePatternMatchesANameWithALineBreak() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "n.db", "CREATE TABLE \"two\nlines\" (v)", "CREATE TABLE \"cr\r\" (v)",
                "CREATE TABLE plain (v)");
        try (Connection c = db.connect()) {
            Pattern all = SqliteSourceConfig.tablePattern((String) SqliteSourceConfig.CONFIG_DEF.defaultValues().get(SqliteSourceConfig.TABLES_INCLUDE));
            assertEquals(List.of("cr\r", "plain", "two\nlines"), SchemaReader.readTables(c, all).stream().map(TableInfo::name).toList());
            assertEquals(List.of("two\nlines"), SchemaReader.readTables(c, SqliteSourceConfig.tablePattern("two.lines")).stream()
                    .map(TableInfo::name).toList());
        }
    }

    @Test
    void aTableWithoutKeyWhoseColumnsHideEveryRowidNameIsRefusedWithTheWayOut() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "h.db", "CREATE TABLE hidden (rowid, _rowid_, OID)",
                "CREATE TABLE two (rowid, oid)");
        try (Connection c = db.connect()) {
            java.sql.SQLException e = org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class,
                    () -> SchemaReader.readTables(c, null));
            assertTrue(e.getMessage().contains("table \"hidden\" has no primary key") && e.getMessage().contains("--tables"), e.getMessage());
            TableInfo two = SchemaReader.readTables(c, Pattern.compile("two")).get(0);
            assertEquals("_rowid_", two.rowidAlias(), "the first name of the rowid that no column hides");
        }
    }

    @Test
    void onlyAnAsciiIntegerPrimaryKeyIsTheRowidSoALookAlikeKeyWithNullsIsKeyedByRowid() throws Exception {
        // "ınteger" (dotless i) is INTEGER to Java's equalsIgnoreCase, not to SQLite: the column is an ordinary
        // PRIMARY KEY, which SQLite lets hold NULL in several rows. Keyed by it, those rows would become one.
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "i.db", "CREATE TABLE look (k \u0131nteger PRIMARY KEY, v)",
                "INSERT INTO look VALUES (NULL, 'a'), (NULL, 'b'), (1, 'c')", "CREATE TABLE real_alias (k INTEGER PRIMARY KEY, v)",
                "INSERT INTO real_alias VALUES (NULL, 'a'), (NULL, 'b')");
        try (Connection c = db.connect()) {
            try (var st = c.createStatement(); var rs = st.executeQuery("SELECT count(*) FROM look WHERE k IS NULL")) {
                rs.next();
                assertEquals(2, rs.getInt(1), "SQLite itself keeps two NULL keys: the column is not the rowid");
            }
            Map<String, TableInfo> tables = SchemaReader.readTables(c, null).stream().collect(Collectors.toMap(TableInfo::name, t -> t));
            assertTrue(tables.get("look").keyedByRowid(), "NULL keys: keyed by rowid");
            assertEquals(List.of("_ferry_rowid"), tables.get("look").keyColumns());
            assertEquals(List.of("k"), tables.get("real_alias").keyColumns(), "an INTEGER PRIMARY KEY is the rowid: never NULL");
            assertTrue(tables.get("look").rowidKeyReason().contains("table \"look\" has rows whose primary key is NULL"),
                    tables.get("look").rowidKeyReason());
            assertEquals(null, tables.get("real_alias").rowidKeyReason());
        }
    }

    @Test
    void aKeyIsTheRowidOnlyWhenSqliteMadeNoIndexForItSoItsQuirksWithNullKeysAreKeyedByRowid() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "q.db",
                "CREATE TABLE column_desc (id INTEGER PRIMARY KEY DESC, v)", "CREATE TABLE table_desc (id INTEGER, v, PRIMARY KEY (id DESC))",
                "CREATE TABLE int_key (id INT PRIMARY KEY, v)", "CREATE TABLE integer_key (id INTEGER PRIMARY KEY, v)");
        for (String t : List.of("column_desc", "table_desc", "int_key", "integer_key")) {
            db.execute("INSERT INTO " + t + " (v) VALUES ('a'), ('b')");
        }
        try (Connection c = db.connect()) {
            Map<String, TableInfo> tables = SchemaReader.readTables(c, null).stream().collect(Collectors.toMap(TableInfo::name, t -> t));
            // Not the rowid (SQLite made an index for the key): the inserts left NULL ids, so the rows are keyed by rowid.
            assertTrue(tables.get("column_desc").keyedByRowid(), "INTEGER PRIMARY KEY DESC on the column is not the rowid");
            assertTrue(tables.get("int_key").keyedByRowid(), "INT PRIMARY KEY is not the rowid");
            // The rowid: the inserts got ids 1 and 2.
            assertEquals(List.of("id"), tables.get("table_desc").keyColumns(), "PRIMARY KEY (id DESC) as a table constraint is the rowid");
            assertEquals(List.of("id"), tables.get("integer_key").keyColumns());
        }
    }

    @Test
    void generatedColumnsAreReadWithTheirKindAndViewsAndVirtualTablesAreListedAsNotCopied() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "g.db",
                "CREATE TABLE t (a INT, v INT GENERATED ALWAYS AS (a + 1) VIRTUAL, s TEXT AS (a || 'x') STORED, z)",
                "CREATE VIRTUAL TABLE own USING fts5(body)", "CREATE VIRTUAL TABLE ext USING fts4(a, content=\"t\")",
                "CREATE VIRTUAL TABLE box USING rtree(id, x0, x1)", "CREATE VIEW w AS SELECT a FROM t");
        try (Connection c = db.connect()) {
            List<TableInfo> tables = SchemaReader.readTables(c, null);
            assertEquals(List.of("t"), tables.stream().map(TableInfo::name).toList(), "shadow tables are the virtual tables' own");
            TableInfo t = tables.get(0);
            assertEquals(List.of("a", "v", "s", "z"), t.columns().stream().map(TableInfo.ColumnInfo::name).toList());
            assertEquals(java.util.Arrays.asList(null, "VIRTUAL", "STORED", null),
                    t.columns().stream().map(TableInfo.ColumnInfo::generated).toList());
            assertEquals("rowid", t.rowidAlias());
            assertTrue(t.rowidKeyReason().contains("table \"t\" has no primary key"), t.rowidKeyReason());
            assertEquals(List.of("\"box\" (virtual table USING rtree)", "\"ext\" (virtual table USING fts4)",
                            "\"own\" (virtual table USING fts5)", "\"w\" (view)"),
                    SchemaReader.notCopied(c, null).stream().map(String::valueOf).toList());
            assertEquals(List.of(false, false, true, false), SchemaReader.notCopied(c, null).stream().map(SchemaReader.NotCopied::ownsContent).toList());
            assertEquals(List.of("\"w\" (view)"), SchemaReader.notCopied(c, java.util.regex.Pattern.compile("w")).stream().map(String::valueOf).toList());
        }
    }

    @Test
    void collationsChecksIndexesAndForeignKeysAreRead() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "s.db",
                "CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT UNIQUE)",
                "CREATE TABLE \"my child\" (id INTEGER PRIMARY KEY, \"Name, full\" TEXT COLLATE NOCASE CHECK (length(\"Name, full\") > 0),"
                        + " note TEXT DEFAULT 'COLLATE x, CHECK (y)' COLLATE RTRIM, parent_id INTEGER REFERENCES parent ON DELETE SET NULL,"
                        + " code TEXT, CONSTRAINT c1 CHECK (id > 0), FOREIGN KEY (code) REFERENCES parent(code))",
                "CREATE INDEX child_expr ON \"my child\" (lower(note), parent_id DESC) WHERE parent_id IS NOT NULL AND note <> ','",
                "CREATE UNIQUE INDEX child_nocase ON \"my child\" (code COLLATE NOCASE)");
        TableInfo child;
        try (Connection c = db.connect()) {
            child = SchemaReader.readTables(c, null).stream().filter(t -> t.name().equals("my child")).findFirst().orElseThrow();
        }
        Map<String, String> collations = child.columns().stream().filter(col -> col.collation() != null)
                .collect(Collectors.toMap(TableInfo.ColumnInfo::name, TableInfo.ColumnInfo::collation));
        assertEquals(Map.of("Name, full", "NOCASE", "note", "RTRIM"), collations);
        assertEquals(List.of("length(\"Name, full\") > 0", "id > 0"), child.checks());

        Map<String, Index> indexes = child.indexes().stream().collect(Collectors.toMap(Index::getName, i -> i));
        Index expr = indexes.get("child_expr");
        assertTrue(expr.getPartial());
        assertEquals("parent_id IS NOT NULL AND note <> ','", expr.getWhere());
        assertEquals("lower(note)", expr.getColumns().get(0).getExpression());
        assertNull(expr.getColumns().get(0).getName());
        assertEquals("parent_id", expr.getColumns().get(1).getName());
        assertTrue(expr.getColumns().get(1).getDesc());
        assertEquals("NOCASE", indexes.get("child_nocase").getColumns().get(0).getCollation());
        assertEquals("c", indexes.get("child_nocase").getOrigin());

        List<ForeignKey> fks = child.foreignKeys();
        assertEquals(2, fks.size());
        ForeignKey toPk = fks.stream().filter(f -> f.getColumns().equals(List.of("parent_id"))).findFirst().orElseThrow();
        assertEquals(List.of("id"), toPk.getRefColumns(), "no column named: the parent's primary key");
        assertEquals("SET NULL", toPk.getOnDelete());
        assertEquals("parent", toPk.getRefTable());
    }
}
