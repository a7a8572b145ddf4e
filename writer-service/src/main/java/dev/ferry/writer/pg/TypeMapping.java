package dev.ferry.writer.pg;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * SQLite column → PostgreSQL type, as data: a per-column override if one names the column, else the first rule
 * whose pattern the upper-cased declared type contains. The rules follow SQLite's own affinity precedence
 * (section 3.1 of "Datatypes In SQLite"), so {@code CHARINT} is an integer as it is in SQLite; the names SQLite
 * leaves to NUMERIC affinity are then told apart. docs/type-mapping.md shows this table (a test keeps them equal).
 */
public final class TypeMapping {

    /** One rule: a substring of the declared type, the PostgreSQL type it maps to, why, and declared types it catches. */
    public record Rule(String contains, PgType type, String why, String examples) {
    }

    static final List<Rule> RULES = List.of(
            new Rule("INT", PgType.BIGINT, "INTEGER affinity. SQLite keeps any integer up to 64 bits whatever width is declared,"
                    + " so `smallint` or `integer` would refuse values SQLite holds",
                    "`INTEGER`, `INT`, `BIGINT`, `SMALLINT`, `TINYINT`, `MEDIUMINT`, `smallint unsigned`, `short integer`, `INT8`"),
            new Rule("CHAR", PgType.TEXT, "TEXT affinity. SQLite does not enforce a length, so `varchar(n)` would refuse longer values",
                    "`VARCHAR(255)`, `NCHAR(55)`, `CHARACTER(20)`"),
            new Rule("CLOB", PgType.TEXT, "TEXT affinity", "`CLOB`"),
            new Rule("TEXT", PgType.TEXT, "TEXT affinity", "`TEXT`"),
            new Rule("BLOB", PgType.BYTEA, "BLOB affinity", "`BLOB`"),
            new Rule("REAL", PgType.DOUBLE, "REAL affinity: 8-byte IEEE floating point, as in SQLite", "`REAL`"),
            new Rule("FLOA", PgType.DOUBLE, "REAL affinity", "`FLOAT`"),
            new Rule("DOUB", PgType.DOUBLE, "REAL affinity", "`DOUBLE`, `DOUBLE PRECISION`"),
            new Rule("BOOL", PgType.BOOLEAN, "declared boolean: 0/1 or true/false words", "`BOOLEAN`, `BOOL`"),
            new Rule("DATETIME", PgType.TIMESTAMPTZ, "a point in time; SQLite's date functions read a time without zone as UTC",
                    "`DATETIME`"),
            new Rule("TIMESTAMP", PgType.TIMESTAMPTZ, "a point in time, as `DATETIME`", "`TIMESTAMP`, `TIMESTAMPTZ`"),
            new Rule("DATE", PgType.DATE, "a calendar day", "`DATE`"),
            new Rule("TIME", PgType.TIME, "a time of day", "`TIME`"),
            new Rule("JSON", PgType.JSONB, "declared JSON", "`JSON`, `JSONB`"),
            new Rule("UUID", PgType.UUID, "declared UUID", "`UUID`"),
            new Rule("NUM", PgType.NUMERIC, "NUMERIC affinity, declared as a number. Plain `numeric`: `numeric(p,s)` would round"
                    + " values with more decimals without a word", "`NUMERIC`, `NUMBER`, `NUMERIC(10,2)`"),
            new Rule("DEC", PgType.NUMERIC, "as `NUM`", "`DECIMAL(10,2)`"));

    /** The rules alone, without overrides. */
    public static final TypeMapping DEFAULT = new TypeMapping(Map.of());

    /** An override as the user wrote it, and its type. */
    private record Override(String key, PgType type) {
    }

    /** ASCII-folded table name → ASCII-folded column name → override. */
    private final Map<String, Map<String, Override>> overrides;

    private TypeMapping(Map<String, Map<String, Override>> overrides) {
        this.overrides = overrides;
    }

