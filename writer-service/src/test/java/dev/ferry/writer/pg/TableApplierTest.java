package dev.ferry.writer.pg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ferry.schemas.avro.Column;
import dev.ferry.schemas.avro.TableSchema;
import dev.ferry.testkit.PostgresTestDatabase;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Rows go through {@link ValueConverter} as the writer does, into tables whose names a naive writer would break,
 * and come back from PostgreSQL exactly: both the multi-row INSERT path and the COPY path.
 */
class TableApplierTest {

    static {
        // The builders below fill the new list fields from their defaults, which Avro builds only for classes it trusts;
        // EventCodec registers ferry's, as it does in every service before any event is read or written.
        dev.ferry.schemas.EventCodec.kindOf(new byte[0]);
    }


    private static final String SCHEMA = "Ferry \"Target\"";
    private static final String KEY = "weird \"col\"";

    private static PostgresTestDatabase pg;
    private Connection connection;

    @BeforeAll
    static void createDatabase() throws SQLException {
        pg = PostgresTestDatabase.create();
        try (Connection c = pg.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA " + PgIdentifiers.quote(SCHEMA));
        }
    }

    @AfterAll
    static void dropDatabase() {
        pg.close();
    }

    @BeforeEach
    void connect() throws SQLException {
        connection = pg.connect();
        connection.setAutoCommit(false);
        try (Statement st = connection.createStatement()) {
            st.execute("DROP SCHEMA " + PgIdentifiers.quote(SCHEMA) + " CASCADE");
            st.execute("CREATE SCHEMA " + PgIdentifiers.quote(SCHEMA));
        }
        connection.commit();
    }

    @AfterEach
    void disconnect() throws SQLException {
        connection.close();
    }

    private static Column column(String name, String declaredType, boolean notNull, int pkPosition) {
        return Column.newBuilder().setName(name).setDeclaredType(declaredType).setNotNull(notNull).setDefaultValue(null)
                .setPkPosition(pkPosition).build();
    }

    /** A SQLite table named {@code select} with a quoted key column, spaces, upper case and every target type. */
    private static TableSchema selectTable() {
        return TableSchema.newBuilder().setSource("app").setTable("select").setSchemaVersion(1L).setRowidKey(false).setColumns(List.of(
                column(KEY, "INTEGER", false, 1),
                column("Mixed Case Name", "VARCHAR(20)", false, 0),
                column("blob data", "BLOB", false, 0),
                column("Real Value", "REAL", false, 0),
                column("amount", "NUMERIC(10,2)", false, 0),
                column("Flag", "BOOLEAN", true, 0),
                column("any thing", "", false, 0),
                column("At", "DATETIME", false, 0),
                column("Day", "DATE", false, 0),
                column("Clock", "TIME", false, 0),
                column("Doc", "JSON", false, 0),
                column("Ref", "UUID", false, 0))).setTsMs(1L).build();
    }

    private static TableSchema orderLinesTable() {
        return TableSchema.newBuilder().setSource("app").setTable("Order Lines").setSchemaVersion(1L).setRowidKey(false).setColumns(List.of(
                column("Tenant", "TEXT", true, 2),
                column("ID", "INTEGER", true, 1),
                column("qty", "INTEGER", false, 0))).setTsMs(1L).build();
    }

    private static TableSchema logTable() {
        return TableSchema.newBuilder().setSource("app").setTable("log").setSchemaVersion(1L).setRowidKey(true).setColumns(List.of(
                column("line", "", false, 0))).setTsMs(1L).build();
    }

    private TableApplier create(TableSchema schema) throws SQLException {
        TargetTable table = TargetTable.of(SCHEMA, schema, TypeMapping.DEFAULT);
        try (Statement st = connection.createStatement()) {
            st.execute(table.createSql());
        }
        connection.commit();
        return new TableApplier(table, 1);
    }

    // --- values of every storage class, as SQLite would hand them over

