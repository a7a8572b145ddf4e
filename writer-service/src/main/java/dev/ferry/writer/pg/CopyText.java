package dev.ferry.writer.pg;

import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;

/** Renders rows in PostgreSQL's COPY text format: tab-separated, {@code \N} for NULL, backslash escapes, bytea as hex. */
final class CopyText {

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private CopyText() {
    }

    static void appendRow(ByteArrayOutputStream out, Object[] row) {
        for (int i = 0; i < row.length; i++) {
            if (i > 0) {
                out.write('\t');
            }
            appendValue(out, row[i]);
        }
        out.write('\n');
    }

    private static void appendValue(ByteArrayOutputStream out, Object value) {
        if (value == null) {
            out.write('\\');
            out.write('N');
        } else if (value instanceof byte[] bytes) {
            // bytea hex input "\x..."; the backslash itself is escaped for COPY.
            out.write('\\');
            out.write('\\');
            out.write('x');
            for (byte b : bytes) {
                out.write(HEX[(b >> 4) & 0xF]);
                out.write(HEX[b & 0xF]);
            }
        } else if (value instanceof String s) {
            appendEscaped(out, s);
        } else if (value instanceof BigDecimal d) {
            out.writeBytes(d.toPlainString().getBytes(StandardCharsets.US_ASCII));
        } else {
            out.writeBytes(value.toString().getBytes(StandardCharsets.US_ASCII));
        }
    }

    private static void appendEscaped(ByteArrayOutputStream out, String s) {
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String escape = switch (c) {
                case '\\' -> "\\\\";
                case '\n' -> "\\n";
                case '\r' -> "\\r";
                case '\t' -> "\\t";
                default -> null;
            };
            if (escape != null) {
                out.writeBytes(s.substring(start, i).getBytes(StandardCharsets.UTF_8));
                out.writeBytes(escape.getBytes(StandardCharsets.US_ASCII));
                start = i + 1;
            }
        }
        out.writeBytes(s.substring(start).getBytes(StandardCharsets.UTF_8));
    }
}
