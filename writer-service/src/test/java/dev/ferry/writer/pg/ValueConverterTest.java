package dev.ferry.writer.pg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Each PostgreSQL type against each SQLite storage class: Long, Double, String, ByteBuffer (BLOB) and null. */
class ValueConverterTest {

    private static final String COLUMN = "Weird \"col\"";

    private static Object convert(PgType type, Object value) throws ValueConversionException {
        return ValueConverter.convert(type, COLUMN, value);
    }

    private static ByteBuffer blob(byte... bytes) {
        return ByteBuffer.wrap(bytes);
    }

    /** The refusal names the column and shows the value, so that a dead letter can be acted on. */
    private static ValueConversionException assertRefused(PgType type, Object value, String valueShown, String reason) {
        ValueConversionException e = assertThrows(ValueConversionException.class, () -> convert(type, value),
                () -> type + " must refuse " + value);
        assertEquals(COLUMN, e.column());
        assertTrue(e.getMessage().contains("\"" + COLUMN + "\""), e.getMessage());
        assertTrue(e.getMessage().contains(valueShown), "message shows the value " + valueShown + ": " + e.getMessage());
        assertTrue(e.getMessage().contains(reason), "message says why (" + reason + "): " + e.getMessage());
        return e;
    }

    @Test
    void nullIsNullForEveryType() throws ValueConversionException {
        for (PgType type : PgType.values()) {
            assertNull(convert(type, null), type.toString());
        }
    }

    // --- bigint

    @Test
    void bigintTakesIntegersAndIntegralRealsAndIntegerText() throws ValueConversionException {
        assertEquals(42L, convert(PgType.BIGINT, 42L));
        assertEquals(Long.MIN_VALUE, convert(PgType.BIGINT, Long.MIN_VALUE));
        assertEquals(Long.MAX_VALUE, convert(PgType.BIGINT, Long.MAX_VALUE));
        assertEquals(3L, convert(PgType.BIGINT, 3.0));
        assertEquals(-7L, convert(PgType.BIGINT, -7.0));
        assertEquals(0L, convert(PgType.BIGINT, -0.0));
        assertEquals(Long.MIN_VALUE, convert(PgType.BIGINT, -0x1p63), "-2^63 is a bigint");
        assertEquals(12L, convert(PgType.BIGINT, "12"));
        assertEquals(-12L, convert(PgType.BIGINT, " -12 "));
        assertEquals(Long.MIN_VALUE, convert(PgType.BIGINT, "-9223372036854775808"));
    }

    @Test
    void bigintRefusesWhatIsNotA64BitInteger() {
        assertRefused(PgType.BIGINT, "12abc", "'12abc'", "not an integer");
        assertRefused(PgType.BIGINT, "", "''", "not an integer");
        assertRefused(PgType.BIGINT, "1.0", "'1.0'", "not an integer");
        assertRefused(PgType.BIGINT, "9223372036854775808", "'9223372036854775808'", "not an integer");
        assertRefused(PgType.BIGINT, 1.5, "1.5", "not a 64-bit integer");
        assertRefused(PgType.BIGINT, Double.NaN, "NaN", "not a 64-bit integer");
        assertRefused(PgType.BIGINT, Double.POSITIVE_INFINITY, "Infinity", "not a 64-bit integer");
        assertRefused(PgType.BIGINT, 0x1p63, "9.223372036854776E18", "not a 64-bit integer");
        assertRefused(PgType.BIGINT, blob((byte) 1), "BLOB of 1 bytes", "BLOB value in an integer column");
    }

    @Test
    void bigintRefusesDigitsPostgresqlWouldNotReadAsANumber() {
        // Arabic-Indic digits: Java's parser reads them as 12, SQLite and PostgreSQL see text.
        assertRefused(PgType.BIGINT, "\u0661\u0662", "'\u0661\u0662'", "not an integer");
    }

    // --- double precision