    private static final String[] TEXTS = {
        "plain", "tab\there", "new\nline", "cr\r\nlf", "back\\slash", "\\N", "\\.", "'single' \"double\"", "",
        "caf\u00e9 \u4e2d\u6587 \uD83D\uDE80\uD83D\uDC4D\uD83C\uDFFD", "trailing backslash \\", "\u0001\u001f\u007f control", " ",
    };
    private static final double[] DOUBLES = {
        0.1, -1.5, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0, 0.0, Double.MIN_VALUE, Double.MAX_VALUE,
        1e300, -1e-300, Math.PI,
    };
    private static final Object[] AMOUNTS = {
        12L, 0.1, "123.4500", "-123456789012345678901234567890.123456789", Long.MIN_VALUE, 1e300, "0", "1e-5",
        Double.NaN, Double.POSITIVE_INFINITY, "-Infinity",
    };
    /** Points in time as SQLite holds them: ISO text, Julian days, Unix seconds and milliseconds; years BC included. */
    private static final Object[] TIMES = {
        "2024-01-31 12:00:00", "2024-01-31T12:00:00.123456+02:00", 2460341.0000014236, 1706702400L, 1706702400123L, 0L,
        "0000-01-01 00:00:00", "9999-12-31T23:59:59.999999Z", 1706702400.5,
    };
    private static final Object[] DAYS = {"2024-01-31", "2024-02-29 00:00:00", 2460340.5, "0000-03-01", "9999-12-31", -62135596800L};
    private static final String[] CLOCKS = {"12:00", "23:59:59", "00:00:00.000001", "07:08:09.5"};
    /** In jsonb's own text form, so that what comes back reads the same. */
    private static final Object[] DOCS = {
        "{\"a\": 1, \"b\": [true, false, null, \"x\\ty\"]}", "[]", "\"caf\u00e9 \\\\ \\n\"", 42L, "{\"tab\\there\": {\"\\\\N\": 1.5}}",
    };
    private static final Object[] REFS = {
        "123e4567-e89b-12d3-a456-426614174000", ByteBuffer.wrap(new byte[16]), "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
    };
    private static final byte[] ALL_BYTES = new byte[256];

    static {
        for (int i = 0; i < 256; i++) {
            ALL_BYTES[i] = (byte) i;
        }
    }

    private static long key(int i) {
        return switch (i) {
            case 0 -> Long.MIN_VALUE;
            case 1 -> Long.MAX_VALUE;
            default -> (long) i * 7919 - 30_000;
        };
    }

    /** Row image of the {@code select} table: column → value in its SQLite storage class. */
    private static Map<String, Object> selectImage(int i, int version) {
        Map<String, Object> image = new LinkedHashMap<>();
        image.put(KEY, key(i));
        // Every third row holds one awkward text alone (COPY must not read "\\N" as NULL), the others all of them at once.
        String text = TEXTS[(i + version) % TEXTS.length];
        image.put("Mixed Case Name", i % 17 == 5 ? null : i % 3 == 0 ? text : text + " #" + i + " v" + version + " " + String.join("|", TEXTS));
        image.put("blob data", switch ((i + version) % 5) {
            case 0 -> ByteBuffer.wrap(ALL_BYTES);
            case 1 -> ByteBuffer.wrap(new byte[0]);
            case 2 -> null;
            default -> ByteBuffer.wrap(Arrays.copyOfRange(ALL_BYTES, i % 256, Math.min(256, i % 256 + 1 + version)));
        });
        image.put("Real Value", i % 13 == 12 ? null : DOUBLES[(i + version) % DOUBLES.length]);
        image.put("amount", i % 11 == 10 ? null : AMOUNTS[(i + version) % AMOUNTS.length]);
        image.put("Flag", (i + version) % 3 == 2 ? "yes" : (Object) (long) ((i + version) % 2));
        image.put("At", i % 7 == 6 ? null : TIMES[(i + version) % TIMES.length]);
        image.put("Day", i % 7 == 5 ? null : DAYS[(i + version) % DAYS.length]);
        image.put("Clock", i % 7 == 4 ? null : CLOCKS[(i + version) % CLOCKS.length]);
        image.put("Doc", i % 7 == 3 ? null : DOCS[(i + version) % DOCS.length]);
        image.put("Ref", i % 7 == 2 ? null : REFS[(i + version) % REFS.length]);
        // A column without declared type holds any storage class; text keeps each as text.
        image.put("any thing", switch ((i + version) % 4) {
            case 0 -> (long) i * -3;
            case 1 -> i + 0.25;
            case 2 -> "text " + i;
            default -> ByteBuffer.wrap(("utf-8 blob \u00e9 " + i).getBytes(StandardCharsets.UTF_8));
        });
        return image;
    }

