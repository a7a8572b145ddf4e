package dev.ferry.writer.pg;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Converts a value in its SQLite storage class (Long, Double, String, ByteBuffer, null) to the Java value
 * bound for a PostgreSQL column. Driven by the value's own storage class, since any SQLite column may hold
 * any of them; a value that does not fit is refused with the reason, never silently changed.
 */
public final class ValueConverter {

    // Number syntax as SQLite and PostgreSQL read it: Java's parsers also take "1.5f", "0x1p3" and non-ASCII
    // digits, which would turn a text into a number it is not.
    private static final Pattern INTEGER_TEXT = Pattern.compile("[+-]?[0-9]+");
    private static final Pattern DECIMAL_TEXT = Pattern.compile("[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?");
    private static final Pattern FLOAT_WORD = Pattern.compile("NaN|[+-]?Infinity");

    private ValueConverter() {
    }

    public static Object convert(PgType type, String column, Object value) throws ValueConversionException {
        if (value == null) {
            return null;
        }
        return switch (type) {
            case BIGINT -> toLong(column, value);
            case DOUBLE -> toDouble(column, value);
            case NUMERIC -> toNumeric(column, value);
            case TEXT -> toText(column, value);
            case BYTEA -> toBytes(value);
        };
    }

    private static Long toLong(String column, Object value) throws ValueConversionException {
        if (value instanceof Long l) {
            return l;
        }
        if (value instanceof Double d) {
            if (d == Math.rint(d) && d >= -0x1p63 && d < 0x1p63) {
                return d.longValue();
            }
            throw refuse(column, value, "REAL value " + d + " is not a 64-bit integer");
        }
        if (value instanceof String s) {
            String t = s.trim();
            try {
                if (INTEGER_TEXT.matcher(t).matches()) {
                    return Long.parseLong(t);
                }
            } catch (NumberFormatException tooLarge) {
                // refused below
            }
            throw refuse(column, value, "TEXT value is not an integer");
        }
        throw refuse(column, value, "BLOB value in an integer column");
    }

    private static Double toDouble(String column, Object value) throws ValueConversionException {
        if (value instanceof Double d) {
            return d;
        }
        if (value instanceof Long l) {
            return l.doubleValue();
        }
        if (value instanceof String s) {
            String t = s.trim();
            if (DECIMAL_TEXT.matcher(t).matches() || FLOAT_WORD.matcher(t).matches()) {
                return Double.parseDouble(t);
            }
            throw refuse(column, value, "TEXT value is not a number");
        }
        throw refuse(column, value, "BLOB value in a floating-point column");
    }

    private static BigDecimal toNumeric(String column, Object value) throws ValueConversionException {
        if (value instanceof Long l) {
            return BigDecimal.valueOf(l);
        }
        if (value instanceof Double d) {
            if (d.isNaN() || d.isInfinite()) {
                throw refuse(column, value, "REAL value " + d + " has no numeric equivalent");
            }
            // valueOf uses the shortest decimal that reads back as the same double: 0.1 stays 0.1.
            return BigDecimal.valueOf(d);
        }
        if (value instanceof String s) {
            String t = s.trim();
            try {
                if (DECIMAL_TEXT.matcher(t).matches()) {
                    return new BigDecimal(t);
                }
            } catch (NumberFormatException exponentOutOfRange) {
                // refused below
            }
            throw refuse(column, value, "TEXT value is not a number");
        }
        throw refuse(column, value, "BLOB value in a numeric column");
    }

    private static String toText(String column, Object value) throws ValueConversionException {
        String text;
        if (value instanceof String s) {
            text = s;
        } else if (value instanceof ByteBuffer b) {
            try {
                text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(b.duplicate()).toString();
            } catch (CharacterCodingException e) {
                throw refuse(column, value, "BLOB value is not valid UTF-8 text");
            }
        } else {
            text = value.toString();
        }
        if (text.indexOf('\u0000') >= 0) {
            throw refuse(column, value, "text contains a NUL character, which PostgreSQL text cannot hold");
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

    private static ValueConversionException refuse(String column, Object value, String reason) {
        return new ValueConversionException(column, reason + " (column \"" + column + "\", value " + preview(value) + ")");
    }

    static String preview(Object value) {
        String s = value instanceof ByteBuffer b ? "BLOB of " + b.remaining() + " bytes" : "'" + value + "'";
        return s.length() > 80 ? s.substring(0, 77) + "...'" : s;
    }
}
