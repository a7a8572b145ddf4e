package dev.ferry.writer.pg;

import java.math.BigDecimal;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;

/**
 * Checks that a text is JSON (RFC 8259) that PostgreSQL's {@code jsonb} takes without changing what it means: no
 * {@code \u0000} (jsonb cannot hold it), no unpaired surrogate escape, numbers within {@code numeric}'s range, and no
 * key twice in one object (jsonb keeps the last, where SQLite's json_extract() reads the first). Iterative, so that
 * deep nesting cannot overflow the writer's stack; nesting deeper than PostgreSQL's stack allows is left to it.
 */
final class JsonText {

    private final String s;
    private int pos;

    private JsonText(String s) {
        this.s = s;
    }

    /** Why jsonb would not take this text as it is, or null when it would. */
    static String problem(String text) {
        try {
            new JsonText(text).document();
            return null;
        } catch (Refusal e) {
            return e.getMessage();
        }
    }

    private void document() {
        // Open containers: an object holds the keys seen so far, an array holds null.
        Deque<Set<String>> objects = new ArrayDeque<>();
        Deque<Boolean> isObject = new ArrayDeque<>();
        boolean expectValue = true;
        while (true) {
            skipSpace();
            if (expectValue) {
                char c = peek("a value");
                if (c == '{') {
                    pos++;
                    skipSpace();
                    if (peek("a key or '}'") == '}') {
                        pos++;
                        expectValue = false;
                        continue;
                    }
                    isObject.push(true);
                    objects.push(new HashSet<>());
                    key(objects.peek());
                    continue;
                }
                if (c == '[') {
                    pos++;
                    skipSpace();
                    if (peek("a value or ']'") == ']') {
                        pos++;
                        expectValue = false;
                        continue;
                    }
                    isObject.push(false);
                    continue;
                }
                scalar(c);
                expectValue = false;
                continue;
            }
            if (isObject.isEmpty()) {
                if (pos < s.length()) {
                    throw bad("text after the JSON value");
                }
                return;
            }
            char c = peek(isObject.peek() ? "',' or '}'" : "',' or ']'");
            pos++;
            if (c == ',') {
                if (isObject.peek()) {
                    skipSpace();
                    key(objects.peek());
                }
                expectValue = true;
            } else if (c == (isObject.peek() ? '}' : ']')) {
                if (isObject.pop()) {
                    objects.pop();
                }
            } else {
                pos--;
                throw bad("expected " + (isObject.peek() ? "',' or '}'" : "',' or ']'"));
            }
        }
    }

    private void key(Set<String> seen) {
        if (peek("a key") != '"') {
            throw bad("expected a key in double quotes");
        }
        String key = string();
        if (!seen.add(key)) {
            throw new Refusal("JSON object has the key \"" + key + "\" twice; jsonb would keep only the last");
        }
        skipSpace();
        if (peek("':'") != ':') {
            throw bad("expected ':'");
        }
        pos++;
    }

    private void scalar(char c) {
        if (c == '"') {
            string();
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            number();
        } else if (!literal("true") && !literal("false") && !literal("null")) {
            throw bad("expected a value");
        }
    }

    private boolean literal(String word) {
        if (s.startsWith(word, pos)) {
            pos += word.length();
            return true;
        }
        return false;
    }

    private void number() {
        int start = pos;
        if (s.charAt(pos) == '-') {
            pos++;
        }
        if (pos < s.length() && s.charAt(pos) == '0') {
            pos++;
        } else if (digits() == 0) {
            throw bad("a number needs digits");
        }
        if (pos < s.length() && s.charAt(pos) == '.') {
            pos++;
            if (digits() == 0) {
                throw bad("a number needs digits after '.'");
            }
        }
        if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
            pos++;
            if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
                pos++;
            }
            if (digits() == 0) {
                throw bad("a number needs digits in its exponent");
            }
        }
        String number = s.substring(start, pos);
        BigDecimal value;
        try {
            value = new BigDecimal(number);
        } catch (NumberFormatException e) {
            value = null;
        }
        if (value == null || !ValueConverter.fitsNumeric(value)) {
            throw new Refusal("JSON number " + ValueConverter.shorten(number, 40) + " is outside the range of PostgreSQL numeric");
        }
    }

    private int digits() {
        int start = pos;
        while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
            pos++;
        }
        return pos - start;
    }

    /** Reads a string from its opening quote; returns its value. */
    private String string() {
        StringBuilder value = new StringBuilder();
        pos++;
        while (true) {
            if (pos >= s.length()) {
                throw bad("a string is not closed");
            }
            char c = s.charAt(pos++);
            if (c == '"') {
                return value.toString();
            }
            if (c < 0x20) {
                pos--;
                throw bad(String.format("control character U+%04X must be escaped", (int) c));
            }
            if (c != '\\') {
                value.append(c);
                continue;
            }
            if (pos >= s.length()) {
                throw bad("a string is not closed");
            }
            char e = s.charAt(pos++);
            switch (e) {
                case '"', '\\', '/' -> value.append(e);
                case 'b' -> value.append('\b');
                case 'f' -> value.append('\f');
                case 'n' -> value.append('\n');
                case 'r' -> value.append('\r');
                case 't' -> value.append('\t');
                case 'u' -> {
                    char u = hex4();
                    if (u == 0) {
                        throw new Refusal("JSON string holds \\u0000, which jsonb cannot hold");
                    }
                    if (Character.isHighSurrogate(u)) {
                        if (!s.startsWith("\\u", pos)) {
                            throw bad("\\u" + Integer.toHexString(u) + " is half of a surrogate pair");
                        }
                        pos += 2;
                        char low = hex4();
                        if (!Character.isLowSurrogate(low)) {
                            throw bad("\\u" + Integer.toHexString(u) + " is half of a surrogate pair");
                        }
                        value.append(u).append(low);
                    } else if (Character.isLowSurrogate(u)) {
                        throw bad("\\u" + Integer.toHexString(u) + " is half of a surrogate pair");
                    } else {
                        value.append(u);
                    }
                }
                default -> {
                    pos -= 2;
                    throw bad("invalid escape \\" + e);
                }
            }
        }
    }

    private char hex4() {
        if (pos + 4 > s.length()) {
            throw bad("\\u needs four hex digits");
        }
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(s.charAt(pos + i), 16);
            if (d < 0 || s.charAt(pos + i) > 'f') {
                throw bad("\\u needs four hex digits");
            }
            v = v * 16 + d;
        }
        pos += 4;
        return (char) v;
    }

    private void skipSpace() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private char peek(String expected) {
        if (pos >= s.length()) {
            throw new Refusal("JSON ends where " + expected + " should be");
        }
        return s.charAt(pos);
    }

    private Refusal bad(String problem) {
        return new Refusal("not valid JSON: " + problem + " at character " + (pos + 1));
    }
}
