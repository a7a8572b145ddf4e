package dev.ferry.writer.pg;

import dev.ferry.schemas.SqliteTokens;
import dev.ferry.schemas.SqliteTokens.Kind;
import dev.ferry.schemas.SqliteTokens.Token;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A SQLite column DEFAULT in PostgreSQL (docs/type-mapping.md#defaults). A literal is converted as a value of the
 * column would be ({@link ValueConverter}), so {@code DEFAULT '2024-01-01'} on a DATETIME column becomes a
 * timestamptz, and a default no value of the column could hold is reported, not copied. {@code CURRENT_TIMESTAMP}
 * and its kin keep SQLite's meaning (UTC, SQLite's text form in a text column). A constant expression made of
 * literals and functions both sides share is set apart from the CREATE TABLE, so that PostgreSQL refusing it
 * cannot stop the table. Anything else is not carried, with the reason.
 */
final class ColumnDefaults {

    /**
     * @param inline     DEFAULT text for CREATE TABLE, or null
     * @param expression a constant expression for {@code ALTER COLUMN ... SET DEFAULT}, or null
     * @param note       for the report: why the default is not carried, or what is uncertain; null when nothing is
     */
    record Default(String inline, String expression, String note) {
        static final Default NONE = new Default(null, null, null);
    }

    private static final String UTC_NOW = "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')";

    /** SQLite's time keywords and their meaning per target type; a missing type means not carried. */
    private static final Map<String, Map<PgType, String>> NOW = Map.of(
            "CURRENT_TIMESTAMP", Map.of(PgType.TIMESTAMPTZ, "CURRENT_TIMESTAMP",
                    PgType.TEXT, "to_char(" + UTC_NOW + ", 'YYYY-MM-DD HH24:MI:SS')"),
            "CURRENT_DATE", Map.of(PgType.DATE, UTC_NOW + "::date", PgType.TEXT, "to_char(" + UTC_NOW + ", 'YYYY-MM-DD')"),
            "CURRENT_TIME", Map.of(PgType.TIME, UTC_NOW + "::time(0)", PgType.TEXT, "to_char(" + UTC_NOW + ", 'HH24:MI:SS')"));

    /** {@code datetime('now')} and its kin are the same as the keywords. */
    private static final Map<String, String> NOW_FUNCTIONS = Map.of("datetime", "CURRENT_TIMESTAMP", "date", "CURRENT_DATE",
            "time", "CURRENT_TIME");

    private ColumnDefaults() {
    }

    static Default translate(String sqliteDefault, PgType type, String column) {
        if (sqliteDefault == null) {
            return Default.NONE;
        }
        List<Token> tokens;
        try {
            tokens = SqliteTokens.tokenize(sqliteDefault);
        } catch (IllegalArgumentException e) {
            return notCarried(sqliteDefault, "cannot be read: " + e.getMessage());
        }
        while (tokens.size() > 2 && tokens.get(0).isOperator("(") && SqliteTokens.closing(tokens, 0) == tokens.size() - 1) {
            tokens = tokens.subList(1, tokens.size() - 1);
        }
        if (tokens.size() == 1 && tokens.get(0).is("NULL")) {
            return Default.NONE;
        }
        String now = now(tokens);
        if (now != null) {
            String sql = NOW.get(now).get(type);
            return sql != null ? new Default(sql, null, null)
                    : notCarried(sqliteDefault, "SQLite writes the " + now.toLowerCase(Locale.ROOT).replace('_', ' ')
                    + " as text, which a " + type.sql() + " column does not hold");
        }
        Object literal = literal(tokens);
        if (literal != null) {
            if (literal instanceof String s && s.trim().equalsIgnoreCase("null")) {
                return type == PgType.TEXT
                        ? new Default(render(PgType.TEXT, s), null, "DEFAULT " + sqliteDefault + " is the text '" + s
                        + "', not NULL, in SQLite too; carried as that text")
                        : notCarried(sqliteDefault, "it is the text '" + s + "', not NULL (a common mistake); a " + type.sql()
                        + " column cannot hold it");
            }
            try {
                return new Default(render(type, ValueConverter.convert(type, column, literal)), null, null);
            } catch (ValueConversionException e) {
                return notCarried(sqliteDefault, e.getMessage());
            }
        }
        SqliteExpressions.Translation expression = SqliteExpressions.translate(SqliteTokens.text(sqliteDefault, tokens, 0, tokens.size()),
                name -> null);
        if (!expression.ok()) {
            return notCarried(sqliteDefault, expression.problem());
        }
        return new Default(null, expression.sql(), "DEFAULT " + sqliteDefault + " is an expression: set as " + expression.sql()
                + " after the table is created; PostgreSQL may refuse it for a " + type.sql() + " column");
    }

