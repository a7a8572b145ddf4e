package dev.ferry.ingest.sqlite;

import static dev.ferry.ingest.sqlite.CaptureFixture.blob;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.testkit.SqliteTestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChangelogReaderTest {

    @TempDir
    Path dir;
    private SqliteTestDatabase db;
    private Map<String, TableInfo> tables;

    @BeforeEach
    void createDatabase() throws SQLException {
        db = SqliteTestDatabase.create(dir, "app.db", CaptureFixture.DDL);
        try (Connection c = SqliteFile.open(db.path())) {
            tables = CaptureFixture.tablesByName(c);
            ChangeCapture.install(c, List.copyOf(tables.values()));
        }
    }

    private List<ChangelogReader.Change> read(long afterSeq, Map<String, TableInfo> captured) throws SQLException {
        try (Connection c = SqliteFile.open(db.path()); ChangelogReader reader = new ChangelogReader(c)) {
            return reader.read(afterSeq, 1000, captured).changes();
        }
    }

    /** (table, op, key, image) of a change, for comparing whole lists at once. */
    private static List<Object> summary(ChangelogReader.Change change) {
        return Arrays.asList(change.table().name(), change.op(), change.key(), change.image());
    }

    private static Map<String, Object> image(Object... nameValuePairs) {
        Map<String, Object> image = new LinkedHashMap<>();
        for (int i = 0; i < nameValuePairs.length; i += 2) {
            image.put((String) nameValuePairs[i], nameValuePairs[i + 1]);
        }
        return image;
    }

    @Test
    void insertThenDeleteOfTheSameKeyIsOneDelete() throws SQLException {
        db.execute("INSERT INTO items VALUES (1, 'pen', 1.5)", "DELETE FROM items WHERE id = 1");

        List<ChangelogReader.Change> changes = read(0, tables);

        assertEquals(1, changes.size(), changes.toString());
        ChangelogReader.Change delete = changes.get(0);
        assertEquals("d", delete.op());
        assertEquals(List.of(1L), delete.key());
        assertNull(delete.image());
        assertEquals(2L, delete.seq(), "the change carries the seq of the last entry for its key");
    }

    @Test
    void insertsAndUpdatesReadTheCurrentRowOnce() throws SQLException {
        db.execute("INSERT INTO items VALUES (1, 'pen', 1.5)",
                "INSERT INTO items VALUES (2, 'ink', NULL)",
                "UPDATE items SET name = 'blue pen' WHERE id = 1",
                "UPDATE items SET price = 3.25 WHERE id = 1");

        assertEquals(List.of(
                summary(List.of(2L), "c", image("id", 2L, "name", "ink", "price", null)),
                summary(List.of(1L), "u", image("id", 1L, "name", "blue pen", "price", 3.25))),
                read(0, tables).stream().map(ChangelogReaderTest::summary).toList(),
                "in the order of each key's last entry, each with the row as it is now");
    }

    private static List<Object> summary(List<Object> key, String op, Map<String, Object> image) {
        return Arrays.asList("items", op, key, image);
    }

    @Test
    void aTextKeyThatIsNotUtf8FindsItsRowAndTravelsAsItsBytesAsTheSnapshotSendsIt() throws SQLException {
        // The same bytes once as TEXT (not valid UTF-8) and once as a BLOB: two rows SQLite keeps apart.
        db.execute("INSERT INTO users VALUES (CAST(X'6BC328' AS TEXT), 'text key')", "INSERT INTO users VALUES (X'6BC328', 'blob key')",
                "INSERT INTO kv VALUES (CAST(X'FF' AS TEXT), 'in a WITHOUT ROWID table')");

        List<ChangelogReader.Change> changes = read(0, tables);

        assertEquals(List.of("c", "c", "c"), changes.stream().map(ChangelogReader.Change::op).toList(), "each row is found, none is a delete");
        assertArrayEquals(new byte[] {0x6B, (byte) 0xC3, 0x28}, (byte[]) changes.get(0).key().get(0));
        assertEquals("text key", changes.get(0).image().get("name"));
        assertEquals(java.nio.ByteBuffer.wrap(new byte[] {0x6B, (byte) 0xC3, 0x28}), changes.get(0).image().get("email"),
                "the row image holds the text as its bytes, as the key");
        assertEquals("blob key", changes.get(1).image().get("name"));
        assertArrayEquals(new byte[] {(byte) 0xFF}, (byte[]) changes.get(2).key().get(0));

        db.execute("DELETE FROM users WHERE email = CAST(X'6BC328' AS TEXT)");
        List<ChangelogReader.Change> delete = read(3, tables);
        assertEquals(1, delete.size());
        assertEquals("d", delete.get(0).op());
        assertArrayEquals(new byte[] {0x6B, (byte) 0xC3, 0x28}, (byte[]) delete.get(0).key().get(0));
    }

    @Test
    void keyChangeIsADeleteOfTheOldKeyAndTheNewRow() throws SQLException {
        db.execute("INSERT INTO items VALUES (1, 'pen', 1.5)");
        long afterInsert = 1;
        db.execute("UPDATE items SET id = 2, name = 'moved' WHERE id = 1");

        List<ChangelogReader.Change> changes = read(afterInsert, tables);

        assertEquals(List.of(
                Arrays.asList("items", "d", List.of(1L), null),
                Arrays.asList("items", "u", List.of(2L), image("id", 2L, "name", "moved", "price", 1.5))),
                changes.stream().map(ChangelogReaderTest::summary).toList());
    }

    @Test
    void keyChangeOfACompositeKeyIsADeleteOfTheOldKeyAndTheNewRow() throws SQLException {
        db.execute("INSERT INTO order_lines VALUES ('acme', 7, 1)");
        db.execute("UPDATE order_lines SET tenant = 'globex', qty = 2 WHERE id = 7");

        assertEquals(List.of(
                Arrays.asList("order_lines", "d", List.of(7L, "acme"), null),
                Arrays.asList("order_lines", "u", List.of(7L, "globex"), image("tenant", "globex", "id", 7L, "qty", 2L))),
                read(1, tables).stream().map(ChangelogReaderTest::summary).toList());
    }

    @Test
    void everyKindOfKeyFindsItsRow() throws SQLException {
        db.execute("INSERT INTO users VALUES ('o''neil, jr@example.com', 'O''Neil')",
                "INSERT INTO kv VALUES (X'00FF', 1.25)",
                "INSERT INTO kv VALUES (X'', 'empty key')",
                "INSERT INTO log VALUES ('first', 1)",
                "INSERT INTO \"select\" VALUES (-3, 'minus three')");

        List<ChangelogReader.Change> changes = read(0, tables);

        assertEquals(List.of("users", "kv", "kv", "log", "select"), changes.stream().map(ch -> ch.table().name()).toList());
        assertTrue(changes.stream().allMatch(ch -> ch.op().equals("c")), changes.toString());
        assertEquals(List.of("o'neil, jr@example.com"), changes.get(0).key());
        assertEquals(image("email", "o'neil, jr@example.com", "name", "O'Neil"), changes.get(0).image());
        assertArrayEquals(new byte[] {0x00, (byte) 0xFF}, (byte[]) changes.get(1).key().get(0), "a BLOB key comes back as bytes");
        assertEquals(image("k", blob(0x00, 0xFF), "v", 1.25), changes.get(1).image(), "ByteBuffer equality compares the bytes");
        assertArrayEquals(new byte[0], (byte[]) changes.get(2).key().get(0), "the empty BLOB is a key too");
        assertEquals(image("k", blob(), "v", "empty key"), changes.get(2).image());
        assertEquals(List.of(1L), changes.get(3).key());
        assertEquals(image(TableInfo.ROWID_COLUMN, 1L, "line", "first", "at", 1L), changes.get(3).image());
        assertEquals(List.of(-3L), changes.get(4).key());
        assertEquals(image("weird \"col\"", -3L, "Other Col", "minus three"), changes.get(4).image());
        assertEquals(List.of("weird \"col\"", "Other Col"), List.copyOf(changes.get(4).image().keySet()), "columns in table order");
    }

    @Test
    void aTableMissingFromTheMapIsSkipped() throws SQLException {
        db.execute("INSERT INTO items VALUES (1, 'pen', 1.5)",
                "INSERT INTO users VALUES ('ann@example.com', 'Ann')",
                "INSERT INTO items VALUES (2, 'ink', 2.5)");
        Map<String, TableInfo> onlyUsers = new HashMap<>();
        onlyUsers.put("users", tables.get("users"));

        List<ChangelogReader.Change> changes = read(0, onlyUsers);

        assertEquals(List.of(Arrays.asList("users", "c", List.of("ann@example.com"), image("email", "ann@example.com", "name", "Ann"))),
                changes.stream().map(ChangelogReaderTest::summary).toList());
        assertEquals(2L, changes.get(0).seq());
    }

    @Test
    void readingStartsAfterTheGivenSeqAndStopsAtTheLimit() throws SQLException {
        db.execute("INSERT INTO items VALUES (1, 'a', 1.0)", "INSERT INTO items VALUES (2, 'b', 2.0)",
                "INSERT INTO items VALUES (3, 'c', 3.0)", "INSERT INTO items VALUES (4, 'd', 4.0)");

        List<ChangelogReader.Change> changes;
        try (Connection c = SqliteFile.open(db.path()); ChangelogReader reader = new ChangelogReader(c)) {
            changes = reader.read(1, 2, tables).changes();
        }

        assertEquals(List.of(2L, 3L), changes.stream().map(ChangelogReader.Change::seq).toList());
        assertEquals(List.of(List.of(2L), List.of(3L)), changes.stream().map(ChangelogReader.Change::key).toList());
        assertTrue(changes.stream().allMatch(ch -> ch.commitTsMs() > 1_600_000_000_000L && ch.commitTsMs() <= System.currentTimeMillis() + 1000),
                "commit time is epoch milliseconds of the write");
    }

    @Test
    void aTextKeyHoldingNulFindsItsRowAndComesBackWhole() throws SQLException {
        String key = "before\u0000after";
        try (Connection c = db.connect(); var ps = c.prepareStatement("INSERT INTO users VALUES (?, 'nul')")) {
            ps.setString(1, key);
            ps.executeUpdate();
        }

        List<ChangelogReader.Change> changes = read(0, tables);

        assertEquals(1, changes.size(), changes.toString());
        assertEquals("c", changes.get(0).op(), "the row was found by its whole key, not by the text before the NUL");
        assertEquals(List.of(key), changes.get(0).key());
        assertEquals(key, changes.get(0).image().get("email"));
    }
}
