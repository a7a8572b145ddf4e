package dev.ferry.schemas;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits SQLite SQL text into tokens, as SQLite's own tokenizer does: quoted names ({@code "a b"}, {@code `a`},
 * {@code [a]}), strings with doubled quotes, blob literals, numbers, comments and multi-character operators.
 * The ingest side reads what SQLite's PRAGMAs do not report (collations, CHECK, index expressions) from the
 * CREATE text with it; the writer translates expressions with it. Each token keeps its place in the text, so
 * a part of the text can be taken "as written".
 */
public final class SqliteTokens {

    /** What a token is. */
    public enum Kind { WORD, QUOTED_NAME, STRING, BLOB, NUMBER, VARIABLE, OPERATOR }

    /** One token and where it stands in the text, {@code [start, end)}. */
    public record Token(Kind kind, String text, int start, int end) {

        /** True for a bare word equal to {@code keyword}, ignoring ASCII case. */
        public boolean is(String keyword) {
            return kind == Kind.WORD && sameName(text, keyword);
        }

        public boolean isOperator(String op) {
            return kind == Kind.OPERATOR && text.equals(op);
        }

        /** The name this token stands for: a bare word as is, a quoted name without its quotes. */
        public String name() {
            if (kind != Kind.QUOTED_NAME) {
                return text;
            }
            char open = text.charAt(0);
            String inner = text.substring(1, text.length() - 1);
            return switch (open) {
                case '"' -> inner.replace("\"\"", "\"");
                case '`' -> inner.replace("``", "`");
                default -> inner;
            };
        }

        /** For a STRING, its value without quotes. */
        public String stringValue() {
            return text.substring(1, text.length() - 1).replace("''", "'");
        }
    }

    private SqliteTokens() {
    }