    @Test
    void doublePrecisionTakesRealsIntegersAndNumericText() throws ValueConversionException {
        assertEquals(0.1, convert(PgType.DOUBLE, 0.1));
        assertEquals(Double.NaN, convert(PgType.DOUBLE, Double.NaN));
        assertEquals(Double.POSITIVE_INFINITY, convert(PgType.DOUBLE, Double.POSITIVE_INFINITY));
        assertEquals(Double.NEGATIVE_INFINITY, convert(PgType.DOUBLE, Double.NEGATIVE_INFINITY));
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits((Double) convert(PgType.DOUBLE, -0.0)), "-0.0 keeps its sign");
        assertEquals(Double.MIN_VALUE, convert(PgType.DOUBLE, Double.MIN_VALUE));
        assertEquals(42.0, convert(PgType.DOUBLE, 42L));
        assertEquals(1.5, convert(PgType.DOUBLE, "1.5"));
        assertEquals(-2.5e-10, convert(PgType.DOUBLE, " -2.5e-10 "));
        assertEquals(Double.NaN, convert(PgType.DOUBLE, "NaN"), "PostgreSQL's float8 reads 'NaN' too");
        assertEquals(Double.NEGATIVE_INFINITY, convert(PgType.DOUBLE, "-Infinity"));
    }

    @Test
    void doublePrecisionRefusesTextThatIsNotANumber() {
        assertRefused(PgType.DOUBLE, "abc", "'abc'", "not a number");
        assertRefused(PgType.DOUBLE, "", "''", "not a number");
        assertRefused(PgType.DOUBLE, blob((byte) 1, (byte) 2), "BLOB of 2 bytes", "BLOB value in a floating-point column");
    }

    @Test
    void doublePrecisionRefusesJavaOnlyNumberSyntax() {
        // Java's Double.parseDouble reads these; SQLite keeps them as text and PostgreSQL refuses them.
        assertRefused(PgType.DOUBLE, "1.5f", "'1.5f'", "not a number");
        assertRefused(PgType.DOUBLE, "2d", "'2d'", "not a number");
        assertRefused(PgType.DOUBLE, "0x1p3", "'0x1p3'", "not a number");
    }

    // --- numeric

    @Test
    void numericTakesIntegersRealsAsTheirShortestDecimalAndDecimalText() throws ValueConversionException {
        assertEquals(new BigDecimal("9223372036854775807"), convert(PgType.NUMERIC, Long.MAX_VALUE));
        assertEquals(new BigDecimal("0.1"), convert(PgType.NUMERIC, 0.1), "0.1, not 0.1000000000000000055511151231257827");
        assertEquals(new BigDecimal("1.0E+300"), convert(PgType.NUMERIC, 1e300));
        assertEquals(new BigDecimal("123.4500"), convert(PgType.NUMERIC, "123.4500"), "the scale of text is kept");
        assertEquals(new BigDecimal("-123456789012345678901234567890.123456789"),
                convert(PgType.NUMERIC, "-123456789012345678901234567890.123456789"), "beyond the range of long and double");
    }

    @Test
    void numericRefusesNanInfinityTextAndBlobs() {
        assertRefused(PgType.NUMERIC, Double.NaN, "NaN", "has no numeric equivalent");
        assertRefused(PgType.NUMERIC, Double.POSITIVE_INFINITY, "Infinity", "has no numeric equivalent");
        assertRefused(PgType.NUMERIC, Double.NEGATIVE_INFINITY, "-Infinity", "has no numeric equivalent");
        assertRefused(PgType.NUMERIC, "12abc", "'12abc'", "not a number");
        assertRefused(PgType.NUMERIC, "\u0661\u0662", "'\u0661\u0662'", "not a number");
        assertRefused(PgType.NUMERIC, blob(), "BLOB of 0 bytes", "BLOB value in a numeric column");
    }

    // --- text

    @Test
    void textTakesTextNumbersAndUtf8Blobs() throws ValueConversionException {
        String hostile = "tab\there, new\nline, cr\r, back\\slash, 'single' \"double\", caf\u00e9 \uD83D\uDE80, \\N";
        assertEquals(hostile, convert(PgType.TEXT, hostile));
        assertEquals("", convert(PgType.TEXT, ""));
        assertEquals("42", convert(PgType.TEXT, 42L));
        assertEquals("-9223372036854775808", convert(PgType.TEXT, Long.MIN_VALUE));
        assertEquals(0.1, Double.parseDouble((String) convert(PgType.TEXT, 0.1)), "a REAL becomes text that reads back as the same double");
        assertEquals(1e300, Double.parseDouble((String) convert(PgType.TEXT, 1e300)));
        assertEquals("caf\u00e9 \uD83D\uDE80", convert(PgType.TEXT, blob("caf\u00e9 \uD83D\uDE80".getBytes(StandardCharsets.UTF_8))));
        assertEquals("", convert(PgType.TEXT, blob()));
    }

    @Test
    void textRefusesInvalidUtf8AndNul() {
        assertRefused(PgType.TEXT, blob((byte) 0xC3, (byte) 0x28), "BLOB of 2 bytes", "not valid UTF-8");
        assertRefused(PgType.TEXT, blob((byte) 0xFF), "BLOB of 1 bytes", "not valid UTF-8");
        assertRefused(PgType.TEXT, blob((byte) 0xED, (byte) 0xA0, (byte) 0x80), "BLOB of 3 bytes", "not valid UTF-8");
        assertRefused(PgType.TEXT, "a\u0000b", "'a\u0000b'", "NUL");
        assertRefused(PgType.TEXT, blob((byte) 'a', (byte) 0), "BLOB of 2 bytes", "NUL");
    }

    @Test
    void textOfABlobLeavesTheBlobUnread() throws ValueConversionException {
        ByteBuffer b = blob("xyz".getBytes(StandardCharsets.UTF_8));
        convert(PgType.TEXT, b);
        assertEquals(3, b.remaining(), "a row image can be converted twice (e.g. row-by-row retry)");
    }

    // --- bytea

    @Test
    void byteaTakesBlobsExactlyAndTextAsItsUtf8Bytes() throws ValueConversionException {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        assertArrayEquals(all, assertInstanceOf(byte[].class, convert(PgType.BYTEA, ByteBuffer.wrap(all))));
        assertArrayEquals(new byte[0], (byte[]) convert(PgType.BYTEA, blob()));
        ByteBuffer slice = ByteBuffer.wrap(new byte[] {9, 1, 2, 3, 9}, 1, 3).slice();
        assertArrayEquals(new byte[] {1, 2, 3}, (byte[]) convert(PgType.BYTEA, slice), "only the buffer's own bytes");
        assertEquals(3, slice.remaining(), "the buffer is not consumed");
        assertArrayEquals("caf\u00e9".getBytes(StandardCharsets.UTF_8), (byte[]) convert(PgType.BYTEA, "caf\u00e9"));
        assertArrayEquals("42".getBytes(StandardCharsets.US_ASCII), (byte[]) convert(PgType.BYTEA, 42L));
    }

    @Test
    void aLongValueIsShortenedInTheMessage() {
        String longText = "x".repeat(10_000);
        ValueConversionException e = assertThrows(ValueConversionException.class, () -> convert(PgType.BIGINT, longText));
        assertTrue(e.getMessage().length() < 300, e.getMessage().length() + " characters");
        assertTrue(e.getMessage().contains(COLUMN), e.getMessage());
    }
}
