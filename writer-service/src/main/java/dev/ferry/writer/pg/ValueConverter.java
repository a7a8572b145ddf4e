package dev.ferry.writer.pg;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Converts a value in its SQLite storage class (Long, Double, String, ByteBuffer, null) to the Java value
 * bound for a PostgreSQL column. Driven by the value's own storage class, since any SQLite column may hold
 * any of them; a value that does not fit is refused with the reason, never silently changed.
 * docs/type-mapping.md has the table of conversions per type and storage class.
 *
 * <p>Results per type: bigint {@code Long}; double precision {@code Double}; numeric {@code BigDecimal}, or a
 * {@code Double} for NaN and ±Infinity; text {@code String}; bytea {@code byte[]}; boolean {@code Boolean};
 * date {@code LocalDate}; timestamptz {@code OffsetDateTime} at UTC; time {@code LocalTime}; jsonb {@code String}
 * (the JSON text as SQLite holds it); uuid {@code java.util.UUID}.
 */
public final class ValueConverter {

    // Number syntax as SQLite and PostgreSQL read it: Java's parsers also take "1.5f", "0x1p3" and non-ASCII
    // digits, which would turn a text into a number it is not.
    private static final Pattern INTEGER_TEXT = Pattern.compile("[+-]?[0-9]+");
    private static final Pattern DECIMAL_TEXT = Pattern.compile("[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?");
    private static final Pattern FLOAT_WORD = Pattern.compile("NaN|[+-]?Infinity");
    private static final Pattern UUID_TEXT = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final Set<String> TRUE_WORDS = Set.of("1", "t", "true", "y", "yes", "on");
    private static final Set<String> FALSE_WORDS = Set.of("0", "f", "false", "n", "no", "off");
    /** PostgreSQL numeric: up to 131072 digits before the decimal point and 16383 after. */
    private static final int NUMERIC_MAX_INTEGER_DIGITS = 131072;
    private static final int NUMERIC_MAX_SCALE = 16383;

    private ValueConverter() {
    }

    public static Object convert(PgType type, String column, Object value) throws ValueConversionException {
        if (value == null) {
            return null;
        }
        try {
            return switch (type) {
                case BIGINT -> toLong(value);
                case DOUBLE -> toDouble(value);
                case NUMERIC -> toNumeric(value);
                case TEXT -> toText(value);
                case BYTEA -> toBytes(value);
                case BOOLEAN -> toBoolean(value);
                case DATE -> toDate(value);
                case TIMESTAMPTZ -> toTimestamp(value);
                case TIME -> toTime(value);
                case JSONB -> toJson(value);
                case UUID -> toUuid(value);
                case VECTOR -> toVector(value);
            };
        } catch (Refusal refused) {
            throw new ValueConversionException(column, refused.getMessage() + " (column \"" + column + "\", value " + preview(value) + ")");
        }
    }

    /** A vector as the embed service sends it (float32 little-endian) to pgvector's text form {@code [x,y,...]}. */
    private static String toVector(Object value) {
        if (!(value instanceof ByteBuffer b) || b.remaining() == 0 || b.remaining() % 4 != 0) {
            throw refuse("not a vector: expected float32 bytes");
        }
        java.nio.FloatBuffer floats = b.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        StringBuilder text = new StringBuilder(floats.remaining() * 12).append('[');
        for (int i = 0; floats.hasRemaining(); i++) {
            float f = floats.get();
            if (!Float.isFinite(f)) {
                throw refuse("vector component " + i + " is " + f);
            }
            text.append(i == 0 ? "" : ",").append(f);
        }
        return text.append(']').toString();
    }

    private static Long toLong(Object value) {
        if (value instanceof Long l) {
            return l;
        }
        if (value instanceof Double d) {
            if (d == Math.rint(d) && d >= -0x1p63 && d < 0x1p63) {
                return d.longValue();
            }
            throw refuse("REAL value " + d + " is not a 64-bit integer");
        }
        if (value instanceof String s) {
            String t = strip(s);
            if (!INTEGER_TEXT.matcher(t).matches()) {
                throw refuse("TEXT value is not an integer");
            }
            try {
                return Long.parseLong(t);
            } catch (NumberFormatException tooLarge) {
                throw refuse("TEXT value is an integer beyond 64 bits");
            }
        }
        throw refuse("BLOB value in an integer column");
    }

