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
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
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
        assertRefused(PgType.BIGINT, "9223372036854775808", "'9223372036854775808'", "an integer beyond 64 bits");
        assertRefused(PgType.BIGINT, "123456789012345678901234567890", "'123456789012345678901234567890'", "an integer beyond 64 bits");
        assertRefused(PgType.BIGINT, 1e20, "1.0E20", "not a 64-bit integer");
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
    void doublePrecisionRefusesTextBeyondItsRangeInsteadOfRoundingItToInfinityOrZero() throws ValueConversionException {
        assertRefused(PgType.DOUBLE, "1e400", "'1e400'", "outside the range of double precision");
        assertRefused(PgType.DOUBLE, "-1e400", "'-1e400'", "outside the range of double precision");
        assertRefused(PgType.DOUBLE, "1e-400", "'1e-400'", "outside the range of double precision");
        assertEquals(0.0, convert(PgType.DOUBLE, "0e400"), "zero is zero at any exponent");
        assertEquals(1e-320, convert(PgType.DOUBLE, "1e-320"), "subnormal numbers are numbers, as in PostgreSQL");
    }

    @Test
    void doublePrecisionRefusesAnIntegerItCannotHoldExactly() throws ValueConversionException {
        assertEquals(9007199254740992.0, convert(PgType.DOUBLE, 9007199254740992L), "2^53");
        assertEquals(0x1p62, convert(PgType.DOUBLE, 1L << 62));
        assertRefused(PgType.DOUBLE, 9007199254740993L, "9007199254740993", "no exact double precision equivalent");
        assertRefused(PgType.DOUBLE, Long.MAX_VALUE, "9223372036854775807", "no exact double precision equivalent");
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
        assertEquals(new BigDecimal("1E+300"), convert(PgType.NUMERIC, 1e300));
        assertEquals(new BigDecimal("0.0000001"), convert(PgType.NUMERIC, 1e-7), "not 0.00000010: Java writes 1.0E-7");
        assertEquals("100", ((BigDecimal) convert(PgType.NUMERIC, 100.0)).toPlainString());
        assertEquals(new BigDecimal("123.4500"), convert(PgType.NUMERIC, "123.4500"), "the scale of text is kept");
        assertEquals(new BigDecimal("-123456789012345678901234567890.123456789"),
                convert(PgType.NUMERIC, "-123456789012345678901234567890.123456789"), "beyond the range of long and double");
    }

    @Test
    void numericTakesNanAndInfinityAsPostgresql14Does() throws ValueConversionException {
        assertEquals(Double.NaN, convert(PgType.NUMERIC, Double.NaN));
        assertEquals(Double.POSITIVE_INFINITY, convert(PgType.NUMERIC, Double.POSITIVE_INFINITY));
        assertEquals(Double.NEGATIVE_INFINITY, convert(PgType.NUMERIC, Double.NEGATIVE_INFINITY));
        assertEquals(Double.NaN, convert(PgType.NUMERIC, "NaN"));
        assertEquals(Double.NEGATIVE_INFINITY, convert(PgType.NUMERIC, " -Infinity "));
    }

    @Test
    void numericTakesIntegersBeyond64BitsAsText() throws ValueConversionException {
        assertEquals(new BigDecimal("123456789012345678901234567890"), convert(PgType.NUMERIC, "123456789012345678901234567890"));
        assertEquals(new BigDecimal("1E+20"), convert(PgType.NUMERIC, 1e20), "a REAL beyond 64 bits is the number it holds");
    }

    @Test
    void numericRefusesTextBlobsAndNumbersBeyondItsRange() {
        assertRefused(PgType.NUMERIC, "12abc", "'12abc'", "not a number");
        assertRefused(PgType.NUMERIC, "\u0661\u0662", "'\u0661\u0662'", "not a number");
        assertRefused(PgType.NUMERIC, "nan", "'nan'", "not a number");
        assertRefused(PgType.NUMERIC, blob(), "BLOB of 0 bytes", "BLOB value in a numeric column");
        // PostgreSQL's numeric: at most 131072 digits before the point and 16383 after.
        assertRefused(PgType.NUMERIC, "1e131072", "'1e131072'", "outside the range of PostgreSQL numeric");
        assertRefused(PgType.NUMERIC, "1e-16384", "'1e-16384'", "outside the range of PostgreSQL numeric");
        assertRefused(PgType.NUMERIC, "1e99999999999", "'1e99999999999'", "outside the range of PostgreSQL numeric");
    }

    @Test
    void numericTakesTheEdgesOfItsRange() throws ValueConversionException {
        assertEquals(new BigDecimal("1e131071"), convert(PgType.NUMERIC, "1e131071"));
        assertEquals(new BigDecimal("1e-16383"), convert(PgType.NUMERIC, "1e-16383"));
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

    // --- boolean

    @Test
    void booleanTakesZeroAndOneAndTheUsualWordsInAnyCase() throws ValueConversionException {
        assertEquals(true, convert(PgType.BOOLEAN, 1L));
        assertEquals(false, convert(PgType.BOOLEAN, 0L));
        assertEquals(true, convert(PgType.BOOLEAN, 1.0));
        assertEquals(false, convert(PgType.BOOLEAN, -0.0));
        for (String yes : List.of("1", "t", "T", "true", "TRUE", "True", "y", "Y", "yes", "YES", "on", "On", " true ")) {
            assertEquals(true, convert(PgType.BOOLEAN, yes), yes);
        }
        for (String no : List.of("0", "f", "F", "false", "FALSE", "n", "N", "no", "No", "off", "OFF", "\tno\n")) {
            assertEquals(false, convert(PgType.BOOLEAN, no), no);
        }
    }

    @Test
    void booleanRefusesEverythingElse() {
        assertRefused(PgType.BOOLEAN, 2L, "2", "INTEGER value 2 is not a boolean");
        assertRefused(PgType.BOOLEAN, -1L, "-1", "is not a boolean");
        assertRefused(PgType.BOOLEAN, 0.5, "0.5", "REAL value 0.5 is not a boolean");
        assertRefused(PgType.BOOLEAN, Double.NaN, "NaN", "is not a boolean");
        for (String garbage : List.of("maybe", "", "tru", "yes!", "2", "nope", "enabled")) {
            assertRefused(PgType.BOOLEAN, garbage, "'" + garbage + "'", "TEXT value is not a boolean");
        }
        assertRefused(PgType.BOOLEAN, blob((byte) 1), "BLOB of 1 bytes", "BLOB value in a boolean column");
    }

    // --- timestamptz

    private static OffsetDateTime utc(String iso) {
        return OffsetDateTime.parse(iso).withOffsetSameInstant(ZoneOffset.UTC);
    }

    @Test
    void timestampTakesIsoTextWithAndWithoutZoneAndFraction() throws ValueConversionException {
        assertEquals(utc("2024-01-31T12:00:00Z"), convert(PgType.TIMESTAMPTZ, "2024-01-31 12:00:00"), "no zone: UTC, as SQLite reads it");
        assertEquals(utc("2024-01-31T12:00:00Z"), convert(PgType.TIMESTAMPTZ, "2024-01-31T12:00:00"));
        assertEquals(utc("2024-01-31T12:00:00Z"), convert(PgType.TIMESTAMPTZ, "2024-01-31 12:00"));
        assertEquals(utc("2024-01-31T00:00:00Z"), convert(PgType.TIMESTAMPTZ, "2024-01-31"));
        assertEquals(utc("2024-01-31T12:00:00.123Z"), convert(PgType.TIMESTAMPTZ, "2024-01-31T12:00:00.123Z"));
        assertEquals(utc("2024-01-31T12:00:00.123Z"), convert(PgType.TIMESTAMPTZ, "2024-01-31T12:00:00.123z"));
        assertEquals(utc("2024-01-31T10:00:00Z"), convert(PgType.TIMESTAMPTZ, "2024-01-31T12:00:00+02:00"));
        assertEquals(utc("2024-01-31T17:30:00Z"), convert(PgType.TIMESTAMPTZ, "2024-01-31 12:00:00 -05:30"));
        assertEquals(utc("2024-01-31T12:00:00.123456Z"), convert(PgType.TIMESTAMPTZ, "2024-01-31 12:00:00.123456"));
        assertEquals(utc("2024-01-31T12:00:00.1Z"), convert(PgType.TIMESTAMPTZ, "2024-01-31 12:00:00.100000000"), "zeros beyond microseconds");
        assertEquals(utc("2024-02-29T00:00:00Z"), convert(PgType.TIMESTAMPTZ, "2024-02-29"), "a leap day");
        assertEquals(utc("0000-01-01T00:00:00Z"), convert(PgType.TIMESTAMPTZ, "0000-01-01"), "ISO year 0, which PostgreSQL calls 1 BC");
    }

    @Test
    void timestampRefusesTextThatIsNotADateTime() {
        for (String garbage : List.of("garbage", "", "now", "2024-1-31", "31/01/2024", "2024-01-31T", "2024-01-31 12", "12:00:00",
                "2024-01-31 12:00:00 CET", "2024-01-31+02:00", "2024-01-31t12:00", " 2024-01-31", "1706702400", "2024-01-31 12:00:00+0200")) {
            assertRefused(PgType.TIMESTAMPTZ, garbage, "'" + garbage + "'", "not an ISO-8601 date/time");
        }
        for (String impossible : List.of("2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10", "2024-01-31 24:00:00", "2024-01-31 12:60",
                "2024-01-31 12:00:60", "2024-01-31 12:00:00+19:00")) {
            assertRefused(PgType.TIMESTAMPTZ, impossible, "'" + impossible + "'", "not a valid date/time");
        }
        assertRefused(PgType.TIMESTAMPTZ, "2024-01-31 12:00:00.1234567", "'2024-01-31 12:00:00.1234567'", "more than microsecond precision");
        assertRefused(PgType.TIMESTAMPTZ, blob((byte) 1), "BLOB of 1 bytes", "BLOB value in a timestamp column");
    }

    @Test
    void timestampTakesIntegersAsJulianDaysUnixSecondsOrUnixMillisecondsByMagnitude() throws ValueConversionException {
        // [0, 5373484]: Julian day numbers, as SQLite's 'auto' modifier reads them.
        assertEquals(utc("2024-01-31T12:00:00Z"), convert(PgType.TIMESTAMPTZ, 2460341L), "julianday('2024-01-31 12:00:00')");
        assertEquals(utc("-4713-11-24T12:00:00Z"), convert(PgType.TIMESTAMPTZ, 0L), "Julian day 0, also when an app meant 1970");
        assertEquals(utc("9999-12-31T12:00:00Z"), convert(PgType.TIMESTAMPTZ, 5373484L));
        // Then Unix seconds up to the end of year 9999.
        assertEquals(utc("1970-03-04T04:38:05Z"), convert(PgType.TIMESTAMPTZ, 5373485L));
        assertEquals(utc("2024-01-31T12:00:00Z"), convert(PgType.TIMESTAMPTZ, 1706702400L));
        assertEquals(utc("1969-12-31T23:59:59Z"), convert(PgType.TIMESTAMPTZ, -1L));
        assertEquals(utc("9999-12-31T23:59:59Z"), convert(PgType.TIMESTAMPTZ, 253402300799L));
        assertEquals(utc("-4713-11-24T12:00:00Z"), convert(PgType.TIMESTAMPTZ, -210866760000L));
        // Then Unix milliseconds.
        assertEquals(utc("1978-01-11T21:31:40.800Z"), convert(PgType.TIMESTAMPTZ, 253402300800L));
        assertEquals(utc("2024-01-31T12:00:00.123Z"), convert(PgType.TIMESTAMPTZ, 1706702400123L));
        assertEquals(utc("9999-12-31T23:59:59.999Z"), convert(PgType.TIMESTAMPTZ, 253402300799999L));
        assertEquals(utc("1963-04-25T20:53:20Z"), convert(PgType.TIMESTAMPTZ, -211000000000L), "below -210866760000: milliseconds");
    }

    @Test
    void timestampRefusesIntegersBeyondEveryRange() {
        assertRefused(PgType.TIMESTAMPTZ, 253402300800000L, "253402300800000", "neither a Julian day number");
        assertRefused(PgType.TIMESTAMPTZ, 1706702400123456L, "1706702400123456", "neither a Julian day number");
        assertRefused(PgType.TIMESTAMPTZ, -210866760000001L, "-210866760000001", "neither a Julian day number");
        assertRefused(PgType.TIMESTAMPTZ, Long.MAX_VALUE, "9223372036854775807", "neither a Julian day number");
    }

    @Test
    void timestampTakesRealsAsJulianDaysToTheMillisecondAndUnixTimesToTheMicrosecond() throws ValueConversionException {
        // julianday('2024-01-31 12:00:00.123'): a double holds it to about 40 µs; SQLite reads it to the millisecond.
        assertEquals(utc("2024-01-31T12:00:00.123Z"), convert(PgType.TIMESTAMPTZ, 2460341.0000014236));
        assertEquals(utc("2024-01-31T00:00:00Z"), convert(PgType.TIMESTAMPTZ, 2460340.5));
        assertEquals(utc("2024-01-31T12:00:00.123456Z"), convert(PgType.TIMESTAMPTZ, 1706702400.123456), "Python's time.time()");
        assertEquals(utc("2024-01-31T12:00:00.123456Z"), convert(PgType.TIMESTAMPTZ, 1706702400123.456));
        assertEquals(utc("2024-01-31T12:00:00Z"), convert(PgType.TIMESTAMPTZ, 1706702400.0));
    }

    @Test
    void timestampRefusesRealsThatAreNoPointInTime() {
        assertRefused(PgType.TIMESTAMPTZ, Double.NaN, "NaN", "is not a point in time");
        assertRefused(PgType.TIMESTAMPTZ, Double.POSITIVE_INFINITY, "Infinity", "is not a point in time");
        assertRefused(PgType.TIMESTAMPTZ, 1e20, "1.0E20", "neither a Julian day number");
        assertRefused(PgType.TIMESTAMPTZ, -1e15, "-1.0E15", "neither a Julian day number");
    }

    // --- date

    @Test
    void dateTakesDaysAndMidnights() throws ValueConversionException {
        assertEquals(LocalDate.of(2024, 1, 31), convert(PgType.DATE, "2024-01-31"));
        assertEquals(LocalDate.of(2024, 1, 31), convert(PgType.DATE, "2024-01-31 00:00:00"));
        assertEquals(LocalDate.of(2024, 1, 31), convert(PgType.DATE, "2024-01-31T00:00:00.000Z"));
        assertEquals(LocalDate.of(2024, 1, 31), convert(PgType.DATE, 2460340.5), "julianday('2024-01-31')");
        assertEquals(LocalDate.of(2024, 1, 31), convert(PgType.DATE, 1706659200L), "unixepoch('2024-01-31')");
        assertEquals(LocalDate.of(0, 1, 1), convert(PgType.DATE, "0000-01-01"));
    }

    @Test
    void dateRefusesATimeOfDayItWouldDrop() {
        assertRefused(PgType.DATE, "2024-01-31 12:00:00", "'2024-01-31 12:00:00'", "date would drop the time of day");
        assertRefused(PgType.DATE, "2024-01-31T00:00:00+02:00", "'2024-01-31T00:00:00+02:00'", "not midnight UTC");
        assertRefused(PgType.DATE, 2460341L, "2460341", "date would drop the time of day");
        assertRefused(PgType.DATE, "2024-02-30", "'2024-02-30'", "not a valid date/time");
        assertRefused(PgType.DATE, "garbage", "'garbage'", "not an ISO-8601 date/time");
        assertRefused(PgType.DATE, blob(), "BLOB of 0 bytes", "BLOB value in a date column");
    }

    // --- time

    @Test
    void timeTakesTimesOfDayWithoutZone() throws ValueConversionException {
        assertEquals(LocalTime.of(12, 0), convert(PgType.TIME, "12:00"));
        assertEquals(LocalTime.of(23, 59, 59), convert(PgType.TIME, "23:59:59"));
        assertEquals(LocalTime.of(0, 0, 0, 123_456_000), convert(PgType.TIME, "00:00:00.123456"));
    }

    @Test
    void timeRefusesZonesDatesNumbersAndGarbage() {
        assertRefused(PgType.TIME, "12:00:00+02:00", "'12:00:00+02:00'", "without zone");
        assertRefused(PgType.TIME, "2024-01-31 12:00:00", "'2024-01-31 12:00:00'", "not a time of day");
        assertRefused(PgType.TIME, "noon", "'noon'", "not a time of day");
        assertRefused(PgType.TIME, "24:00", "'24:00'", "not a valid time of day");
        assertRefused(PgType.TIME, "12:00:00.1234567", "'12:00:00.1234567'", "more than microsecond precision");
        assertRefused(PgType.TIME, 43200L, "43200", "INTEGER value in a time column");
        assertRefused(PgType.TIME, 0.5, "0.5", "REAL value in a time column");
        assertRefused(PgType.TIME, blob(), "BLOB of 0 bytes", "BLOB value in a time column");
    }

    // --- jsonb

    @Test
    void jsonbTakesValidJsonAsItIs() throws ValueConversionException {
        for (String json : List.of("{}", "[]", "{\"a\": [1, 2.5, -0, 1e3, 1E-3, true, false, null, \"x\"]}", "\"just a string\"", "42", "null",
                " \t\r\n {\"nested\": {\"deep\": [[[]]]}} ", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"",
                "{\"a\": 1, \"b\": {\"a\": 2}}", "{\"caf\u00e9\": \"\uD83D\uDE80\"}", "1e131071")) {
            assertEquals(json, convert(PgType.JSONB, json), json);
        }
        assertEquals("42", convert(PgType.JSONB, 42L));
        assertEquals("0.1", convert(PgType.JSONB, 0.1));
        assertEquals("1E+300", convert(PgType.JSONB, 1e300));
        assertEquals("1E-7", convert(PgType.JSONB, 1e-7), "jsonb would keep 1.0E-7 as 0.00000010");
    }

    @Test
    void jsonbRefusesInvalidJson() {
        for (String bad : List.of("", "   ", "{", "{\"a\": }", "{\"a\" 1}", "{a: 1}", "[1, 2,]", "[1 2]", "{'a': 1}", "TRUE", "nul", "01", "1.", ".5",
                "+1", "0x10", "NaN", "Infinity", "\"unterminated", "\"bad \\x escape\"", "\"\\u12\"", "{} []", "\"tab\there\"",
                "\u00a0{}", "\f{}", "{\"a\": 1}}", "[[1]", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "hello")) {
            ValueConversionException e = assertThrows(ValueConversionException.class, () -> convert(PgType.JSONB, bad), bad);
            assertTrue(e.getMessage().contains("is not JSON that jsonb keeps as it is"), e.getMessage());
            assertTrue(e.getMessage().contains("\"" + COLUMN + "\""), e.getMessage());
        }
    }

    @Test
    void jsonbRefusesWhatItWouldChangeOrCannotHold() {
        assertRefused(PgType.JSONB, "{\"s\": \"a\\u0000b\"}", "'{\"s\": \"a\\u0000b\"}'", "\\u0000, which jsonb cannot hold");
        assertRefused(PgType.JSONB, "{\"a\": 1, \"a\": 2}", "'{\"a\": 1, \"a\": 2}'", "has the key \"a\" twice");
        assertRefused(PgType.JSONB, "{\"a\": 1, \"\\u0061\": 2}", "'{\"a\": 1, \"\\u0061\": 2}'", "has the key \"a\" twice");
        assertRefused(PgType.JSONB, "[1e131072]", "'[1e131072]'", "outside the range of PostgreSQL numeric");
        assertRefused(PgType.JSONB, "1e-99999999999", "'1e-99999999999'", "outside the range of PostgreSQL numeric");
        assertRefused(PgType.JSONB, Double.NaN, "NaN", "has no JSON equivalent");
        assertRefused(PgType.JSONB, Double.NEGATIVE_INFINITY, "-Infinity", "has no JSON equivalent");
        assertRefused(PgType.JSONB, blob((byte) '{', (byte) '}'), "BLOB of 2 bytes", "BLOB value in a jsonb column");
    }

    @Test
    void jsonbChecksDeepNestingWithoutOverflowingTheStack() throws ValueConversionException {
        String deep = "[".repeat(1_000_000) + "]".repeat(1_000_000);
        assertEquals(deep, convert(PgType.JSONB, deep));
        assertThrows(ValueConversionException.class, () -> convert(PgType.JSONB, "[".repeat(1_000_000)));
    }

    // --- uuid

    @Test
    void uuidTakesCanonicalTextAnd16ByteBlobs() throws ValueConversionException {
        UUID expected = UUID.fromString("123e4567-e89b-12d3-a456-426614174000");
        assertEquals(expected, convert(PgType.UUID, "123e4567-e89b-12d3-a456-426614174000"));
        assertEquals(expected, convert(PgType.UUID, "123E4567-E89B-12D3-A456-426614174000"));
        ByteBuffer bytes = blob((byte) 0x12, (byte) 0x3e, (byte) 0x45, (byte) 0x67, (byte) 0xe8, (byte) 0x9b, (byte) 0x12, (byte) 0xd3,
                (byte) 0xa4, (byte) 0x56, (byte) 0x42, (byte) 0x66, (byte) 0x14, (byte) 0x17, (byte) 0x40, (byte) 0x00);
        assertEquals(expected, convert(PgType.UUID, bytes), "RFC 4122 byte order, as Python's uuid.bytes");
        assertEquals(16, bytes.remaining(), "the buffer is not consumed");
    }

    @Test
    void uuidRefusesAnythingElse() {
        for (String bad : List.of("123e4567e89b12d3a456426614174000", "{123e4567-e89b-12d3-a456-426614174000}", "123e4567-e89b-12d3-a456-42661417400",
                " 123e4567-e89b-12d3-a456-426614174000", "g23e4567-e89b-12d3-a456-426614174000", "not a uuid", "")) {
            assertRefused(PgType.UUID, bad, "'" + bad + "'", "not a UUID");
        }
        assertRefused(PgType.UUID, blob(new byte[15]), "BLOB of 15 bytes", "is not a UUID (16 bytes)");
        assertRefused(PgType.UUID, 42L, "42", "INTEGER value in a uuid column");
        assertRefused(PgType.UUID, 4.2, "4.2", "REAL value in a uuid column");
    }

    @Test
    void aNulCharacterIsNotWhiteSpace() throws ValueConversionException {
        // Java's trim() would drop it and turn these into 12 and true.
        assertRefused(PgType.BIGINT, "12\u0000", "'12\u0000'", "not an integer");
        assertRefused(PgType.NUMERIC, "\u00001.5", "'\u00001.5'", "not a number");
        assertRefused(PgType.BOOLEAN, "true\u0000", "'true\u0000'", "not a boolean");
        assertRefused(PgType.TIMESTAMPTZ, "2024-01-31\u0000", "'2024-01-31\u0000'", "not an ISO-8601 date/time");
        assertRefused(PgType.UUID, "123e4567-e89b-12d3-a456-426614174000\u0000", "'123e4567", "not a UUID");
        assertRefused(PgType.JSONB, "{}\u0000", "'{}", "not valid JSON");
        assertArrayEquals(new byte[] {'a', 0, 'b'}, (byte[]) convert(PgType.BYTEA, "a\u0000b"), "bytea holds it");
        assertEquals(7L, convert(PgType.BIGINT, "\t 7\r\n"), "spaces, tabs and line breaks are white space");
    }

    @Test
    void aLongValueIsShortenedInTheMessage() {
        String longText = "x".repeat(10_000);
        ValueConversionException e = assertThrows(ValueConversionException.class, () -> convert(PgType.BIGINT, longText));
        assertTrue(e.getMessage().length() < 300, e.getMessage().length() + " characters");
        assertTrue(e.getMessage().contains(COLUMN), e.getMessage());
    }
}
