package dev.ferry.writer.pg;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.chrono.IsoEra;
import java.time.temporal.ChronoField;

/**
 * Renders rows in PostgreSQL's COPY text format: tab-separated, {@code \N} for NULL, backslash escapes, bytea as hex,
 * dates and times in ISO form with an explicit UTC offset (so the session's TimeZone and DateStyle do not matter),
 * and {@code BC} for years before 1, as PostgreSQL writes them.
 */
final class CopyText {

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private CopyText() {
    }

    static void appendRow(CopyBuffer out, Object[] row) {
        for (int i = 0; i < row.length; i++) {
            if (i > 0) {
                out.write('\t');
            }
            appendValue(out, row[i]);
        }
        out.write('\n');
    }

    private static void appendValue(CopyBuffer out, Object value) {
        if (value == null) {
            out.write('\\');
            out.write('N');
        } else if (value instanceof String s) {
            appendEscaped(out, s);
        } else if (value instanceof Long l) {
            appendLong(out, l);
        } else if (value instanceof byte[] bytes) {
            // bytea hex input "\x..."; the backslash itself is escaped for COPY. Filled in place, not
            // through write() a byte at a time.
            int at = out.reserve(3 + 2 * bytes.length);
            byte[] buf = out.array();
            buf[at++] = '\\';
            buf[at++] = '\\';
            buf[at++] = 'x';
            for (byte b : bytes) {
                buf[at++] = HEX[(b >> 4) & 0xF];
                buf[at++] = HEX[b & 0xF];
            }
        } else if (value instanceof OffsetDateTime t) {
            appendTimestamp(out, t);
        } else if (value instanceof BigDecimal d) {
            appendAscii(out, d.toPlainString());
        } else if (value instanceof Boolean b) {
            out.write(b ? 't' : 'f');
        } else if (value instanceof LocalDate || value instanceof LocalTime) {
            appendAscii(out, dateTime(value));
        } else {
            appendAscii(out, value.toString());
        }
    }

    /** The decimal digits of a long, written in place (no String in between: a snapshot writes millions). */
    static void appendLong(CopyBuffer out, long value) {
        if (value == Long.MIN_VALUE) {
            appendAscii(out, "-9223372036854775808");
            return;
        }
        if (value < 0) {
            out.write('-');
            value = -value;
        }
        appendDigits(out, value, 1);
    }

    /**
     * {@code value} (not negative) in decimal, left-padded with zeros to {@code width} digits. Two digits per division,
     * in int arithmetic once the value fits (a snapshot writes several numbers per row; the digit-by-digit loop with
     * long divisions was the writer's hottest method in a 1M-row profile).
     */
    private static void appendDigits(CopyBuffer out, long value, int width) {
        int n = Math.max(digitCount(value), width);
        int at = out.reserve(n);
        byte[] buf = out.array();
        int i = at + n;
        while (value > Integer.MAX_VALUE) {
            long q = value / 100;
            int r = (int) (value - q * 100);
            value = q;
            buf[--i] = DIGIT_ONES[r];
            buf[--i] = DIGIT_TENS[r];
        }
        int v = (int) value;
        while (v >= 100) {
            int q = v / 100;
            int r = v - q * 100;
            v = q;
            buf[--i] = DIGIT_ONES[r];
            buf[--i] = DIGIT_TENS[r];
        }
        if (v >= 10) {
            buf[--i] = DIGIT_ONES[v];
            buf[--i] = DIGIT_TENS[v];
        } else {
            buf[--i] = (byte) ('0' + v);
        }
        while (i > at) {
            buf[--i] = '0';
        }
    }

    /** Decimal digits of {@code value} (not negative), by comparison: no division. */
    private static int digitCount(long value) {
        int digits = 1;
        for (long bound = 10; digits < 19 && value >= bound; bound *= 10) {
            digits++;
        }
        return digits;
    }

    /** The tens and the ones digit of 0..99. */
    private static final byte[] DIGIT_TENS = new byte[100];
    private static final byte[] DIGIT_ONES = new byte[100];

    static {
        for (int i = 0; i < 100; i++) {
            DIGIT_TENS[i] = (byte) ('0' + i / 10);
            DIGIT_ONES[i] = (byte) ('0' + i % 10);
        }
    }