    private static Double toDouble(Object value) {
        if (value instanceof Double d) {
            return d;
        }
        if (value instanceof Long l) {
            double d = l.doubleValue();
            // Beyond 2^53 not every integer has a double: refuse rather than round.
            if (new BigDecimal(d).compareTo(BigDecimal.valueOf(l)) != 0) {
                throw refuse("INTEGER value " + l + " has no exact double precision equivalent");
            }
            return d;
        }
        if (value instanceof String s) {
            String t = strip(s);
            if (FLOAT_WORD.matcher(t).matches()) {
                return Double.parseDouble(t);
            }
            if (!DECIMAL_TEXT.matcher(t).matches()) {
                throw refuse("TEXT value is not a number");
            }
            return parseFiniteDouble(t);
        }
        throw refuse("BLOB value in a floating-point column");
    }

    /** As PostgreSQL's float8 input: a text that overflows to infinity or underflows to zero is refused, not rounded. */
    private static double parseFiniteDouble(String t) {
        double d = Double.parseDouble(t);
        String mantissa = t.split("[eE]")[0];
        if (Double.isInfinite(d) || (d == 0 && mantissa.chars().anyMatch(c -> c >= '1' && c <= '9'))) {
            throw refuse("TEXT value is outside the range of double precision");
        }
        return d;
    }

    private static Object toNumeric(Object value) {
        if (value instanceof Long l) {
            return BigDecimal.valueOf(l);
        }
        if (value instanceof Double d) {
            if (d.isNaN() || d.isInfinite()) {
                // PostgreSQL 14 and later: numeric holds NaN and ±Infinity.
                return d;
            }
            return shortestDecimal(d);
        }
        if (value instanceof String s) {
            String t = strip(s);
            if (FLOAT_WORD.matcher(t).matches()) {
                return Double.parseDouble(t);
            }
            BigDecimal b = null;
            if (DECIMAL_TEXT.matcher(t).matches()) {
                try {
                    b = new BigDecimal(t);
                } catch (NumberFormatException exponentOutOfRange) {
                    throw refuse("TEXT value is outside the range of PostgreSQL numeric");
                }
            }
            if (b == null) {
                throw refuse("TEXT value is not a number");
            }
            if (!fitsNumeric(b)) {
                throw refuse("TEXT value is outside the range of PostgreSQL numeric");
            }
            return b;
        }
        throw refuse("BLOB value in a numeric column");
    }

    /**
     * The shortest decimal that reads back as the same double: 0.1 stays 0.1, not 0.1000000000000000055511151231257827.
     * valueOf gives Java's text of the double, which keeps a zero after the point ({@code 1.0E-7}); PostgreSQL would keep
     * it as a digit of the value ({@code 0.00000010}).
     */
    private static BigDecimal shortestDecimal(double d) {
        return BigDecimal.valueOf(d).stripTrailingZeros();
    }

