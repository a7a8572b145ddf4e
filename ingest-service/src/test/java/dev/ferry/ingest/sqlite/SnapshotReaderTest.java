package dev.ferry.ingest.sqlite;

import static dev.ferry.ingest.sqlite.CaptureFixture.blob;
import static dev.ferry.ingest.sqlite.CaptureFixture.changelog;
import static dev.ferry.ingest.sqlite.CaptureFixture.changelogAfter;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.schemas.RowImage;
import dev.ferry.testkit.SqliteTestDatabase;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotReaderTest {

    @TempDir
    Path dir;
    private SqliteTestDatabase db;

    @BeforeEach
    void createDatabase() throws SQLException {
        db = SqliteTestDatabase.create(dir, "app.db", CaptureFixture.DDL);
        db.execute("CREATE TABLE mixed (id INTEGER PRIMARY KEY, anything, declared_int INTEGER, declared_text TEXT)");
        try (Connection c = SqliteFile.open(db.path())) {
            ChangeCapture.install(c, SchemaReader.readTables(c, null));
        }
    }

    /** Reads the whole snapshot as table → rows, in the order the reader returns them. */
    private static Map<String, List<Map<String, Object>>> readAll(SnapshotReader reader) throws SQLException {
        Map<String, List<Map<String, Object>>> rows = new LinkedHashMap<>();
        for (SnapshotReader.Row row = reader.next(); row != null; row = reader.next()) {
            rows.computeIfAbsent(row.table().name(), t -> new ArrayList<>()).add(row.image());
        }
        return rows;
    }

    private static Map<String, Object> image(Object... nameValuePairs) {
        Map<String, Object> image = new LinkedHashMap<>();
        for (int i = 0; i < nameValuePairs.length; i += 2) {
            image.put((String) nameValuePairs[i], nameValuePairs[i + 1]);
        }
        return image;
    }

    @Test
    void readsEveryRowOfEveryTableInKeyOrder() throws SQLException {
        // Inserted out of key order on purpose.
        db.execute("INSERT INTO items VALUES (3, 'c', 3.5), (-1, 'minus', NULL), (2, 'b', 2.0)",
                "INSERT INTO users VALUES ('b@x', 'B'), ('B@x', 'upper B'), ('a@x', 'A')",
                "INSERT INTO order_lines VALUES ('globex', 1, 10), ('acme', 2, 20), ('acme', 1, 30)",
                "INSERT INTO kv VALUES (X'FF', 'ff'), (X'', 'empty'), (X'0001', '0001'), (X'00', '00')",
                "INSERT INTO log VALUES ('one', 1), ('two', 2), ('three', 3)",
                "DELETE FROM log WHERE at = 2",
                "INSERT INTO \"select\" VALUES (20, 'twenty'), (10, 'ten')");
        List<TableInfo> tables;
        Map<String, List<Map<String, Object>>> rows;
        try (Connection c = SqliteFile.open(db.path())) {
            tables = SchemaReader.readTables(c, null);
            try (SnapshotReader reader = new SnapshotReader(c, tables)) {
                rows = readAll(reader);
            }
        }

        assertEquals(List.of("items", "kv", "log", "order_lines", "select", "users"), new ArrayList<>(rows.keySet()),
                "tables in the order given, an empty table yields no row");
        assertEquals(List.of(
                image("id", -1L, "name", "minus", "price", null),
                image("id", 2L, "name", "b", "price", 2.0),
                image("id", 3L, "name", "c", "price", 3.5)), rows.get("items"));
        assertEquals(List.of(
                image("email", "B@x", "name", "upper B"),
                image("email", "a@x", "name", "A"),
                image("email", "b@x", "name", "B")), rows.get("users"), "text keys in SQLite's BINARY collation order");
        assertEquals(List.of(
                image("tenant", "acme", "id", 1L, "qty", 30L),
                image("tenant", "globex", "id", 1L, "qty", 10L),
                image("tenant", "acme", "id", 2L, "qty", 20L)), rows.get("order_lines"), "ordered by (id, tenant), the key order");
        assertEquals(List.of(
                image("k", blob(), "v", "empty"),
                image("k", blob(0x00), "v", "00"),
                image("k", blob(0x00, 0x01), "v", "0001"),
                image("k", blob(0xFF), "v", "ff")), rows.get("kv"), "blob keys in memcmp order");
        assertEquals(List.of(
                image(TableInfo.ROWID_COLUMN, 1L, "line", "one", "at", 1L),
                image(TableInfo.ROWID_COLUMN, 3L, "line", "three", "at", 3L)), rows.get("log"), "the rowid travels as the key column");
        assertEquals(List.of(
                image("weird \"col\"", 10L, "Other Col", "ten"),
                image("weird \"col\"", 20L, "Other Col", "twenty")), rows.get("select"));
        assertEquals(List.of("items", "kv", "log", "mixed", "order_lines", "select", "users"), tables.stream().map(TableInfo::name).toList());
    }

    @Test
    void aTableWithAColumnNamedAsTheRowidKeyCarriesItsRowidUnderTheNextFreeName() throws SQLException {
        db.execute("CREATE TABLE taken (\"_ferry_rowid\" TEXT, \"_ferry_rowid_2\" INTEGER, \"_FERRY_ROWID_3\" TEXT)",
                "INSERT INTO taken VALUES ('mine', 2, 'three')");
        try (Connection c = SqliteFile.open(db.path())) {
            TableInfo taken = SchemaReader.readTables(c, null).stream().filter(t -> t.name().equals("taken")).findFirst().orElseThrow();
            assertEquals(List.of("_ferry_rowid_3"), taken.keyColumns(), "exact names: _FERRY_ROWID_3 is another name");
            try (SnapshotReader reader = new SnapshotReader(c, List.of(taken))) {
                assertEquals(Map.of("taken", List.of(image("_ferry_rowid_3", 1L, "_ferry_rowid", "mine", "_ferry_rowid_2", 2L,
                        "_FERRY_ROWID_3", "three"))), readAll(reader), "the table's own columns keep their values");
            }
        }
    }

    /** Narrow tables' images are RowImages, wide ones hash maps: the same entries, in column order, either way. */
    @Test
    void imagesHoldEveryColumnInOrderForNarrowAndWideTables() throws SQLException {
        for (int width : new int[] {1, RowImage.MAX_SCANNED_COLUMNS - 1, RowImage.MAX_SCANNED_COLUMNS, RowImage.MAX_SCANNED_COLUMNS + 1, 70}) {
            StringBuilder ddl = new StringBuilder("CREATE TABLE \"w" + width + "\" (\"c0\" INTEGER PRIMARY KEY");
            StringBuilder values = new StringBuilder("INSERT INTO \"w" + width + "\" VALUES (7");
            Object[] expected = new Object[2 * width];
            expected[0] = "c0";
            expected[1] = 7L;
            for (int i = 1; i < width; i++) {
                // Names in no sorted order.
                String name = i == width - 1 && width > 2 ? "C1" : "z" + (width - i) + "_" + i;
                ddl.append(", \"").append(name).append('"');
                values.append(", ").append(i % 3 == 0 ? "NULL" : i % 3 == 1 ? "'t" + i + "'" : String.valueOf(i * 1.5));
                expected[2 * i] = name;
                expected[2 * i + 1] = i % 3 == 0 ? null : i % 3 == 1 ? "t" + i : i * 1.5;
            }
            db.execute(ddl.append(")").toString(), values.append(")").toString());
            try (Connection c = SqliteFile.open(db.path())) {
                String name = "w" + width;
                TableInfo table = SchemaReader.readTables(c, null).stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow();
                try (SnapshotReader reader = new SnapshotReader(c, List.of(table))) {
                    Map<String, Object> read = readAll(reader).get(name).get(0);
                    Map<String, Object> want = image(expected);
                    assertEquals(want, read, name);
                    assertEquals(List.copyOf(want.keySet()), List.copyOf(read.keySet()), name + ": column order");
                }
            }
        }
    }

    @Test
    void everyValueKeepsItsOwnStorageClassWhateverTheColumnDeclares() throws SQLException {
        byte[] allBytes = new byte[256];
        for (int i = 0; i < 256; i++) {
            allBytes[i] = (byte) i;
        }
        db.insert("INSERT INTO mixed VALUES (?, ?, ?, ?)", List.of(
                new Object[] {1L, 42L, 42L, "42"},
                new Object[] {2L, 4.5, 4.5, 4.5},
                new Object[] {3L, "text \uD83D\uDE80 'q'", "not a number", "text"},
                new Object[] {4L, allBytes, new byte[] {1, 2}, new byte[] {3}},
                new Object[] {5L, null, null, null},
                new Object[] {6L, Long.MIN_VALUE, Long.MAX_VALUE, 7L},
                new Object[] {7L, -0.5, 1e300, "a\u0000b"}));
        List<Map<String, Object>> rows;
        try (Connection c = SqliteFile.open(db.path());
             SnapshotReader reader = new SnapshotReader(c, List.of(SchemaReader.readTables(c, java.util.regex.Pattern.compile("mixed")).get(0)))) {
            rows = readAll(reader).get("mixed");
        }

        assertEquals(7, rows.size());
        assertValue(42L, rows.get(0).get("anything"));
        assertValue(42L, rows.get(0).get("declared_int"));
        assertValue("42", rows.get(0).get("declared_text"), "TEXT affinity turns 42 into text");
        assertValue(4.5, rows.get(1).get("anything"));
        assertValue(4.5, rows.get(1).get("declared_int"), "4.5 is not an integer, so it stays REAL in an INTEGER column");
        assertValue("4.5", rows.get(1).get("declared_text"));
        assertValue("text \uD83D\uDE80 'q'", rows.get(2).get("anything"));
        assertValue("not a number", rows.get(2).get("declared_int"), "text that is not a number stays TEXT in an INTEGER column");
        assertValue(ByteBuffer.wrap(allBytes), rows.get(3).get("anything"));
        assertValue(blob(1, 2), rows.get(3).get("declared_int"), "a BLOB stays a BLOB in any column");
        assertValue(blob(3), rows.get(3).get("declared_text"));
        assertNull(rows.get(4).get("anything"));
        assertNull(rows.get(4).get("declared_int"));
        assertNull(rows.get(4).get("declared_text"));
        assertValue(Long.MIN_VALUE, rows.get(5).get("anything"));
        assertValue(Long.MAX_VALUE, rows.get(5).get("declared_int"));
        assertValue("7", rows.get(5).get("declared_text"));
        assertValue(-0.5, rows.get(6).get("anything"));
        assertValue(1e300, rows.get(6).get("declared_int"));
        assertValue("a\u0000b", rows.get(6).get("declared_text"), "a NUL inside text survives");
        assertValue(1L, rows.get(0).get("id"));
    }

    private static void assertValue(Object expected, Object actual) {
        assertValue(expected, actual, "");
    }

    private static void assertValue(Object expected, Object actual, String message) {
        Class<?> storageClass = expected instanceof ByteBuffer ? ByteBuffer.class : expected.getClass();
        assertTrue(storageClass.isInstance(actual), message + ": expected a " + storageClass.getSimpleName() + " but was " + actual);
        if (expected instanceof ByteBuffer b) {
            assertArrayEquals(bytes(b), bytes((ByteBuffer) actual), message);
        } else {
            assertEquals(expected, actual, message);
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    @Test
    void aWriteAfterTheSnapshotStartedIsNotInTheSnapshotButInTheChangelogAfterItsMark() throws SQLException {
        db.execute("INSERT INTO items VALUES (1, 'stays', 1.0), (2, 'will change', 2.0), (3, 'will go', 3.0)");
        long changelogBefore;
        try (Connection c = db.connect()) {
            changelogBefore = changelog(c).size();
        }

        Map<String, List<Map<String, Object>>> rows;
        long mark;
        try (Connection reading = SqliteFile.open(db.path())) {
            List<TableInfo> tables = List.of(CaptureFixture.tablesByName(reading).get("items"));
            try (SnapshotReader reader = new SnapshotReader(reading, tables)) {
                mark = reader.highWaterMark();
                // The application keeps writing on its own connection while the snapshot is open (WAL).
                db.execute("INSERT INTO items VALUES (4, 'new', 4.0)",
                        "UPDATE items SET name = 'changed' WHERE id = 2",
                        "DELETE FROM items WHERE id = 3");
                rows = readAll(reader);
            }
        }

        assertEquals(changelogBefore, mark, "the mark is the last changelog entry before the snapshot");
        assertEquals(List.of(
                image("id", 1L, "name", "stays", "price", 1.0),
                image("id", 2L, "name", "will change", "price", 2.0),
                image("id", 3L, "name", "will go", "price", 3.0)), rows.get("items"), "the snapshot sees the file as it was at its start");
        try (Connection c = db.connect()) {
            assertEquals(List.of(
                    List.of("items", "c", "4"),
                    List.of("items", "u", "2"),
                    List.of("items", "d", "3")), changelogAfter(c, mark), "every later write is in the changelog after the mark");
            assertEquals(List.of("Integer:1", "Integer:2", "Integer:4"), CaptureFixture.queryStrings(c, "SELECT id FROM items ORDER BY id"),
                    "the application's writes did land");
        }
    }
}