    /** The same text as {@link #dateTime} of an OffsetDateTime, written in place. */
    static void appendTimestamp(CopyBuffer out, OffsetDateTime t) {
        OffsetDateTime utc = t.getOffset() == ZoneOffset.UTC ? t : t.withOffsetSameInstant(ZoneOffset.UTC);
        LocalDate d = utc.toLocalDate();
        appendDigits(out, d.get(ChronoField.YEAR_OF_ERA), 4);
        out.write('-');
        appendDigits(out, d.getMonthValue(), 2);
        out.write('-');
        appendDigits(out, d.getDayOfMonth(), 2);
        out.write(' ');
        LocalTime time = utc.toLocalTime();
        appendDigits(out, time.getHour(), 2);
        out.write(':');
        appendDigits(out, time.getMinute(), 2);
        out.write(':');
        appendDigits(out, time.getSecond(), 2);
        if (time.getNano() != 0) {
            out.write('.');
            appendDigits(out, time.getNano() / 1000, 6);
        }
        out.write('+');
        out.write('0');
        out.write('0');
        if (d.getEra() == IsoEra.BCE) {
            appendAscii(out, " BC");
        }
    }

    /** Text known to be ASCII (numbers, dates), one byte per char. */
    private static void appendAscii(CopyBuffer out, String s) {
        int at = out.reserve(s.length());
        byte[] buf = out.array();
        for (int i = 0; i < s.length(); i++) {
            buf[at + i] = (byte) s.charAt(i);
        }
    }

    /**
     * PostgreSQL's input form of a LocalDate, an OffsetDateTime or a LocalTime, also bound as untyped text by
     * {@link TableApplier}: the JDBC driver writes dates before 4713 BC as -infinity.
     */
    static String dateTime(Object value) {
        if (value instanceof LocalDate d) {
            return date(d) + era(d);
        }
        if (value instanceof OffsetDateTime t) {
            OffsetDateTime utc = t.withOffsetSameInstant(ZoneOffset.UTC);
            return date(utc.toLocalDate()) + ' ' + time(utc.toLocalTime()) + "+00" + era(utc.toLocalDate());
        }
        return time((LocalTime) value);
    }

    /** PostgreSQL has no year 0: ISO year 0 is 1 BC, year -1 is 2 BC. */
    private static String date(LocalDate d) {
        StringBuilder sb = new StringBuilder(10);
        pad(sb, d.get(ChronoField.YEAR_OF_ERA), 4).append('-');
        pad(sb, d.getMonthValue(), 2).append('-');
        return pad(sb, d.getDayOfMonth(), 2).toString();
    }

    private static String era(LocalDate d) {
        return d.getEra() == IsoEra.BCE ? " BC" : "";
    }

    private static String time(LocalTime t) {
        StringBuilder sb = new StringBuilder(15);
        pad(sb, t.getHour(), 2).append(':');
        pad(sb, t.getMinute(), 2).append(':');
        pad(sb, t.getSecond(), 2);
        if (t.getNano() != 0) {
            pad(sb.append('.'), t.getNano() / 1000, 6);
        }
        return sb.toString();
    }

    private static StringBuilder pad(StringBuilder sb, int value, int width) {
        String digits = Integer.toString(value);
        for (int i = digits.length(); i < width; i++) {
            sb.append('0');
        }
        return sb.append(digits);
    }

    /**
     * Text with COPY's escapes. Scans the UTF-8 bytes, not the chars: the four escaped characters are ASCII, and no
     * byte of a multi-byte UTF-8 sequence is below 0x80, so a byte can be tested on its own.
     */
    private static void appendEscaped(CopyBuffer out, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            byte b = bytes[i];
            // One test for nearly every byte: the escaped ones are '\\' and three below 0x20 (bytes of multi-byte
            // characters are negative here).
            if (b != '\\' && (b >= 0x20 || b < 0)) {
                continue;
            }
            byte escaped = switch (b) {
                case '\\' -> '\\';
                case '\n' -> 'n';
                case '\r' -> 'r';
                case '\t' -> 't';
                default -> 0;
            };
            if (escaped != 0) {
                out.write(bytes, start, i - start);
                out.write('\\');
                out.write(escaped);
                start = i + 1;
            }
        }
        out.write(bytes, start, bytes.length - start);
    }
}