    private static Default notCarried(String sqliteDefault, String why) {
        return new Default(null, null, "DEFAULT " + sqliteDefault + " not carried: " + why);
    }

    /** The time keyword the tokens stand for, or null. */
    private static String now(List<Token> tokens) {
        if (tokens.size() == 1 && NOW.containsKey(SqliteTokens.upper(tokens.get(0))) && tokens.get(0).kind() == Kind.WORD) {
            return SqliteTokens.upper(tokens.get(0));
        }
        if (tokens.size() == 4 && tokens.get(0).kind() == Kind.WORD && tokens.get(1).isOperator("(")
                && tokens.get(2).kind() == Kind.STRING && tokens.get(2).stringValue().equalsIgnoreCase("now") && tokens.get(3).isOperator(")")) {
            return NOW_FUNCTIONS.get(tokens.get(0).text().toLowerCase(Locale.ROOT));
        }
        return null;
    }

    /** The value of a literal in its SQLite storage class (Long, Double, String, ByteBuffer), or null when not a literal. */
    private static Object literal(List<Token> tokens) {
        boolean negative = false;
        int i = 0;
        if (tokens.size() == 2 && (tokens.get(0).isOperator("-") || tokens.get(0).isOperator("+"))) {
            negative = tokens.get(0).isOperator("-");
            i = 1;
        }
        if (tokens.size() != i + 1) {
            return null;
        }
        Token t = tokens.get(i);
        if (t.kind() == Kind.NUMBER) {
            String text = t.text();
            try {
                if (text.startsWith("0x") || text.startsWith("0X")) {
                    long v = Long.parseUnsignedLong(text.substring(2), 16);
                    return negative ? -v : v;
                }
                if (text.matches("[0-9]+")) {
                    java.math.BigInteger v = new java.math.BigInteger(text);
                    v = negative ? v.negate() : v;
                    return v.bitLength() < 64 ? (Object) v.longValueExact() : (Object) v.doubleValue();
                }
                double d = Double.parseDouble(text);
                return negative ? -d : d;
            } catch (NumberFormatException | ArithmeticException e) {
                return null;
            }
        }
        if (i > 0) {
            return null;
        }
        if (t.kind() == Kind.STRING) {
            return t.stringValue();
        }
        if (t.kind() == Kind.BLOB) {
            return ByteBuffer.wrap(HexFormat.of().parseHex(t.text().substring(2, t.text().length() - 1)));
        }
        if (t.is("TRUE") || t.is("FALSE")) {
            return t.is("TRUE") ? 1L : 0L;
        }
        return null;
    }

    private static String render(PgType type, Object value) {
        return switch (type) {
            case BIGINT -> value.toString();
            case BOOLEAN -> value.toString();
            case TEXT -> quote(value.toString());
            case BYTEA -> "'\\x" + HexFormat.of().formatHex((byte[]) value) + "'::bytea";
            // PostgreSQL's own input form (years before 1 as BC), as COPY writes them: Java's ISO text is not always it.
            case DATE, TIMESTAMPTZ, TIME -> quote(CopyText.dateTime(value)) + "::" + type.sql();
            default -> quote(value.toString()) + "::" + type.sql();
        };
    }

    private static String quote(String text) {
        return "'" + text.replace("'", "''") + "'";
    }
}