    /**
     * The rules plus per-column overrides, keyed {@code table.column} → PostgreSQL type name (see {@link PgType#byName}).
     * A name holding a dot or a double quote is written in double quotes, with {@code ""} for a quote:
     * {@code "my.table"."col"}. Names match as SQLite matches them: ASCII letters in any case.
     *
     * @throws IllegalArgumentException naming the key or type at fault
     */
    public static TypeMapping withOverrides(Map<String, String> typeOverrides) {
        Map<String, Map<String, Override>> parsed = new HashMap<>();
        Map<String, String> seen = new HashMap<>();
        for (var e : typeOverrides.entrySet()) {
            String key = e.getKey();
            List<String> names = splitKey(key);
            PgType type = PgType.byName(e.getValue() == null ? "" : e.getValue()).orElseThrow(() -> new IllegalArgumentException(
                    "type override '" + key + "': '" + e.getValue() + "' is not a type ferry writes; use one of " + String.join(", ", PgType.names())));
            String table = fold(names.get(0));
            String column = fold(names.get(1));
            String other = seen.put(table + '\u0000' + column, key);
            if (other != null) {
                throw new IllegalArgumentException("type overrides '" + other + "' and '" + key + "' name the same column");
            }
            parsed.computeIfAbsent(table, t -> new HashMap<>()).put(column, new Override(key, type));
        }
        return new TypeMapping(parsed);
    }

    /** The type of one column: its override, else the rules. */
    public PgType typeOf(String table, String column, String declaredType) {
        Override o = overrides.getOrDefault(fold(table), Map.of()).get(fold(column));
        return o != null ? o.type() : byDeclaredType(declaredType);
    }

    /** Overrides that name a column the table does not have, as the user wrote them. */
    public List<String> unmatched(String table, Collection<String> columns) {
        Set<String> present = new HashSet<>();
        columns.forEach(c -> present.add(fold(c)));
        List<String> unmatched = new ArrayList<>();
        overrides.getOrDefault(fold(table), Map.of()).forEach((column, o) -> {
            if (!present.contains(column)) {
                unmatched.add(o.key());
            }
        });
        return unmatched;
    }

    /** The rules alone: the first rule the declared type contains, else text. */
    public static PgType byDeclaredType(String declaredType) {
        String upper = declaredType == null ? "" : dev.ferry.schemas.SqliteTokens.upperName(declaredType);
        if (upper.isBlank()) {
            // No declared type: any storage class may appear; text holds all but BLOBs without loss.
            return PgType.TEXT;
        }
        for (Rule rule : RULES) {
            if (upper.contains(rule.contains())) {
                return rule.type();
            }
        }
        // Any other name (STRING, MONEY...) has NUMERIC affinity in SQLite, yet such columns hold text in
        // practice, which numeric would refuse: text keeps every value but BLOBs.
        return PgType.TEXT;
    }

    /** {@code table.column} or {@code "ta.ble"."col"}: exactly two names. */
    private static List<String> splitKey(String key) {
        List<String> names = new ArrayList<>(2);
        int i = 0;
        while (true) {
            StringBuilder name = new StringBuilder();
            if (i < key.length() && key.charAt(i) == '"') {
                i++;
                while (true) {
                    if (i >= key.length()) {
                        throw badKey(key, "a quoted name is not closed");
                    }
                    char c = key.charAt(i++);
                    if (c == '"') {
                        if (i < key.length() && key.charAt(i) == '"') {
                            name.append('"');
                            i++;
                        } else {
                            break;
                        }
                    } else {
                        name.append(c);
                    }
                }
            } else {
                while (i < key.length() && key.charAt(i) != '.') {
                    if (key.charAt(i) == '"') {
                        throw badKey(key, "a double quote inside an unquoted name");
                    }
                    name.append(key.charAt(i++));
                }
            }
            if (name.isEmpty()) {
                throw badKey(key, "an empty name");
            }
            names.add(name.toString());
            if (i == key.length()) {
                break;
            }
            if (key.charAt(i) != '.') {
                throw badKey(key, "text after a quoted name");
            }
            i++;
        }
        if (names.size() != 2) {
            throw badKey(key, names.size() < 2 ? "no column" : "more than one dot");
        }
        return names;
    }

    private static IllegalArgumentException badKey(String key, String problem) {
        return new IllegalArgumentException("type override key '" + key + "' has " + problem + ": write TABLE.COLUMN, and quote a name"
                + " that holds a dot or a quote, e.g. \"my.table\".\"my column\"");
    }

    /** SQLite matches names case-insensitively for ASCII letters only. */
    private static String fold(String name) {
        StringBuilder folded = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            folded.append(c >= 'A' && c <= 'Z' ? (char) (c + 32) : c);
        }
        return folded.toString();
    }
}
