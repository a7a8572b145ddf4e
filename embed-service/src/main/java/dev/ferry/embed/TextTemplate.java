package dev.ferry.embed;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The text of a row to embed: literal parts and column values. {@code {name}} stands for a column; {@code {{} and
 * {@code }}} are literal braces; a template without any brace is one column's name.
 */
public final class TextTemplate {

    private final List<String> literals;
    private final List<String> columns;

    private TextTemplate(List<String> literals, List<String> columns) {
        this.literals = literals;
        this.columns = columns;
    }

    public static TextTemplate parse(String template) {
        List<String> literals = new ArrayList<>();
        List<String> columns = new ArrayList<>();
        if (template.indexOf('{') < 0 && template.indexOf('}') < 0) {
            literals.add("");
            columns.add(template);
            literals.add("");
            return new TextTemplate(literals, columns);
        }
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < template.length()) {
            char ch = template.charAt(i);
            if (ch == '{' && i + 1 < template.length() && template.charAt(i + 1) == '{') {
                literal.append('{');
                i += 2;
            } else if (ch == '}' && i + 1 < template.length() && template.charAt(i + 1) == '}') {
                literal.append('}');
                i += 2;
            } else if (ch == '{') {
                int end = template.indexOf('}', i + 1);
                if (end < 0) {
                    throw new IllegalArgumentException("'{' at position " + i + " is not closed");
                }
                String name = template.substring(i + 1, end);
                if (name.isEmpty()) {
                    throw new IllegalArgumentException("'{}' at position " + i + " names no column");
                }
                literals.add(literal.toString());
                literal.setLength(0);
                columns.add(name);
                i = end + 1;
            } else if (ch == '}') {
                throw new IllegalArgumentException("'}' at position " + i + " closes nothing (write '}}' for a brace)");
            } else {
                literal.append(ch);
                i++;
            }
        }
        literals.add(literal.toString());
        if (columns.isEmpty()) {
            throw new IllegalArgumentException("the template names no column");
        }
        return new TextTemplate(literals, columns);
    }

    public List<String> columns() {
        return columns;
    }

    /**
     * The text for a row image: null when every column named is NULL (or absent). INTEGER and REAL values are written
     * in decimal (Java's {@code toString}); a BLOB counts as text when it is valid UTF-8.
     *
     * @throws IllegalArgumentException when a BLOB value is not UTF-8 text
     */
    public String render(Map<String, Object> row) {
        StringBuilder text = new StringBuilder(literals.get(0));
        boolean any = false;
        for (int i = 0; i < columns.size(); i++) {
            Object value = row.get(columns.get(i));
            if (value != null) {
                any = true;
                text.append(asText(columns.get(i), value));
            }
            text.append(literals.get(i + 1));
        }
        return any ? text.toString() : null;
    }

    private static String asText(String column, Object value) {
        if (value instanceof ByteBuffer b) {
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(b.duplicate()).toString();
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException("column \"" + column + "\" holds a BLOB of " + b.remaining() + " bytes that is not UTF-8 text");
            }
        }
        return value.toString();
    }
}