    /** Without leading and trailing white space as PostgreSQL's number and boolean input skips it (C's isspace). */
    private static String strip(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && isSpace(s.charAt(from))) {
            from++;
        }
        while (to > from && isSpace(s.charAt(to - 1))) {
            to--;
        }
        return s.substring(from, to);
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\u000B' || c == '\f' || c == '\r';
    }

    static boolean fitsNumeric(BigDecimal b) {
        return b.scale() <= NUMERIC_MAX_SCALE && (long) b.precision() - b.scale() <= NUMERIC_MAX_INTEGER_DIGITS;
    }

    private static String toText(Object value) {
        String text;
        if (value instanceof String s) {
            text = s;
        } else if (value instanceof ByteBuffer b) {
            try {
                text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(b.duplicate()).toString();
            } catch (CharacterCodingException e) {
                throw refuse("BLOB value is not valid UTF-8 text");
            }
        } else {
            text = value.toString();
        }
        if (text.indexOf('\u0000') >= 0) {
            throw refuse("text contains a NUL character, which PostgreSQL text cannot hold");
        }
        return text;
    }

    private static byte[] toBytes(Object value) {
        if (value instanceof ByteBuffer b) {
            ByteBuffer d = b.duplicate();
            byte[] out = new byte[d.remaining()];
            d.get(out);
            return out;
        }
        // SQLite's CAST(x AS BLOB) of a number or text is the bytes of its text.
        return value.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static Boolean toBoolean(Object value) {
        if (value instanceof Long l) {
            if (l == 0 || l == 1) {
                return l == 1;
            }
            throw refuse("INTEGER value " + l + " is not a boolean (0 or 1)");
        }
        if (value instanceof Double d) {
            if (d == 0 || d == 1) {
                return d == 1;
            }
            throw refuse("REAL value " + d + " is not a boolean (0 or 1)");
        }
        if (value instanceof String s) {
            String word = strip(s).toLowerCase(Locale.ROOT);
            if (TRUE_WORDS.contains(word)) {
                return true;
            }
            if (FALSE_WORDS.contains(word)) {
                return false;
            }
            throw refuse("TEXT value is not a boolean (1/0, t/f, true/false, y/n, yes/no, on/off, in any case)");
        }
        throw refuse("BLOB value in a boolean column");
    }

    private static OffsetDateTime toTimestamp(Object value) {
        if (value instanceof String s) {
            return SqliteTime.fromText(s);
        }
        if (value instanceof Long l) {
            return SqliteTime.fromInteger(l);
        }
        if (value instanceof Double d) {
            return SqliteTime.fromReal(d);
        }
        throw refuse("BLOB value in a timestamp column");
    }

    private static LocalDate toDate(Object value) {
        if (value instanceof ByteBuffer) {
            throw refuse("BLOB value in a date column");
        }
        OffsetDateTime t = toTimestamp(value);
        if (!t.toLocalTime().equals(LocalTime.MIDNIGHT)) {
            throw refuse("value is " + t + ", not midnight UTC: date would drop the time of day");
        }
        return t.toLocalDate();
    }

    private static LocalTime toTime(Object value) {
        if (value instanceof String s) {
            return SqliteTime.timeFromText(s);
        }
        throw refuse((value instanceof ByteBuffer ? "BLOB" : value instanceof Long ? "INTEGER" : "REAL") + " value in a time column");
    }

    private static String toJson(Object value) {
        if (value instanceof String s) {
            String problem = JsonText.problem(s);
            if (problem != null) {
                throw refuse("TEXT value is not JSON that jsonb keeps as it is: " + problem);
            }
            return s;
        }
        if (value instanceof Long l) {
            return l.toString();
        }
        if (value instanceof Double d) {
            if (d.isNaN() || d.isInfinite()) {
                throw refuse("REAL value " + d + " has no JSON equivalent");
            }
            return shortestDecimal(d).toString();
        }
        // SQLite 3.45+ keeps a binary JSONB in BLOBs; its format is SQLite's own and not read here.
        throw refuse("BLOB value in a jsonb column");
    }

    private static java.util.UUID toUuid(Object value) {
        if (value instanceof String s) {
            if (!UUID_TEXT.matcher(s).matches()) {
                throw refuse("TEXT value is not a UUID (8-4-4-4-12 hex digits)");
            }
            return java.util.UUID.fromString(s);
        }
        if (value instanceof ByteBuffer b) {
            if (b.remaining() != 16) {
                throw refuse("BLOB value of " + b.remaining() + " bytes is not a UUID (16 bytes)");
            }
            ByteBuffer d = b.duplicate();
            return new java.util.UUID(d.getLong(), d.getLong());
        }
        throw refuse((value instanceof Long ? "INTEGER" : "REAL") + " value in a uuid column");
    }

    private static Refusal refuse(String reason) {
        return new Refusal(reason);
    }

    static String preview(Object value) {
        String s = value instanceof ByteBuffer b ? "BLOB of " + b.remaining() + " bytes" : "'" + value + "'";
        return s.length() > 80 ? s.substring(0, 77) + "...'" : s;
    }

    static String shorten(String s, int max) {
        return s.length() > max ? s.substring(0, max - 3) + "..." : s;
    }
}