    private static List<Object[]> convert(TargetTable table, List<Map<String, Object>> images) {
        List<Object[]> rows = new ArrayList<>();
        for (Map<String, Object> image : images) {
            Object[] row = new Object[table.columns().size()];
            for (int c = 0; c < row.length; c++) {
                TargetTable.TargetColumn column = table.columns().get(c);
                try {
                    row[c] = ValueConverter.convert(column.type(), column.name(), image.get(column.name()));
                } catch (ValueConversionException e) {
                    fail("test data must be writable: " + e.getMessage());
                }
            }
            rows.add(row);
        }
        return rows;
    }

    private static List<Map<String, Object>> selectImages(int from, int to, int version) {
        List<Map<String, Object>> images = new ArrayList<>();
        for (int i = from; i < to; i++) {
            images.add(selectImage(i, version));
        }
        return images;
    }

    /** Every row of a target table by its first key column, read with plain JDBC getters. */
    private TreeMap<Long, Object[]> readBack(TargetTable table, String keyColumn) throws SQLException {
        TreeMap<Long, Object[]> rows = new TreeMap<>();
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery("SELECT * FROM " + table.qualifiedName())) {
            assertEquals(table.columns().size(), rs.getMetaData().getColumnCount());
            while (rs.next()) {
                Object[] row = new Object[table.columns().size()];
                for (int c = 0; c < row.length; c++) {
                    TargetTable.TargetColumn column = table.columns().get(c);
                    assertEquals(column.name(), rs.getMetaData().getColumnName(c + 1));
                    row[c] = switch (column.type()) {
                        case BIGINT -> rs.getLong(c + 1);
                        case DOUBLE -> rs.getDouble(c + 1);
                        case NUMERIC -> numeric(rs.getString(c + 1));
                        case TEXT, JSONB, VECTOR -> rs.getString(c + 1);
                        case BYTEA -> rs.getBytes(c + 1);
                        case BOOLEAN -> rs.getBoolean(c + 1);
                        case DATE -> rs.getObject(c + 1, LocalDate.class);
                        case TIMESTAMPTZ -> rs.getObject(c + 1, OffsetDateTime.class);
                        case TIME -> rs.getObject(c + 1, LocalTime.class);
                        case UUID -> rs.getObject(c + 1, UUID.class);
                    };
                    if (rs.wasNull()) {
                        row[c] = null;
                    }
                }
                Object previous = rows.put((Long) row[table.indexOf(keyColumn)], row);
                assertNull(previous, "duplicate key " + row[table.indexOf(keyColumn)]);
            }
        }
        return rows;
    }

    /** numeric as text: NaN and ±Infinity have no BigDecimal. */
    private static Object numeric(String text) {
        if (text == null) {
            return null;
        }
        return text.equals("NaN") || text.endsWith("Infinity") ? (Object) Double.valueOf(text) : new BigDecimal(text);
    }

    private static void assertRowsEqual(TargetTable table, List<Object[]> expected, Map<Long, Object[]> actual, String keyColumn) {
        int keyIndex = table.indexOf(keyColumn);
        assertEquals(expected.size(), actual.size(), "row count");
        for (Object[] e : expected) {
            Object[] a = actual.get((Long) e[keyIndex]);
            assertTrue(a != null, "row " + e[keyIndex] + " is missing");
            for (int c = 0; c < e.length; c++) {
                assertSameValue(e[c], a[c], "row " + e[keyIndex] + " column " + table.columns().get(c).name());
            }
        }
    }

    private static void assertSameValue(Object expected, Object actual, String what) {
        if (expected == null) {
            assertNull(actual, what);
        } else if (actual == null) {
            fail(what + ": expected " + expected + " but was NULL");
        } else if (expected instanceof Double d) {
            assertEquals(Double.doubleToLongBits(d), Double.doubleToLongBits((Double) actual), what + ": expected " + d + " but was " + actual);
        } else if (expected instanceof byte[] b) {
            assertArrayEquals(b, (byte[]) actual, what);
        } else if (expected instanceof BigDecimal d) {
            BigDecimal a = (BigDecimal) actual;
            assertEquals(0, d.compareTo(a), what + ": expected " + d + " but was " + a);
            if (d.scale() >= 0) {
                assertEquals(d.scale(), a.scale(), what + ": the scale of " + d + " is kept, was " + a);
            }
        } else {
            assertEquals(expected, actual, what);
        }
    }

    // --- the specification

    @Test
    void createsTheTargetTableWithQuotedNamesMappedTypesAndTheKey() throws SQLException {
        create(selectTable());
        create(orderLinesTable());
        create(logTable());

        assertEquals(List.of(
                "weird \"col\" | bigint | NO",
                "Mixed Case Name | text | YES",
                "blob data | bytea | YES",
                "Real Value | double precision | YES",
                "amount | numeric | YES",
                "Flag | boolean | NO",
                "any thing | text | YES",
                "At | timestamp with time zone | YES",
                "Day | date | YES",
                "Clock | time without time zone | YES",
                "Doc | jsonb | YES",
                "Ref | uuid | YES"), columns("select"));
        assertEquals(List.of(KEY), primaryKey("select"));
        assertEquals(List.of("Tenant | text | NO", "ID | bigint | NO", "qty | bigint | YES"), columns("Order Lines"));
        assertEquals(List.of("ID", "Tenant"), primaryKey("Order Lines"), "the key in SQLite's key order, not column order");
        assertEquals(List.of("_ferry_rowid | bigint | NO", "line | text | YES"), columns("log"));
        assertEquals(List.of("_ferry_rowid"), primaryKey("log"));
    }

    @Test
    void tablesNamedAsPostgresNamesTheKeyAndIdentityOfAnotherTableAreCreatedAndWritten() throws SQLException {
        // PostgreSQL would name the key's index "items_pkey" and the identity's sequence "items_id_seq"; both are table names in SQLite.
        TableSchema items = TableSchema.newBuilder().setSource("app").setTable("items").setSchemaVersion(1L).setRowidKey(false)
                .setColumns(List.of(column("id", "INTEGER", false, 1), column("v", "TEXT", false, 0))).setTsMs(1L).build();
        create(items);
        for (String name : List.of("items_pkey", "items_id_seq")) {
            TableSchema later = TableSchema.newBuilder(items).setTable(name).build();
            TableApplier applier = create(later);
            applier.upsert(connection, List.<Object[]>of(new Object[] {1L, name}));
            connection.commit();
            assertEquals(List.of("id | bigint | NO", "v | text | YES"), columns(name), name + " is a table of its own");
            assertEquals(1, readBack(applier.table(), "id").size(), name);
        }
        assertEquals(List.of("id"), primaryKey("items"));
    }

    private List<String> columns(String table) throws SQLException {
        List<String> out = new ArrayList<>();
        try (var ps = connection.prepareStatement("SELECT column_name, data_type, is_nullable FROM information_schema.columns"
                + " WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position")) {
            ps.setString(1, SCHEMA);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1) + " | " + rs.getString(2) + " | " + rs.getString(3));
                }
            }
        }
        return out;
    }

    private List<String> primaryKey(String table) throws SQLException {
        List<String> out = new ArrayList<>();
        try (var ps = connection.prepareStatement("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                + " AND a.attnum = ANY (i.indkey) WHERE i.indrelid = ?::regclass AND i.indisprimary"
                + " ORDER BY array_position(i.indkey::int2[], a.attnum)")) {
            ps.setString(1, PgIdentifiers.qualified(SCHEMA, table));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    @Test
    void fewRowsAreUpsertedWithValuesAndComeBackExactly() throws SQLException {
        TableApplier applier = create(selectTable());
        List<Object[]> rows = convert(applier.table(), selectImages(0, 5, 0));
        assertTrue(rows.size() < TableApplier.COPY_THRESHOLD);

        applier.upsert(connection, rows);
        connection.commit();

        assertRowsEqual(applier.table(), rows, readBack(applier.table(), KEY), KEY);
    }

    @Test
    void manyRowsAreUpsertedWithCopyAndComeBackExactly() throws SQLException {
        TableApplier applier = create(selectTable());
        List<Object[]> rows = convert(applier.table(), selectImages(0, 1000, 0));
        assertTrue(rows.size() >= TableApplier.COPY_THRESHOLD);

        applier.upsert(connection, rows);
        connection.commit();

        assertRowsEqual(applier.table(), rows, readBack(applier.table(), KEY), KEY);
    }

    @Test
    void bothPathsWriteTheSameValues() throws SQLException {
        // The same 300 rows written once by COPY and once by INSERT, into two tables, read back identical.
        TableApplier byCopy = create(selectTable());
        List<Object[]> rows = convert(byCopy.table(), selectImages(0, 300, 0));
        byCopy.upsert(connection, rows);
        connection.commit();
        TreeMap<Long, Object[]> copied = readBack(byCopy.table(), KEY);
        try (Statement st = connection.createStatement()) {
            st.execute("TRUNCATE " + byCopy.table().qualifiedName());
        }
        for (Object[] row : rows) {
            byCopy.upsert(connection, List.<Object[]>of(row));
        }
        connection.commit();
        TreeMap<Long, Object[]> inserted = readBack(byCopy.table(), KEY);

        assertEquals(copied.keySet(), inserted.keySet());
        for (Long key : copied.keySet()) {
            for (int c = 0; c < rows.get(0).length; c++) {
                assertSameValue(copied.get(key)[c], inserted.get(key)[c], "row " + key + " column " + byCopy.table().columns().get(c).name());
            }
        }
    }

    @Test
    void upsertingAgainUpdatesEveryRowWithoutDuplicates() throws SQLException {
        TableApplier applier = create(selectTable());
        applier.upsert(connection, convert(applier.table(), selectImages(0, 1000, 0)));
        applier.upsert(connection, convert(applier.table(), selectImages(1000, 1005, 0)));
        connection.commit();

        // Changed values for every row: by COPY for the first 1000, by INSERT for the last 5, plus 3 new rows by INSERT.
        List<Object[]> changedByCopy = convert(applier.table(), selectImages(0, 1000, 1));
        List<Object[]> changedByInsert = convert(applier.table(), selectImages(1000, 1008, 1));
        applier.upsert(connection, changedByCopy);
        applier.upsert(connection, changedByInsert);
        connection.commit();

        List<Object[]> expected = new ArrayList<>(changedByCopy);
        expected.addAll(changedByInsert);
        assertRowsEqual(applier.table(), expected, readBack(applier.table(), KEY), KEY);
    }

    @Test
    void aReplayedBatchChangesNothing() throws SQLException {
        TableApplier applier = create(selectTable());
        List<Object[]> rows = convert(applier.table(), selectImages(0, 250, 0));
        applier.upsert(connection, rows);
        connection.commit();
        applier.upsert(connection, rows);
        connection.commit();

        assertRowsEqual(applier.table(), rows, readBack(applier.table(), KEY), KEY);
    }

    @Test
    void deletesBySingleKey() throws SQLException {
        TableApplier applier = create(selectTable());
        List<Object[]> rows = convert(applier.table(), selectImages(0, 10, 0));
        applier.upsert(connection, rows);
        connection.commit();

        applier.delete(connection, List.of(new Object[] {Long.MIN_VALUE}, new Object[] {key(7)}, new Object[] {123_456_789L}));
        connection.commit();

        List<Object[]> expected = rows.stream().filter(r -> (Long) r[0] != Long.MIN_VALUE && (Long) r[0] != key(7)).toList();
        assertEquals(8, expected.size());
        assertRowsEqual(applier.table(), expected, readBack(applier.table(), KEY), KEY);
    }

    @Test
    void deletesByCompositeKeyOnlyTheRowWithBothValues() throws SQLException {
        TableApplier applier = create(orderLinesTable());
        // Target column order: Tenant, ID, qty. Key order: ID, Tenant.
        applier.upsert(connection, List.of(
                new Object[] {"acme", 1L, 10L},
                new Object[] {"globex", 1L, 20L},
                new Object[] {"acme", 2L, 30L},
                new Object[] {"tab\tand 'quote'", 1L, 40L}));
        connection.commit();

        applier.delete(connection, List.of(new Object[] {1L, "acme"}, new Object[] {1L, "tab\tand 'quote'"}, new Object[] {2L, "globex"}));
        connection.commit();

        List<String> left = new ArrayList<>();
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery("SELECT \"Tenant\", \"ID\", qty FROM " + applier.table().qualifiedName() + " ORDER BY 2, 1")) {
            while (rs.next()) {
                left.add(rs.getString(1) + "/" + rs.getLong(2) + "/" + rs.getLong(3));
            }
        }
        assertEquals(List.of("globex/1/20", "acme/2/30"), left);
    }

    @Test
    void keysOfTheNewTypesAreUpsertedAndDeleted() throws SQLException {
        TableSchema schema = TableSchema.newBuilder().setSource("app").setTable("bookings").setSchemaVersion(1L).setRowidKey(false)
                .setColumns(List.of(column("guest", "UUID", true, 1), column("at", "TIMESTAMP", true, 2), column("day", "DATE", true, 3),
                        column("paid", "BOOL", true, 4), column("meta", "JSON", false, 0))).setTsMs(1L).build();
        TableApplier applier = create(schema);
        List<Map<String, Object>> images = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            Map<String, Object> image = new LinkedHashMap<>();
            image.put("guest", new UUID(i, -i).toString());
            image.put("at", 1706702400L + i);
            image.put("day", i % 2 == 0 ? "2024-01-31" : "0000-01-01");
            image.put("paid", i % 2 == 0 ? "yes" : (Object) 0L);
            image.put("meta", "{\"i\": " + i + "}");
            images.add(image);
        }
        applier.upsert(connection, convert(applier.table(), images));
        applier.upsert(connection, convert(applier.table(), List.of(images.get(7))));
        connection.commit();

        // Keys as a delete event carries them: in their SQLite storage class, converted like the row.
        List<Object[]> keys = new ArrayList<>();
        for (int i : new int[] {0, 7, 299}) {
            Object[] key = convert(applier.table(), List.of(images.get(i))).get(0);
            keys.add(Arrays.copyOf(key, 4));
        }
        applier.delete(connection, keys);
        connection.commit();

        List<String> left = new ArrayList<>();
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery("SELECT guest, at, day, paid, meta FROM " + applier.table().qualifiedName() + " ORDER BY at")) {
            while (rs.next()) {
                left.add(rs.getString(1) + " " + rs.getString(3) + " " + rs.getString(4) + " " + rs.getString(5));
            }
        }
        assertEquals(297, left.size());
        assertEquals("00000000-0000-0001-ffff-ffffffffffff 0001-01-01 BC f {\"i\": 1}", left.get(0));
        assertEquals("00000000-0000-0002-ffff-fffffffffffe 2024-01-31 t {\"i\": 2}", left.get(1));
    }

    @Test
    void rowidKeyedTableIsUpsertedAndDeletedByItsRowid() throws SQLException {
        TableApplier applier = create(logTable());
        List<Object[]> rows = new ArrayList<>();
        for (int i = 1; i <= 400; i++) {
            rows.add(new Object[] {(long) i, TEXTS[i % TEXTS.length] + i});
        }
        applier.upsert(connection, rows);
        applier.upsert(connection, List.<Object[]>of(new Object[] {3L, "changed"}));
        applier.delete(connection, List.<Object[]>of(new Object[] {4L}));
        connection.commit();

        List<Object[]> expected = new ArrayList<>(rows);
        expected.set(2, new Object[] {3L, "changed"});
        expected.remove(3);
        assertRowsEqual(applier.table(), expected, readBack(applier.table(), "_ferry_rowid"), "_ferry_rowid");
    }

    @Test
    void namesPostgresCannotTakeAnEmptyNameAndSystemColumnNamesAreHashedAndWritten() throws SQLException {
        TableSchema schema = TableSchema.newBuilder().setSource("app").setTable("").setSchemaVersion(1L).setRowidKey(false)
                .setColumns(List.of(column("", "TEXT", false, 1), column("ctid", "INTEGER", false, 0), column("xmin", "", false, 0),
                        column("CTID", "", false, 0))).setTsMs(1L).build();
        TableApplier applier = create(schema);
        List<Object[]> rows = new ArrayList<>();
        for (int i = 0; i < TableApplier.COPY_THRESHOLD + 1; i++) {
            rows.add(new Object[] {"k" + i, (long) i, "x" + i, "upper"});
        }
        applier.upsert(connection, rows);
        applier.upsert(connection, List.<Object[]>of(new Object[] {"one more", 1L, "y", null}));
        connection.commit();

        String table = PgIdentifiers.pgName("");
        assertEquals("_00000000", table);
        assertEquals(List.of("_00000000 | text | NO", PgIdentifiers.pgName("ctid") + " | bigint | YES", PgIdentifiers.pgName("xmin") + " | text | YES",
                "CTID | text | YES"), columns(table), "CTID is another name: only the lower-case names are PostgreSQL's");
        assertTrue(PgIdentifiers.pgName("ctid").startsWith("ctid_"));
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*), sum(" + PgIdentifiers.quote("ctid")
                + ") FROM " + applier.table().qualifiedName())) {
            rs.next();
            assertEquals(TableApplier.COPY_THRESHOLD + 2, rs.getLong(1), "by COPY and by INSERT");
            assertEquals((long) TableApplier.COPY_THRESHOLD * (TableApplier.COPY_THRESHOLD + 1) / 2 + 1, rs.getLong(2));
        }
    }

    @Test
    void aRowidKeyedTableWithAColumnNamedAsTheRowidKeyGetsTheNextFreeName() throws SQLException {
        TableSchema schema = TableSchema.newBuilder().setSource("app").setTable("taken").setSchemaVersion(1L).setRowidKey(true)
                .setColumns(List.of(column("_ferry_rowid", "TEXT", false, 0), column("v", "", false, 0))).setTsMs(1L).build();
        TableApplier applier = create(schema);
        applier.upsert(connection, List.<Object[]>of(new Object[] {7L, "its own value", "x"}));
        connection.commit();

        assertEquals(List.of("_ferry_rowid_2 | bigint | NO", "_ferry_rowid | text | YES", "v | text | YES"), columns("taken"));
        assertEquals(List.of("_ferry_rowid_2"), primaryKey("taken"));
    }

    @Test
    void aRolledBackTransactionLeavesNothingAndTheNextCopyStillWorks() throws SQLException {
        TableApplier applier = create(selectTable());
        applier.upsert(connection, convert(applier.table(), selectImages(0, 500, 0)));
        connection.rollback();
        assertEquals(0, readBack(applier.table(), KEY).size());

        List<Object[]> rows = convert(applier.table(), selectImages(0, 500, 1));
        applier.upsert(connection, rows);
        connection.commit();
        assertRowsEqual(applier.table(), rows, readBack(applier.table(), KEY), KEY);
    }

    @Test
    void manyRowsOutsideATransactionAreRefusedRatherThanLost() throws SQLException {
        // In autocommit the COPY into the ON COMMIT DELETE ROWS staging table would commit, and empty it, on its own.
        TableApplier applier = create(selectTable());
        List<Object[]> rows = convert(applier.table(), selectImages(0, TableApplier.COPY_THRESHOLD, 0));
        connection.setAutoCommit(true);

        SQLException refused = assertThrows(SQLException.class, () -> applier.upsert(connection, rows));

        assertTrue(refused.getMessage().contains("transaction") && refused.getMessage().contains("\"select\""), refused.getMessage());
        assertEquals(0, readBack(applier.table(), KEY).size());
    }
}
