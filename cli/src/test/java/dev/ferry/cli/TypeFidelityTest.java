package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.schemas.avro.Op;
import dev.ferry.testkit.DeadLetters;
import dev.ferry.testkit.KafkaAndPostgres;
import dev.ferry.testkit.SqliteTestDatabase;
import dev.ferry.testkit.TableComparison;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The type mapping end to end, as docs/type-mapping.md specifies it: one SQLite table per kind of column, each row one
 * odd value. After the snapshot and after live changes, every row either arrived as the documented PostgreSQL value
 * (compared as PostgreSQL's text of it, in a UTC session) or is in the dead-letter topic with the documented reason,
 * and rows read = rows written + rows dead-lettered.
 */
class TypeFidelityTest {

    private static final String SOURCE = "fidelity";

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();

    @TempDir
    Path dir;

    /**
     * One value: the SQL expression inserted into SQLite, the storage class SQLite keeps it in, and the outcome: the text of the
     * PostgreSQL value ({@code null} for NULL), or a part of the dead-letter reason.
     */
    record Case(long id, String sql, String storageClass, String arrives, String refused) {
    }

    static Case arrives(long id, String sql, String storageClass, String pgText) {
        return new Case(id, sql, storageClass, pgText, null);
    }

    static Case refused(long id, String sql, String storageClass, String reason) {
        return new Case(id, sql, storageClass, null, reason);
    }

    /** A table {@code (id INTEGER PRIMARY KEY, v <declared>)}, the PostgreSQL type of v, and its rows. */
    record Table(String name, String declared, String pgType, List<Case> cases) {
    }

    static final List<Table> TABLES = List.of(
            new Table("integers", "INTEGER", "bigint", List.of(
                    arrives(1, "42", "integer", "42"),
                    arrives(2, "-9223372036854775808", "integer", "-9223372036854775808"),
                    refused(3, "'12abc'", "text", "TEXT value is not an integer (column \"v\", value '12abc')"),
                    refused(4, "1.5", "real", "REAL value 1.5 is not a 64-bit integer"),
                    arrives(5, "3.0", "integer", "3"),
                    refused(6, "1e20", "real", "REAL value 1.0E20 is not a 64-bit integer"),
                    // SQLite itself turns an integer text beyond 64 bits into a REAL.
                    refused(7, "'123456789012345678901234567890'", "real", "REAL value 1.2345678901234568E29 is not a 64-bit integer"),
                    refused(8, "9e999", "real", "REAL value Infinity is not a 64-bit integer"),
                    refused(9, "-9e999", "real", "REAL value -Infinity is not a 64-bit integer"),
                    refused(10, "X'0102'", "blob", "BLOB value in an integer column"),
                    arrives(11, "NULL", "null", null),
                    arrives(12, "'  7  '", "integer", "7"),
                    refused(13, "'0x10'", "text", "TEXT value is not an integer"))),
            new Table("reals", "REAL", "double precision", List.of(
                    arrives(1, "0.1", "real", "0.1"),
                    arrives(2, "9e999", "real", "Infinity"),
                    arrives(3, "-9e999", "real", "-Infinity"),
                    arrives(4, "'NaN'", "text", "NaN"),
                    arrives(5, "'-Infinity'", "text", "-Infinity"),
                    // SQLite cannot store NaN: it keeps NULL.
                    arrives(6, "0.0 / 0", "null", null),
                    arrives(7, "42", "real", "42"),
                    refused(8, "'12abc'", "text", "TEXT value is not a number"),
                    // SQLite reads a text that overflows as infinity itself.
                    arrives(9, "'1e400'", "real", "Infinity"),
                    refused(10, "X'00'", "blob", "BLOB value in a floating-point column"),
                    arrives(11, "9007199254740993", "real", "9.007199254740992e+15"))),
            new Table("numerics", "DECIMAL(10,2)", "numeric", List.of(
                    arrives(1, "12.345", "real", "12.345"),
                    arrives(2, "'NaN'", "text", "NaN"),
                    arrives(3, "9e999", "real", "Infinity"),
                    arrives(4, "'-Infinity'", "text", "-Infinity"),
                    arrives(5, "'123456789012345678901234567890'", "real", "123456789012345680000000000000"),
                    refused(6, "'N/A'", "text", "TEXT value is not a number"),
                    arrives(7, "0.1", "real", "0.1"),
                    arrives(8, "9223372036854775807", "integer", "9223372036854775807"),
                    refused(9, "X'01'", "blob", "BLOB value in a numeric column"))),
            new Table("texts", "VARCHAR(3)", "text", List.of(
                    arrives(1, "'longer than three'", "text", "longer than three"),
                    refused(2, "'nul' || char(0) || 'inside'", "text", "text contains a NUL character"),
                    refused(3, "CAST(X'66696C65966E616D65' AS TEXT)", "text", "BLOB value is not valid UTF-8 text"),
                    arrives(4, "42", "text", "42"),
                    arrives(5, "1.5", "text", "1.5"),
                    arrives(6, "X'6869'", "blob", "hi"),
                    arrives(7, "'caf\u00e9 \uD83D\uDE80'", "text", "caf\u00e9 \uD83D\uDE80"),
                    arrives(8, "9e999", "text", "Inf"))),
            new Table("booleans", "BOOLEAN", "boolean", List.of(
                    arrives(1, "1", "integer", "true"),
                    arrives(2, "0", "integer", "false"),
                    arrives(3, "'t'", "text", "true"),
                    arrives(4, "'f'", "text", "false"),
                    arrives(5, "'true'", "text", "true"),
                    arrives(6, "'FALSE'", "text", "false"),
                    arrives(7, "'yes'", "text", "true"),
                    arrives(8, "'No'", "text", "false"),
                    arrives(9, "'Y'", "text", "true"),
                    arrives(10, "'n'", "text", "false"),
                    arrives(11, "'on'", "text", "true"),
                    arrives(12, "'OFF'", "text", "false"),
                    arrives(13, "TRUE", "integer", "true"),
                    arrives(14, "'1'", "integer", "true"),
                    arrives(15, "1.0", "integer", "true"),
                    refused(16, "2", "integer", "INTEGER value 2 is not a boolean (0 or 1)"),
                    refused(17, "'maybe'", "text", "TEXT value is not a boolean"),
                    refused(18, "0.5", "real", "REAL value 0.5 is not a boolean"),
                    refused(19, "''", "text", "TEXT value is not a boolean"),
                    refused(20, "X'01'", "blob", "BLOB value in a boolean column"),
                    arrives(21, "NULL", "null", null))),
            new Table("timestamps", "DATETIME", "timestamp with time zone", List.of(
                    arrives(1, "'2024-01-31 12:00:00'", "text", "2024-01-31 12:00:00+00"),
                    arrives(2, "'2024-01-31T12:00:00.123Z'", "text", "2024-01-31 12:00:00.123+00"),
                    arrives(3, "'2024-01-31T12:00:00+02:00'", "text", "2024-01-31 10:00:00+00"),
                    arrives(4, "'2024-01-31'", "text", "2024-01-31 00:00:00+00"),
                    arrives(5, "'2024-01-31 12:00'", "text", "2024-01-31 12:00:00+00"),
                    arrives(6, "'2024-01-31T12:00:00.123456-05:30'", "text", "2024-01-31 17:30:00.123456+00"),
                    arrives(7, "1706702400", "integer", "2024-01-31 12:00:00+00"),
                    arrives(8, "1706702400123", "integer", "2024-01-31 12:00:00.123+00"),
                    arrives(9, "julianday('2024-01-31 12:00:00.123')", "real", "2024-01-31 12:00:00.123+00"),
                    // julianday() at noon is integral, and NUMERIC affinity stores it as an INTEGER.
                    arrives(10, "julianday('2024-01-31 12:00:00')", "integer", "2024-01-31 12:00:00+00"),
                    arrives(11, "1706702400.5", "real", "2024-01-31 12:00:00.5+00"),
                    arrives(12, "'1706702400'", "integer", "2024-01-31 12:00:00+00"),
                    // Small integers are Julian day numbers, as SQLite's 'auto' modifier reads them.
                    arrives(13, "0", "integer", "4714-11-24 12:00:00+00 BC"),
                    refused(14, "'garbage'", "text", "TEXT value is not an ISO-8601 date/time"),
                    refused(15, "'2024-02-30'", "text", "TEXT value is not a valid date/time"),
                    refused(16, "'31/01/2024'", "text", "TEXT value is not an ISO-8601 date/time"),
                    refused(17, "'2024-01-31 12:00:00.1234567'", "text", "more than microsecond precision"),
                    refused(18, "1e20", "real", "REAL value is neither a Julian day number"),
                    refused(19, "X'00'", "blob", "BLOB value in a timestamp column"),
                    arrives(20, "NULL", "null", null))),
            new Table("dates", "DATE", "date", List.of(
                    arrives(1, "'2024-01-31'", "text", "2024-01-31"),
                    arrives(2, "'2024-01-31 00:00:00'", "text", "2024-01-31"),
                    arrives(3, "julianday('2024-01-31')", "real", "2024-01-31"),
                    arrives(4, "'0000-01-01'", "text", "0001-01-01 BC"),
                    refused(5, "'2024-01-31 12:00:00'", "text", "date would drop the time of day"),
                    refused(6, "'not a date'", "text", "TEXT value is not an ISO-8601 date/time"))),
            new Table("times", "TIME", "time without time zone", List.of(
                    arrives(1, "'12:34'", "text", "12:34:00"),
                    arrives(2, "'12:34:56.789'", "text", "12:34:56.789"),
                    refused(3, "'25:00'", "text", "TEXT value is not a valid time of day"),
                    refused(4, "'12:00:00+02:00'", "text", "TEXT value is not a time of day"),
                    refused(5, "43200", "integer", "INTEGER value in a time column"))),
            new Table("documents", "JSON", "jsonb", List.of(
                    arrives(1, "'{\"b\":1,\"a\":[1,2]}'", "text", "{\"a\": [1, 2], \"b\": 1}"),
                    arrives(2, "'[]'", "text", "[]"),
                    refused(3, "'{\"a\":1,\"a\":2}'", "text", "has the key \"a\" twice; jsonb would keep only the last"),
                    refused(4, "'{bad json'", "text", "TEXT value is not JSON that jsonb keeps as it is: not valid JSON"),
                    refused(5, "'{\"s\":\"\\u0000\"}'", "text", "\\u0000, which jsonb cannot hold"),
                    arrives(6, "42", "integer", "42"),
                    arrives(7, "'\"text\"'", "text", "\"text\""),
                    refused(8, "'hello'", "text", "not valid JSON"),
                    arrives(9, "json_object('k', 'v', 'n', 1.5)", "text", "{\"k\": \"v\", \"n\": 1.5}"),
                    refused(10, "X'7B7D'", "blob", "BLOB value in a jsonb column"),
                    refused(11, "'{\"a\":1e999999}'", "text", "outside the range of PostgreSQL numeric"))),
            new Table("uuids", "UUID", "uuid", List.of(
                    arrives(1, "'123e4567-e89b-12d3-a456-426614174000'", "text", "123e4567-e89b-12d3-a456-426614174000"),
                    arrives(2, "'123E4567-E89B-12D3-A456-426614174000'", "text", "123e4567-e89b-12d3-a456-426614174000"),
                    arrives(3, "X'123e4567e89b12d3a456426614174000'", "blob", "123e4567-e89b-12d3-a456-426614174000"),
                    refused(4, "'not-a-uuid'", "text", "TEXT value is not a UUID"),
                    refused(5, "X'0102'", "blob", "BLOB value of 2 bytes is not a UUID"),
                    refused(6, "42", "integer", "INTEGER value in a uuid column"))),
            // No declared type: every storage class in one column, all kept as text but invalid UTF-8.
            new Table("mixed", "", "text", List.of(
                    arrives(1, "42", "integer", "42"),
                    arrives(2, "1.5", "real", "1.5"),
                    arrives(3, "'text'", "text", "text"),
                    arrives(4, "X'6869'", "blob", "hi"),
                    refused(5, "X'FF'", "blob", "BLOB value is not valid UTF-8 text"),
                    arrives(6, "NULL", "null", null))),
            // Odd multi-word integer names.
            new Table("odd_ints", "smallint unsigned", "bigint", List.of(
                    arrives(1, "70000", "integer", "70000"),
                    arrives(2, "-9223372036854775807", "integer", "-9223372036854775807"))),
            new Table("short_ints", "short integer", "bigint", List.of(arrives(1, "4294967296", "integer", "4294967296"))),
            // Overridden (see OVERRIDES): text columns holding integers beyond 64 bits, epoch milliseconds, JSON in a dotted table.
            new Table("text_numbers", "TEXT", "numeric", List.of(
                    arrives(1, "'123456789012345678901234567890'", "text", "123456789012345678901234567890"),
                    arrives(2, "'-0.000000000000000000001'", "text", "-0.000000000000000000001"),
                    refused(3, "'12abc'", "text", "TEXT value is not a number"))),
            new Table("text_bigints", "TEXT", "bigint", List.of(
                    arrives(1, "'9223372036854775807'", "text", "9223372036854775807"),
                    refused(2, "'123456789012345678901234567890'", "text", "TEXT value is an integer beyond 64 bits"))),
            new Table("epoch_ms", "INTEGER", "timestamp with time zone", List.of(
                    arrives(1, "1706702400123", "integer", "2024-01-31 12:00:00.123+00"),
                    refused(2, "9223372036854775807", "integer", "INTEGER value is neither a Julian day number"))),
            new Table("events.v2", "TEXT", "jsonb", List.of(
                    arrives(1, "'{\"ok\": true}'", "text", "{\"ok\": true}"),
                    refused(2, "'ok'", "text", "not valid JSON"))));

    static final Map<String, String> OVERRIDES = Map.of(
            "text_numbers.v", "numeric",
            "TEXT_BIGINTS.V", "int8",
            "epoch_ms.v", "timestamptz",
            "\"events.v2\".\"v\"", "jsonb");

    /** Live changes after the snapshot: new rows, a refused row fixed, a good row broken, a refused row deleted. */
    static final Map<String, List<Case>> LIVE_ROWS = Map.of(
            "integers", List.of(arrives(100, "'  100'", "integer", "100"), refused(101, "'1O1'", "text", "TEXT value is not an integer"),
                    arrives(3, "12", "integer", "12")),
            "timestamps", List.of(arrives(100, "1706702400999", "integer", "2024-01-31 12:00:00.999+00"),
                    refused(101, "'2024-01-31 25:00'", "text", "TEXT value is not a valid date/time")),
            "booleans", List.of(arrives(100, "'Yes'", "text", "true"), refused(101, "'si'", "text", "TEXT value is not a boolean")),
            "documents", List.of(arrives(100, "'{\"x\": [true]}'", "text", "{\"x\": [true]}"),
                    refused(101, "'[1,]'", "text", "not valid JSON")));
    /** A row that arrived, then changed to a value that cannot: PostgreSQL keeps the earlier value. */
    static final Case BROKEN = refused(1, "'later garbage'", "text", "TEXT value is not an ISO-8601 date/time");
    static final String BROKEN_TABLE = "timestamps";
    static final String DELETED_TABLE = "booleans";
    static final long DELETED_ID = 17;

    private static String quote(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    @Test
    void everyOddValueArrivesAsDocumentedOrIsADeadLetterWithTheDocumentedReason() throws Exception {
        List<String> ddl = new ArrayList<>();
        for (Table t : TABLES) {
            ddl.add("CREATE TABLE " + quote(t.name()) + " (id INTEGER PRIMARY KEY, v " + t.declared() + ")");
            for (Case c : t.cases()) {
                ddl.add("INSERT INTO " + quote(t.name()) + " VALUES (" + c.id() + ", " + c.sql() + ")");
            }
        }
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "fidelity.db", ddl.toArray(String[]::new));
        Map<String, Map<Long, Case>> expected = new LinkedHashMap<>();
        for (Table t : TABLES) {
            Map<Long, Case> byId = new TreeMap<>();
            t.cases().forEach(c -> byId.put(c.id(), c));
            expected.put(t.name(), byId);
        }
        assertStorageClasses(db, expected);

        Pipeline.Options options = new Pipeline.Options(db.path(), infra.pg().jdbcUrl(), dir.resolve("state"), SOURCE, infra.broker().bootstrapServers(),
                "ferry", SOURCE, 1, false, Map.of(), OVERRIDES);
        try (Pipeline pipeline = new Pipeline(options)) {
            pipeline.start();
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));

            assertColumnTypes();
            List<DeadLetter> snapshotLetters = deadLetters(pipeline.writer().deadLetters());
            for (Table t : TABLES) {
                long refused = t.cases().stream().filter(c -> c.refused() != null).count();
                long letters = snapshotLetters.stream().filter(l -> l.table().equals(t.name()) && l.op() == Op.r).count();
                assertEquals(db.count(t.name()), pgCount(t.name()) + letters,
                        t.name() + ": rows read by the snapshot = rows written + rows dead-lettered");
                assertEquals(refused, letters, t.name() + ": one dead letter per refused row");
            }
            assertRows(expected, snapshotLetters, Map.of());

            for (var e : LIVE_ROWS.entrySet()) {
                for (Case c : e.getValue()) {
                    db.execute("INSERT OR REPLACE INTO " + quote(e.getKey()) + " VALUES (" + c.id() + ", " + c.sql() + ")");
                    expected.get(e.getKey()).put(c.id(), c);
                }
            }
            db.execute("UPDATE " + quote(BROKEN_TABLE) + " SET v = " + BROKEN.sql() + " WHERE id = " + BROKEN.id());
            Case before = expected.get(BROKEN_TABLE).put(BROKEN.id(), BROKEN);
            db.execute("DELETE FROM " + quote(DELETED_TABLE) + " WHERE id = " + DELETED_ID);
            expected.get(DELETED_TABLE).remove(DELETED_ID);
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));

            assertStorageClasses(db, expected);
            List<DeadLetter> letters = deadLetters(pipeline.writer().deadLetters());
            assertRows(expected, letters, Map.of(BROKEN_TABLE + "/" + BROKEN.id(), before.arrives()));
            assertTheIndependentComparisonSeesOnlyTheRefusedRows(db, expected);
        }
    }

    /** What SQLite holds is what each case says: the test is about these storage classes. */
    private static void assertStorageClasses(SqliteTestDatabase db, Map<String, Map<Long, Case>> expected) throws SQLException {
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            for (var table : expected.entrySet()) {
                Map<Long, String> actual = new TreeMap<>();
                try (ResultSet rs = st.executeQuery("SELECT id, typeof(v) FROM " + quote(table.getKey()))) {
                    while (rs.next()) {
                        actual.put(rs.getLong(1), rs.getString(2));
                    }
                }
                Map<Long, String> wanted = new TreeMap<>();
                table.getValue().forEach((id, k) -> wanted.put(id, k.storageClass()));
                assertEquals(wanted, actual, table.getKey() + ": storage classes in SQLite");
            }
        }
    }

    private static void assertColumnTypes() throws SQLException {
        Map<String, String> expected = new TreeMap<>();
        TABLES.forEach(t -> expected.put(t.name(), t.pgType()));
        Map<String, String> actual = new TreeMap<>();
        try (Connection c = infra.pg().connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT table_name, data_type FROM information_schema.columns WHERE table_schema = '"
                     + SOURCE + "' AND column_name = 'v'")) {
            while (rs.next()) {
                actual.put(rs.getString(1), rs.getString(2));
            }
        }
        assertEquals(expected, actual, "the PostgreSQL type of each column");
    }

    /**
     * Row by row: an arriving value is in PostgreSQL as documented and not dead-lettered; a refused one is absent (or, in
     * {@code stale}, still holds its earlier value) and is in the dead-letter topic with the documented reason.
     */
    private static void assertRows(Map<String, Map<Long, Case>> expected, List<DeadLetter> letters, Map<String, String> stale) throws SQLException {
        for (var table : expected.entrySet()) {
            Map<Long, String> rows = pgRows(table.getKey());
            Set<Long> present = new HashSet<>(rows.keySet());
            for (Case c : table.getValue().values()) {
                String where = table.getKey() + " id " + c.id() + " (" + c.sql() + ")";
                List<DeadLetter> own = letters.stream().filter(l -> l.table().equals(table.getKey()) && l.id() == c.id()).toList();
                present.remove(c.id());
                if (c.refused() == null) {
                    assertTrue(rows.containsKey(c.id()), where + " must arrive; dead letters: " + own);
                    assertEquals(c.arrives(), rows.get(c.id()), where);
                    continue;
                }
                String staleValue = stale.get(table.getKey() + "/" + c.id());
                if (staleValue != null) {
                    assertEquals(staleValue, rows.get(c.id()), where + ": PostgreSQL keeps the value before the refused change");
                } else {
                    assertTrue(!rows.containsKey(c.id()), where + " must not arrive, but PostgreSQL has " + rows.get(c.id()));
                }
                DeadLetter last = own.isEmpty() ? null : own.get(own.size() - 1);
                assertNotNull(last, where + " must be in the dead-letter topic");
                assertTrue(last.reason().contains(c.refused()), where + ": reason '" + last.reason() + "' must say " + c.refused());
                assertTrue(last.reason().contains("(column \"v\", value "), where + ": the reason names column and value: " + last.reason());
                assertEquals("v", last.column(), where);
            }
            assertEquals(Set.of(), present, table.getKey() + ": PostgreSQL rows SQLite does not have");
        }
        for (DeadLetter l : letters) {
            Case c = expected.containsKey(l.table()) ? expected.get(l.table()).get(l.id()) : null;
            boolean refusedOnce = c != null && c.refused() != null
                    || l.table().equals("integers") && l.id() == 3 || l.table().equals(DELETED_TABLE) && l.id() == DELETED_ID;
            assertTrue(refusedOnce, "a dead letter for a row that is not refused: " + l);
        }
    }

    /** {@link TableComparison}, an oracle written apart from the writer, finds exactly the refused rows missing. */
    private static void assertTheIndependentComparisonSeesOnlyTheRefusedRows(SqliteTestDatabase db, Map<String, Map<Long, Case>> expected)
            throws SQLException {
        for (Table t : TABLES) {
            List<String> unexplained = new ArrayList<>();
            for (String difference : TableComparison.compare(db.path(), t.name(), infra.pg().jdbcUrl(), SOURCE).differences()) {
                Case c = expected.get(t.name()).values().stream()
                        .filter(k -> difference.startsWith("missing in PostgreSQL: key [" + k.id() + "]")
                                || difference.startsWith("key [" + k.id() + "] "))
                        .findFirst().orElse(null);
                boolean refused = c != null && c.refused() != null;
                if (!refused) {
                    unexplained.add(difference);
                }
            }
            assertEquals(List.of(), unexplained, t.name() + ": differences the type mapping does not explain");
        }
    }

    private static long pgCount(String table) throws SQLException {
        try (Connection c = infra.pg().connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM " + quote(SOURCE) + "." + quote(table))) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** id → PostgreSQL's text of v, read in a UTC session. */
    private static Map<Long, String> pgRows(String table) throws SQLException {
        Map<Long, String> rows = new TreeMap<>();
        try (Connection c = infra.pg().connect(); Statement st = c.createStatement()) {
            st.execute("SET TIME ZONE 'UTC'");
            try (ResultSet rs = st.executeQuery("SELECT id, v::text FROM " + quote(SOURCE) + "." + quote(table))) {
                while (rs.next()) {
                    rows.put(rs.getLong(1), rs.getString(2));
                }
            }
        }
        return rows;
    }

    record DeadLetter(String table, long id, Op op, String column, String reason) {
    }

    /** Every dead letter so far, in order; waits until the topic holds as many as the writer counted. */
    private static List<DeadLetter> deadLetters(long count) {
        return DeadLetters.read(infra.broker().bootstrapServers(), "ferry", SOURCE, count).stream()
                .map(l -> new DeadLetter(l.table(), (Long) l.key().get(0), l.op(), l.column(), l.reason())).toList();
    }

    @Test
    void aTypeOverrideOnTheCommandLineIsCheckedBeforeAnythingStarts() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "app.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
        for (var bad : Map.of(
                "t.v", "'t.v' must be TABLE.COLUMN=TYPE",
                "t.v=varchar(10)", "--type-override: type override 't.v': 'varchar(10)' is not a type ferry writes",
                "a.b.c=text", "--type-override: type override key 'a.b.c' has more than one dot").entrySet()) {
            FerryCommandTest.Run run = FerryCommandTest.ferry("up", "--sqlite", db.path().toString(), "--data-dir", dir.resolve("state").toString(),
                    "--type-override", bad.getKey());
            assertEquals(2, run.exitCode(), run.err());
            assertTrue(run.err().contains(bad.getValue()), run.err());
        }
        FerryCommandTest.Run twice = FerryCommandTest.ferry("up", "--sqlite", db.path().toString(), "--type-override", "t.v=jsonb",
                "--type-override", "t.v=uuid");
        assertEquals(2, twice.exitCode());
        assertTrue(twice.err().contains("--type-override 't.v' is given twice"), twice.err());
        assertTrue(FerryCommandTest.ferry("up", "--help").out().contains("--type-override=TABLE.COLUMN=TYPE"));
    }

    @Test
    void typeOverridesFromTheCommandLineReachThePipeline() {
        ConnectionOptions c = new ConnectionOptions();
        c.sqlite = Path.of("app.db");
        c.sourceName = "app";
        Pipeline.Options options = UpCommand.Options.validated(c, 1, null,
                List.of("\"users.v2\".meta=jsonb", "t.a=b=timestamptz"), false);
        assertEquals(Map.of("\"users.v2\".meta", "jsonb", "t.a=b", "timestamptz"), options.typeOverrides(),
                "split at the last '=': a name may hold one, a type never does");
        assertNull(Pipeline.Options.of(Path.of("app.db"), "jdbc:postgresql://x/y", Path.of("d")).typeOverrides().get("t.v"));
        assertThrows(IllegalArgumentException.class, () -> UpCommand.Options.validated(c, 1, null, List.of("t.v=serial"), false));
    }
}
