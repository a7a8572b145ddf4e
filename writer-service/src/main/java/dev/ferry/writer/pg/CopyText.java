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
        } else if (value instanceof String s) {
            appendEscaped(out, s);
        } else if (value instanceof BigDecimal d) {
            out.writeBytes(d.toPlainString().getBytes(StandardCharsets.US_ASCII));
        } else if (value instanceof Boolean b) {
            out.write(b ? 't' : 'f');
        } else if (value instanceof LocalDate || value instanceof OffsetDateTime || value instanceof LocalTime) {
            out.writeBytes(dateTime(value).getBytes(StandardCharsets.US_ASCII));
        } else {
            out.writeBytes(value.toString().getBytes(StandardCharsets.US_ASCII));
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
            byte escaped = switch (bytes[i]) {
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