    /**
     * The tokens of {@code sql}, without white space and comments.
     *
     * @throws IllegalArgumentException when a quote or comment is not closed
     */
    public static List<Token> tokenize(String sql) {
        List<Token> tokens = new ArrayList<>();
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int eol = sql.indexOf('\n', i);
                i = eol < 0 ? n : eol + 1;
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int close = sql.indexOf("*/", i + 2);
                i = close < 0 ? n : close + 2; // SQLite accepts an unclosed comment at the end
            } else if (c == '\'') {
                int end = quoted(sql, i, '\'');
                tokens.add(new Token(Kind.STRING, sql.substring(i, end), i, end));
                i = end;
            } else if ((c == 'x' || c == 'X') && i + 1 < n && sql.charAt(i + 1) == '\'') {
                int end = quoted(sql, i + 1, '\'');
                tokens.add(new Token(Kind.BLOB, sql.substring(i, end), i, end));
                i = end;
            } else if (c == '"' || c == '`') {
                int end = quoted(sql, i, c);
                tokens.add(new Token(Kind.QUOTED_NAME, sql.substring(i, end), i, end));
                i = end;
            } else if (c == '[') {
                int close = sql.indexOf(']', i);
                if (close < 0) {
                    throw new IllegalArgumentException("unclosed [ at offset " + i + " in: " + sql);
                }
                tokens.add(new Token(Kind.QUOTED_NAME, sql.substring(i, close + 1), i, close + 1));
                i = close + 1;
            } else if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(sql.charAt(i + 1)))) {
                int end = number(sql, i);
                tokens.add(new Token(Kind.NUMBER, sql.substring(i, end), i, end));
                i = end;
            } else if (isWordStart(c)) {
                int end = i + 1;
                while (end < n && isWordPart(sql.charAt(end))) {
                    end++;
                }
                tokens.add(new Token(Kind.WORD, sql.substring(i, end), i, end));
                i = end;
            } else if (c == '?' || c == ':' || c == '@' || c == '$') {
                int end = i + 1;
                while (end < n && isWordPart(sql.charAt(end))) {
                    end++;
                }
                tokens.add(new Token(Kind.VARIABLE, sql.substring(i, end), i, end));
                i = end;
            } else {
                String two = i + 1 < n ? sql.substring(i, i + 2) : "";
                int len = List.of("||", "<=", ">=", "<>", "!=", "==", "<<", ">>", "->").contains(two) ? 2 : 1;
                if (two.equals("->") && i + 2 < n && sql.charAt(i + 2) == '>') {
                    len = 3;
                }
                tokens.add(new Token(Kind.OPERATOR, sql.substring(i, i + len), i, i + len));
                i += len;
            }
        }
        return tokens;
    }

    /**
     * Splits {@code tokens[from, to)} at the commas outside parentheses; each part is a list of tokens.
     */
    public static List<List<Token>> splitTopLevel(List<Token> tokens, int from, int to) {
        List<List<Token>> parts = new ArrayList<>();
        List<Token> part = new ArrayList<>();
        int depth = 0;
        for (int i = from; i < to; i++) {
            Token t = tokens.get(i);
            if (t.isOperator("(")) {
                depth++;
            } else if (t.isOperator(")")) {
                depth--;
            } else if (t.isOperator(",") && depth == 0) {
                parts.add(part);
                part = new ArrayList<>();
                continue;
            }
            part.add(t);
        }
        if (!part.isEmpty()) {
            parts.add(part);
        }
        return parts;
    }

    /** Index of the ")" that closes the "(" at {@code open}, or -1. */
    public static int closing(List<Token> tokens, int open) {
        int depth = 0;
        for (int i = open; i < tokens.size(); i++) {
            if (tokens.get(i).isOperator("(")) {
                depth++;
            } else if (tokens.get(i).isOperator(")") && --depth == 0) {
                return i;
            }
        }
        return -1;
    }

    /** The text from the first to the last token of {@code tokens[from, to)}, as written (comments inside included). */
    public static String text(String sql, List<Token> tokens, int from, int to) {
        if (from >= to) {
            return "";
        }
        return sql.substring(tokens.get(from).start(), tokens.get(to - 1).end());
    }

    /**
     * A name as SQLite compares names (tables, columns, collations): ASCII letters folded to lower case, every other
     * character as it is, so {@code "Ä"} and {@code "ä"} are two names (Java's case-insensitive comparison would make them one).
     */
    public static String foldName(String name) {
        return shiftAsciiLetters(name, 'A', 'a' - 'A');
    }

    /** True when SQLite takes the two names for one (see {@link #foldName}). */
    public static boolean sameName(String a, String b) {
        return a.length() == b.length() && foldName(a).equals(foldName(b));
    }

    /** Upper-cased word, for keyword comparisons: ASCII letters only, as SQLite compares keywords. */
    public static String upper(Token t) {
        return upperName(t.text());
    }

    /**
     * {@code name} with ASCII a-z upper-cased and nothing else changed: SQLite matches keywords, type names and
     * affinity rules ignoring ASCII case only, so {@code "ınt"} (dotless i) is not {@code INT} to it, though Java's
     * {@code toUpperCase} makes it so.
     */
    public static String upperName(String name) {
        return shiftAsciiLetters(name, 'a', 'A' - 'a');
    }

    /** {@code name} with each of the 26 letters from {@code first} moved by {@code shift}; {@code name} itself when none is there. */
    private static String shiftAsciiLetters(String name, char first, int shift) {
        char[] chars = null;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= first && c < first + 26) {
                if (chars == null) {
                    chars = name.toCharArray();
                }
                chars[i] = (char) (c + shift);
            }
        }
        return chars == null ? name : new String(chars);
    }

    private static int quoted(String sql, int open, char quote) {
        int i = open + 1;
        while (i < sql.length()) {
            if (sql.charAt(i) == quote) {
                if (i + 1 < sql.length() && sql.charAt(i + 1) == quote) {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i++;
        }
        throw new IllegalArgumentException("unclosed " + quote + " at offset " + open + " in: " + sql);
    }

    private static int number(String sql, int i) {
        int n = sql.length();
        if (sql.charAt(i) == '0' && i + 1 < n && (sql.charAt(i + 1) == 'x' || sql.charAt(i + 1) == 'X')) {
            int end = i + 2;
            while (end < n && Character.digit(sql.charAt(end), 16) >= 0) {
                end++;
            }
            return end;
        }
        int end = i;
        while (end < n && (Character.isDigit(sql.charAt(end)) || sql.charAt(end) == '.' || sql.charAt(end) == '_')) {
            end++;
        }
        if (end < n && (sql.charAt(end) == 'e' || sql.charAt(end) == 'E')) {
            int exp = end + 1;
            if (exp < n && (sql.charAt(exp) == '+' || sql.charAt(exp) == '-')) {
                exp++;
            }
            if (exp < n && Character.isDigit(sql.charAt(exp))) {
                end = exp;
                while (end < n && Character.isDigit(sql.charAt(end))) {
                    end++;
                }
            }
        }
        return end;
    }

    private static boolean isWordStart(char c) {
        return Character.isLetter(c) || c == '_' || c > 127;
    }

    private static boolean isWordPart(char c) {
        return isWordStart(c) || Character.isDigit(c) || c == '$';
    }
}
