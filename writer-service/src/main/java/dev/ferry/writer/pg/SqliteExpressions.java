package dev.ferry.writer.pg;

import dev.ferry.schemas.SqliteTokens;
import dev.ferry.schemas.SqliteTokens.Kind;
import dev.ferry.schemas.SqliteTokens.Token;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * Translates a SQLite expression (a CHECK, the WHERE of a partial index, an index expression, a DEFAULT) into
 * PostgreSQL, token by token, when every token means the same in both: column names, literals, comparison,
 * arithmetic, AND/OR/NOT, IS [NOT] NULL, IN, BETWEEN, CASE, and a few functions that behave alike. Anything else
 * ({@code LIKE}, which ignores case in SQLite; {@code IS} between values; date functions; casts) is refused with
 * the reason, never guessed.
 */
final class SqliteExpressions {

    /** The PostgreSQL text, or why there is none. */
    record Translation(String sql, String problem) {

        boolean ok() {
            return sql != null;
        }
    }

    private static final Set<String> KEYWORDS = Set.of("AND", "OR", "NOT", "NULL", "IN", "BETWEEN", "TRUE", "FALSE",
            "CASE", "WHEN", "THEN", "ELSE", "END");
    /** Functions whose results agree for the values both sides hold. */
    private static final Set<String> FUNCTIONS = Set.of("lower", "upper", "abs", "length", "coalesce", "nullif", "trim", "ltrim", "rtrim");
    private static final Set<String> OPERATORS = Set.of("=", "<>", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "||", "(", ")", ",");

    private SqliteExpressions() {
    }

    /**
     * @param columns the PostgreSQL name of a column of the table, from its SQLite name; null when there is no such
     *                column (a constant expression, such as a DEFAULT, passes a function that always returns null)
     */
    static Translation translate(String expression, Function<String, String> columns) {
        List<Token> tokens;
        try {
            tokens = SqliteTokens.tokenize(expression);
        } catch (IllegalArgumentException e) {
            return refused(e.getMessage());
        }
        if (tokens.isEmpty()) {
            return refused("empty expression");
        }
        StringBuilder sql = new StringBuilder();
        for (int i = 0; i < tokens.size(); i++) {
            Token t = tokens.get(i);
            Token next = i + 1 < tokens.size() ? tokens.get(i + 1) : null;
            String piece;
            switch (t.kind()) {
                case STRING -> piece = t.text();
                case NUMBER -> {
                    if (t.text().startsWith("0x") || t.text().startsWith("0X") || t.text().contains("_")) {
                        return refused("number " + t.text() + " is written in a form PostgreSQL reads otherwise");
                    }
                    piece = t.text();
                }
                case BLOB -> piece = "'\\x" + t.text().substring(2, t.text().length() - 1) + "'::bytea";
                case OPERATOR -> {
                    if (t.text().equals("==")) {
                        piece = "=";
                    } else if (OPERATORS.contains(t.text())) {
                        piece = t.text();
                    } else {
                        return refused("operator " + t.text() + " has no PostgreSQL equivalent ferry knows");
                    }
                }
                case WORD, QUOTED_NAME -> {
                    String upper = t.text().toUpperCase(Locale.ROOT);
                    if (t.kind() == Kind.WORD && KEYWORDS.contains(upper)) {
                        piece = upper;
                    } else if (t.kind() == Kind.WORD && next != null && next.isOperator("(")) {
                        String function = t.text().toLowerCase(Locale.ROOT);
                        if (!FUNCTIONS.contains(function)) {
                            return refused("function " + t.text() + "() is not one ferry translates");
                        }
                        piece = function;
                    } else if (t.kind() == Kind.WORD && upper.equals("IS")) {
                        boolean not = next != null && next.is("NOT");
                        Token operand = not ? (i + 2 < tokens.size() ? tokens.get(i + 2) : null) : next;
                        if (operand == null || !operand.is("NULL")) {
                            return refused("IS compares any two values in SQLite; only IS [NOT] NULL is translated");
                        }
                        piece = "IS";
                    } else if (t.kind() == Kind.WORD && (upper.equals("LIKE") || upper.equals("GLOB") || upper.equals("REGEXP")
                            || upper.equals("MATCH") || upper.equals("COLLATE") || upper.equals("CAST") || upper.equals("ESCAPE"))) {
                        return refused(upper + " behaves differently in PostgreSQL");
                    } else {
                        String column = columns.apply(t.name());
                        if (column == null) {
                            return refused("\"" + t.name() + "\" is not a column of the table");
                        }
                        piece = column;
                    }
                }
                default -> {
                    return refused("parameter " + t.text() + " cannot be translated");
                }
            }
            // Spaced between tokens, except after "(" and before ")" and ",", and before the "(" of a call. Only between
            // tokens: the text of a quoted name or a string is never touched.
            boolean afterOpening = i > 0 && tokens.get(i - 1).isOperator("(");
            if (!sql.isEmpty() && !afterOpening && !t.isOperator(")") && !t.isOperator(",") && !(t.isOperator("(") && isFunctionName(tokens, i - 1))) {
                sql.append(' ');
            }
            sql.append(piece);
        }
        return new Translation(sql.toString(), null);
    }

    private static boolean isFunctionName(List<Token> tokens, int i) {
        return i >= 0 && tokens.get(i).kind() == Kind.WORD && FUNCTIONS.contains(tokens.get(i).text().toLowerCase(Locale.ROOT));
    }

    private static Translation refused(String problem) {
        return new Translation(null, problem);
    }
}
