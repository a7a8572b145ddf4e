package dev.ferry.writer.pg;

import java.util.List;
import java.util.Locale;

/**
 * SQLite declared type → PostgreSQL type, as data: the first rule whose pattern the upper-cased declared
 * type contains wins. The order follows SQLite's own affinity rules (section 3.1 of "Datatypes In SQLite"),
 * so {@code CHARINT} is an integer as it is in SQLite. Unknown names map to text. See docs/type-mapping.md.
 */
public final class TypeMapping {

    /** One rule: a substring of the declared type, and the PostgreSQL type it maps to. */
    public record Rule(String contains, PgType type, String why) {
    }

    static final List<Rule> DEFAULT_RULES = List.of(
            new Rule("INT", PgType.BIGINT, "INTEGER affinity; SQLite integers are 64-bit"),
            new Rule("CHAR", PgType.TEXT, "TEXT affinity"),
            new Rule("CLOB", PgType.TEXT, "TEXT affinity"),
            new Rule("TEXT", PgType.TEXT, "TEXT affinity"),
            new Rule("BLOB", PgType.BYTEA, "BLOB affinity"),
            new Rule("REAL", PgType.DOUBLE, "REAL affinity"),
            new Rule("FLOA", PgType.DOUBLE, "REAL affinity"),
            new Rule("DOUB", PgType.DOUBLE, "REAL affinity"),
            // Interim until date/time conversion exists: kept as the text SQLite holds, nothing lost.
            new Rule("DATE", PgType.TEXT, "date/time kept as text"),
            new Rule("TIME", PgType.TEXT, "date/time kept as text"),
            new Rule("NUM", PgType.NUMERIC, "NUMERIC affinity, declared as a number"),
            new Rule("DEC", PgType.NUMERIC, "NUMERIC affinity, declared as a number"),
            new Rule("BOOL", PgType.BIGINT, "SQLite stores booleans as the integers 0 and 1"));

    private TypeMapping() {
    }

    public static PgType map(String declaredType) {
        String upper = declaredType == null ? "" : declaredType.toUpperCase(Locale.ROOT);
        if (upper.isBlank()) {
            // No declared type: any storage class may appear; text holds all but BLOBs without loss.
            return PgType.TEXT;
        }
        for (Rule rule : DEFAULT_RULES) {
            if (upper.contains(rule.contains())) {
                return rule.type();
            }
        }
        // Any other name (JSON, UUID, STRING...) has NUMERIC affinity in SQLite, yet such columns hold text in
        // practice, which numeric would refuse: text keeps every value but BLOBs.
        return PgType.TEXT;
    }
}
