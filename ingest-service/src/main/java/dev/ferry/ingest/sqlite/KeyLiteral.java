package dev.ferry.ingest.sqlite;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Parses the key text written by the capture triggers: literals joined by commas, e.g.
 * {@code 12,T'6974277300',X'00FF',1.5,NULL}. Numbers, NULL and BLOBs are SQLite {@code quote()} literals;
 * text is {@code T'<hex of its bytes>'} in the database's encoding, because quote() cuts text at a NUL.
 * Plain quoted text ({@code 'it''s'}) is read too. Values come back in their storage class:
 * Long, Double, String, byte[] or null, and {@link InvalidText} for text whose bytes are not valid in the encoding.
 */
public final class KeyLiteral {

    /**
     * A TEXT value whose bytes are not valid in the database's encoding (e.g. {@code CAST(X'C328' AS TEXT)}): SQLite
     * keeps such text, a Java String cannot. A row is found by it with {@code CAST(? AS TEXT)} of its bytes, and it
     * travels as its bytes, as {@link RowReader} sends the same text read from a row.
     */
    public record InvalidText(byte[] bytes) {
    }

    private KeyLiteral() {
    }

    public static List<Object> parse(String text) {
        return parse(text, StandardCharsets.UTF_8);
    }

    /** {@code encoding}: the database's text encoding (PRAGMA encoding), in which T'...' literals hold their bytes. */
    public static List<Object> parse(String text, Charset encoding) {
        List<Object> values = new ArrayList<>();
        int i = 0;
        int n = text.length();
        while (i <= n) {
            if (i == n) {
                throw new IllegalArgumentException("empty value at the end of changelog key " + text);
            }
            char c = text.charAt(i);
            int end;
            if (c == '\'') {
                StringBuilder sb = new StringBuilder();
                int j = i + 1;
                while (true) {
                    int q = text.indexOf('\'', j);
                    if (q < 0) {
                        throw new IllegalArgumentException("unterminated text in changelog key " + text);
                    }
                    sb.append(text, j, q);
                    if (q + 1 < n && text.charAt(q + 1) == '\'') {
                        sb.append('\'');
                        j = q + 2;
                    } else {
                        end = q + 1;
                        break;
                    }
                }
                values.add(sb.toString());
            } else if (c == 'T' && i + 1 < n && text.charAt(i + 1) == '\'') {
                int q = text.indexOf('\'', i + 2);
                values.add(text(HexFormat.of().parseHex(text, i + 2, q), encoding));
                end = q + 1;
            } else if ((c == 'X' || c == 'x') && i + 1 < n && text.charAt(i + 1) == '\'') {
                int q = text.indexOf('\'', i + 2);
                values.add(HexFormat.of().parseHex(text, i + 2, q));
                end = q + 1;
            } else {
                end = text.indexOf(',', i);
                if (end < 0) {
                    end = n;
                }
                values.add(number(text.substring(i, end)));
            }
            if (end == n) {
                return values;
            }
            if (text.charAt(end) != ',') {
                throw new IllegalArgumentException("expected ',' at " + end + " in changelog key " + text);
            }
            i = end + 1;
        }
        return values;
    }

    /** The inverse of {@link #parse}: key values (Long, Double, String, byte[] or ByteBuffer, null) as changelog key text. */
    public static String format(List<?> values, Charset encoding) {
        StringBuilder sb = new StringBuilder();
        for (Object value : values) {
            sb.append(sb.length() == 0 ? "" : ",");
            if (value == null) {
                sb.append("NULL");
            } else if (value instanceof String text) {
                sb.append("T'").append(HexFormat.of().withUpperCase().formatHex(text.getBytes(encoding))).append('\'');
            } else if (value instanceof InvalidText text) {
                sb.append("T'").append(HexFormat.of().withUpperCase().formatHex(text.bytes())).append('\'');
            } else if (value instanceof byte[] bytes) {
                sb.append("X'").append(HexFormat.of().withUpperCase().formatHex(bytes)).append('\'');
            } else if (value instanceof java.nio.ByteBuffer buffer) {
                sb.append("X'").append(HexFormat.of().withUpperCase().formatHex(bytes(buffer))).append('\'');
            } else if (value instanceof Long || value instanceof Integer) {
                sb.append(value);
            } else if (value instanceof Double d) {
                // Any text Double.parseDouble reads back exactly; never an integer-looking one.
                sb.append(Double.toString(d));
            } else {
                throw new IllegalArgumentException("not a SQLite key value: " + value.getClass().getSimpleName());
            }
        }
        return sb.toString();
    }

    /** The bytes of {@code buffer} from its position to its limit; the buffer is left as it was. */
    static byte[] bytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    /** The text of {@code bytes}; an {@link InvalidText} when they are not valid in {@code encoding} (a decoder would replace them). */
    static Object text(byte[] bytes, Charset encoding) {
        try {
            return encoding.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return new InvalidText(bytes);
        }
    }

    private static Object number(String token) {
        if (token.equals("NULL")) {
            return null;
        }
        boolean integral = !token.isEmpty();
        for (int k = 0; k < token.length() && integral; k++) {
            char ch = token.charAt(k);
            integral = Character.isDigit(ch) || (k == 0 && ch == '-');
        }
        if (integral) {
            try {
                return Long.parseLong(token);
            } catch (NumberFormatException tooLarge) {
                return Double.parseDouble(token);
            }
        }
        return Double.parseDouble(token);
    }
}
