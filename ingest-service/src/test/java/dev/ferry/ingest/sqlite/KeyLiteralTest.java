package dev.ferry.ingest.sqlite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The key text of the changelog is written by SQLite's own {@code quote()}; {@link KeyLiteral#parse} must give back
 * exactly the values, in their storage classes. The literals here are produced by a real SQLite, never by hand.
 */
class KeyLiteralTest {

    @TempDir
    Path dir;
    private Connection sqlite;

    @BeforeEach
    void open() throws SQLException {
        sqlite = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("quote.db"));
    }

    @AfterEach
    void close() throws SQLException {
        sqlite.close();
    }

    private static byte[] allByteValues() {
        byte[] bytes = new byte[256];
        for (int i = 0; i < 256; i++) {
            bytes[i] = (byte) i;
        }
        return bytes;
    }

    /** Values of every storage class that a key column can hold (SQLite keys cannot hold NaN: it is stored as NULL). */
    private static final List<Object> VALUES = List.of(
            0L, 1L, -1L, 42L, -9_876_543_210L, Long.MIN_VALUE, Long.MAX_VALUE, Long.MIN_VALUE + 1, Long.MAX_VALUE - 1,
            0.0, -0.0, 0.1, -0.1, 1.5, 100.0, -100.0, 1e300, -1e300, 1e-300, 1e20, 1e15, 123456789.123456789,
            Double.MAX_VALUE, Double.MIN_VALUE, Double.MIN_NORMAL, 9007199254740993.0, 1.0 / 3, Math.PI,
            Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
            "", "a", "it's", "''", "'", ",", "a,b", ",'", "x','y", "NULL", "null", "12", "-3", "1.5", "X'00'", "x'41'",
            "new\nline", "cr\r\nlf", "tab\there", "back\\slash", "\"double\"", "caf\u00e9", "\u4e2d\u6587",
            "emoji \uD83D\uDE80\uD83D\uDC4D\uD83C\uDFFD", " leading and trailing ", "  ", "\u0001\u001f control",
            new byte[0], new byte[] {0}, new byte[] {0, 0}, new byte[] {'\'', ',', 'X'}, allByteValues(), new byte[] {(byte) 0xFF},
            new Nothing());

    /** Marks SQL NULL in the value list (List.of refuses null). */
    private record Nothing() {
    }

    private static Object unwrap(Object v) {
        return v instanceof Nothing ? null : v;
    }

    /** What the parser must return for {@code v}: the value itself, but for -0.0, whose sign quote() does not write. */
    private static Object expected(Object v) {
        return v instanceof Double d && d == 0.0 ? (Object) 0.0 : unwrap(v);
    }

    /** The key text exactly as the capture trigger builds it: quote() of each value joined by ','. */
    private String quoted(Object... values) throws SQLException {
        String expr = String.join(" || ',' || ", java.util.Collections.nCopies(values.length, "quote(?)"));
        try (PreparedStatement ps = sqlite.prepareStatement("SELECT " + expr)) {
            for (int i = 0; i < values.length; i++) {
                Object v = unwrap(values[i]);
                if (v == null) {
                    ps.setNull(i + 1, Types.NULL);
                } else if (v instanceof Long l) {
                    ps.setLong(i + 1, l);
                } else if (v instanceof Double d) {
                    ps.setDouble(i + 1, d);
                } else if (v instanceof String s) {
                    ps.setString(i + 1, s);
                } else {
                    ps.setBytes(i + 1, (byte[]) v);
                }
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    private static void assertSameStorageClassAndValue(Object expected, Object actual, String literal) {
        String what = "value " + describe(expected) + " from key text [" + literal + "]";
        if (expected == null) {
            assertNull(actual, what);
        } else if (expected instanceof Double d) {
            Double a = assertInstanceOf(Double.class, actual, what);
            assertEquals(Double.doubleToRawLongBits(d), Double.doubleToRawLongBits(a), what + " came back as " + a);
        } else if (expected instanceof byte[] b) {
            assertArrayEquals(b, assertInstanceOf(byte[].class, actual, what), what);
        } else {
            assertInstanceOf(expected.getClass(), actual, what);
            assertEquals(expected, actual, what);
        }
    }

    private static String describe(Object v) {
        return v instanceof byte[] b ? "BLOB " + Arrays.toString(b) : v == null ? "NULL" : v.getClass().getSimpleName() + " [" + v + "]";
    }

    @Test
    void everySingleValueComesBackInItsStorageClass() throws SQLException {
        for (Object value : VALUES) {
            String literal = quoted(value);
            List<Object> parsed = KeyLiteral.parse(literal);
            assertEquals(1, parsed.size(), "one value in [" + literal + "]");
            assertSameStorageClassAndValue(expected(value), parsed.get(0), literal);
        }
    }

    @Test
    void everyPairOfValuesComesBackAsACompositeKey() throws SQLException {
        for (Object first : VALUES) {
            for (Object second : VALUES) {
                String literal = quoted(first, second);
                List<Object> parsed = KeyLiteral.parse(literal);
                assertEquals(2, parsed.size(), "two values in [" + literal + "]");
                assertSameStorageClassAndValue(expected(first), parsed.get(0), literal);
                assertSameStorageClassAndValue(expected(second), parsed.get(1), literal);
            }
        }
    }

    @Test
    void aWideCompositeKeyOfEveryStorageClassComesBackInOrder() throws SQLException {
        Object[] values = VALUES.toArray();
        String literal = quoted(values);
        List<Object> parsed = KeyLiteral.parse(literal);
        assertEquals(values.length, parsed.size());
        for (int i = 0; i < values.length; i++) {
            assertSameStorageClassAndValue(expected(values[i]), parsed.get(i), literal);
        }
    }

    @Test
    void textThatLooksLikeANumberOrNullStaysText() throws SQLException {
        assertEquals(List.of("12", "NULL", "1.5"), KeyLiteral.parse(quoted("12", "NULL", "1.5")));
        List<Object> numbers = KeyLiteral.parse(quoted(12L, new Nothing(), 1.5));
        assertEquals(12L, numbers.get(0));
        assertNull(numbers.get(1));
        assertEquals(1.5, numbers.get(2));
    }

    @Test
    void aRealKeyWithAnIntegralValueStaysReal() throws SQLException {
        String literal = quoted(100.0);
        Object parsed = KeyLiteral.parse(literal).get(0);
        assertInstanceOf(Double.class, parsed, "[" + literal + "] is a REAL, not an INTEGER");
        assertEquals(100.0, parsed);
    }

    @Test
    void malformedKeyTextIsRefusedWithTheTextInTheMessage() {
        IllegalArgumentException unterminated = assertThrows(IllegalArgumentException.class, () -> KeyLiteral.parse("1,'abc"));
        assertTrue(unterminated.getMessage().contains("1,'abc"), unterminated.getMessage());
        IllegalArgumentException trailingComma = assertThrows(IllegalArgumentException.class, () -> KeyLiteral.parse("1,"));
        assertTrue(trailingComma.getMessage().contains("1,"), trailingComma.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KeyLiteral.parse("'a'b"));
    }

    @Test
    void textWhoseBytesAreNotUtf8ComesBackAsInvalidTextWithItsBytesAndFormatsBack() throws SQLException {
        String literal;
        try (PreparedStatement ps = sqlite.prepareStatement("SELECT 'T''' || hex(CAST(X'6BC328' AS TEXT)) || ''''"
                + " || ',T''' || hex('k' || char(0) || 'é') || ''''")) {
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                literal = rs.getString(1);
            }
        }
        List<Object> parsed = KeyLiteral.parse(literal);
        KeyLiteral.InvalidText invalid = assertInstanceOf(KeyLiteral.InvalidText.class, parsed.get(0), literal);
        assertArrayEquals(new byte[] {0x6B, (byte) 0xC3, 0x28}, invalid.bytes(), "not replaced by U+FFFD");
        assertEquals("k\u0000é", parsed.get(1), "a NUL is valid UTF-8");
        assertEquals(literal, KeyLiteral.format(parsed, java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void negativeZeroComesBackAsRealZeroBecauseQuoteDropsItsSign() throws SQLException {
        // SQLite's quote(-0.0) is '0.0'; SQLite also compares -0.0 = 0.0, so the key still finds its row.
        String literal = quoted(-0.0);
        assertEquals("0.0", literal);
        assertEquals(List.of(0.0), KeyLiteral.parse(literal));
    }
}
