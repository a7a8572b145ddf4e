package dev.ferry.testkit;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A SQLite database that is hostile to a replicator, generated from a seed (the same seed, the same database and the
 * same application writes): table, column and index names with quotes of every kind, spaces, dots, semicolons,
 * {@code --}, unicode, reserved words, names longer than PostgreSQL's 63 bytes, numbers, leading and trailing spaces,
 * line breaks, the empty name, names differing only in (non-ASCII) case, names PostgreSQL keeps for itself (system
 * columns such as {@code ctid}, and those it gives its own objects: {@code <table>_pkey}, {@code <table>_<column>_seq}),
 * ferry's own {@code _ferry_rowid}; every kind of key; columns of many declared types; and in every column values of
 * every storage class chosen at random per row. {@link #step} is an application transaction for {@link AppWriter}.
 *
 * <p>What it leaves out, because docs/operations.md lists it as a known limitation: NULL in a declared primary key
 * (a key column never gets NULL), UNIQUE constraints other than the primary key (REPLACE conflicts on them are not
 * captured), generated columns, and values over 2704 bytes in indexed columns (PostgreSQL's B-tree limit). Key values
 * are unique after the type mapping (docs/type-mapping.md, "Keys that PostgreSQL cannot tell apart"): each carries a
 * number no other key of its table carries. Points in time are whole milliseconds, which is what {@link TableComparison}
 * compares. The application reads nothing before the first write of a transaction (docs/operations.md: such a
 * transaction fails at once with SQLITE_BUSY when ferry wrote in between).
 */
public final class HostileDatabase {

    /** How a table is keyed. */
    public enum KeyKind { INTEGER_PRIMARY_KEY, SINGLE_KEY, COMPOSITE_KEY, WITHOUT_ROWID, NO_KEY }

    /**
     * A column: its name, its declared type as written ({@code ""} for none), its position in the key (0: none), and
     * whether an index covers it.
     */
    public record Column(String name, String declaredType, int keyPosition, boolean indexed) {
    }

    /** An index of value columns, {@code DESC} on its first, partial ({@code WHERE first IS NOT NULL}) or not. */
    public record Index(String name, List<Column> columns, boolean desc, boolean partial) {
    }

    /** A generated table; {@code checks}: how many CHECK constraints its CREATE TABLE has. */
    public record Table(String name, KeyKind keyKind, List<Column> columns, List<Index> indexes, int checks) {

        public List<Column> keys() {
            return columns.stream().filter(c -> c.keyPosition() > 0).sorted((a, b) -> a.keyPosition() - b.keyPosition()).toList();
        }

        List<Column> values() {
            return columns.stream().filter(c -> c.keyPosition() == 0).toList();
        }
    }

    static final List<String> TABLE_NAMES = List.of(
            "select", "Order Details", "user\"s \"quoted\"", "it's", "dot.ted.name", "back`tick", "[bracketed]",
            "semi;colon; DROP TABLE x; --", "dash--dash", "café ünïcødé", "表格", "🚀 emoji", "table", "user", "order",
            "123", "  padded  ", "tab\there", "line\nbreak", "fn( arg )", "x'41'", "/* not a comment */", "", "xmax");

    /**
     * Tables in every database: two names that differ only in the case of non-ASCII letters (distinct for SQLite, which
     * folds ASCII only), and two that PostgreSQL would cut to the same 63 bytes.
     */
    static final List<String> TABLE_NAMES_ALWAYS = List.of("ÄÖÜ", "äöü",
            "very long table name that goes on and on past sixty-three bytes, number 1",
            "very long table name that goes on and on past sixty-three bytes, number 2");

    static final List<String> COLUMN_NAMES = List.of(
            "a\"b", "it's", "with space", "dot.ted", "back`tick", "[bracket]", "semi;colon", "dash--dash", "café", "列名",
            "🚀", "select", "order", "user", "table", "42", " leading", "trailing ", "Ä", "ä", "fn( arg )", "value",
            "VALUE", "NULL", "x'00'", "-- comment", "/*c*/", "new\nline", "_ferry_rowid", "rowid", "", "ctid", "xmin", "CMAX",
            "a column name that is longer than sixty-three bytes in UTF-8, number 1",
            "a column name that is longer than sixty-three bytes in UTF-8, number 2");

    static final List<String> DECLARED_TYPES = List.of(
            "INTEGER", "REAL", "NUMERIC", "DECIMAL(10,2)", "TEXT", "VARCHAR(20)", "BLOB", "BOOLEAN", "DATE", "DATETIME",
            "JSON", "UUID", "", "smallint unsigned", "TIME", "TIMESTAMP", "FLOATING POINT", "STRING", "double precision",
            "UNSIGNED BIG INT", "TEXT COLLATE NOCASE");

    /**
     * Declared types of key columns that are not the rowid: those whose keys the type mapping keeps apart. {@code INT},
     * not {@code INTEGER}: a single {@code INT PRIMARY KEY} is not the rowid and may hold any storage class.
     */
    static final List<String> KEY_TYPES = List.of("TEXT", "VARCHAR(20)", "", "INT", "REAL", "NUMERIC", "BLOB", "TEXT COLLATE NOCASE");

    private static final List<String> KEY_SUFFIXES = List.of("", " ", "  trailing  ", "'", "''", "\"", "\\", "é", "表", "🚀",
            "\t\n", ",", "T'41'", "X'00'", ",NULL", "-- ", "; DROP TABLE x", "%_");

    private final List<Table> tables;
    private final Map<String, Long> nextKey = new HashMap<>();

    private HostileDatabase(List<Table> tables) {
        this.tables = tables;
    }

    /**
     * {@code count} tables (at least those of {@link #TABLE_NAMES_ALWAYS}, at most all names of the pools), every key
     * kind among them, and two more named as PostgreSQL names the key index and the identity sequence of two of them.
     */
    public static HostileDatabase generate(long seed, int count) {
        Random r = new Random(seed);
        List<String> names = new ArrayList<>(TABLE_NAMES);
        Collections.shuffle(names, r);
        names = new ArrayList<>(names.subList(0, Math.max(0, Math.min(count - TABLE_NAMES_ALWAYS.size(), names.size()))));
        names.addAll(TABLE_NAMES_ALWAYS);
        Collections.shuffle(names, r);
        List<KeyKind> kinds = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            kinds.add(i < KeyKind.values().length ? KeyKind.values()[i] : KeyKind.values()[r.nextInt(KeyKind.values().length)]);
        }
        Collections.shuffle(kinds, r);
        List<Table> tables = new ArrayList<>();
        Set<String> objectNames = new HashSet<>();
        names.forEach(n -> objectNames.add(asciiLower(n)));
        for (int i = 0; i < names.size(); i++) {
            tables.add(table(r, names.get(i), kinds.get(i), objectNames));
        }
        // Names PostgreSQL gives the objects it makes for a table: its primary key's index, its identity's sequence.
        Table first = tables.get(0);
        tables.add(table(r, first.name() + "_pkey", KeyKind.SINGLE_KEY, objectNames));
        tables.stream().filter(t -> t.keyKind() == KeyKind.INTEGER_PRIMARY_KEY).findFirst().ifPresent(t ->
                tables.add(table(r, t.name() + "_" + t.keys().get(0).name() + "_seq", KeyKind.NO_KEY, objectNames)));
        return new HostileDatabase(List.copyOf(tables));
    }

    private static Table table(Random r, String name, KeyKind kind, Set<String> objectNames) {
        objectNames.add(asciiLower(name));
        List<Column> columns = new ArrayList<>();
        Set<String> taken = new HashSet<>();
        List<String> pool = new ArrayList<>(COLUMN_NAMES);
        Collections.shuffle(pool, r);
        int keyCount = switch (kind) {
            case INTEGER_PRIMARY_KEY, SINGLE_KEY -> 1;
            case COMPOSITE_KEY -> 2 + r.nextInt(2);
            case WITHOUT_ROWID -> 1 + r.nextInt(2);
            case NO_KEY -> 0;
        };
        int valueCount = 3 + r.nextInt(4);
        // A column named as its table in another case, where ASCII case can change it.
        String sameAsTable = swapAsciiCase(name);
        List<String> chosen = new ArrayList<>();
        if (!sameAsTable.equals(name)) {
            chosen.add(sameAsTable);
        }
        if (kind == KeyKind.NO_KEY && r.nextBoolean()) {
            // The name under which ferry carries the rowid key.
            chosen.add("_ferry_rowid");
        }
        chosen.addAll(pool);
        int at = 0;
        List<Integer> keyOrder = new ArrayList<>();
        for (int k = 1; k <= keyCount; k++) {
            keyOrder.add(k);
        }
        // Key order differs from column order.
        Collections.shuffle(keyOrder, r);
        int keysPlaced = 0;
        while (columns.size() < keyCount + valueCount && at < chosen.size()) {
            String n = chosen.get(at++);
            if (!taken.add(asciiLower(n))) {
                continue;
            }
            boolean key = keysPlaced < keyCount && (r.nextInt(3) == 0 || keyCount + valueCount - columns.size() <= keyCount - keysPlaced);
            if (key) {
                String type = kind == KeyKind.INTEGER_PRIMARY_KEY ? "INTEGER" : KEY_TYPES.get(r.nextInt(KEY_TYPES.size()));
                columns.add(new Column(n, type, keyOrder.get(keysPlaced++), false));
            } else {
                columns.add(new Column(n, DECLARED_TYPES.get(r.nextInt(DECLARED_TYPES.size())), 0, false));
            }
        }
        List<Integer> valuePositions = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            if (columns.get(i).keyPosition() == 0) {
                valuePositions.add(i);
            }
        }
        List<List<Integer>> indexed = new ArrayList<>();
        List<String> indexNames = new ArrayList<>();
        int indexCount = r.nextInt(3);
        for (int i = 0; i < indexCount && !valuePositions.isEmpty(); i++) {
            String indexName = COLUMN_NAMES.get(r.nextInt(COLUMN_NAMES.size())) + " idx " + (objectNames.size() + i);
            if (objectNames.add(asciiLower(indexName))) {
                int first = valuePositions.get(r.nextInt(valuePositions.size()));
                int second = valuePositions.get(r.nextInt(valuePositions.size()));
                indexed.add(first == second ? List.of(first) : List.of(first, second));
                indexNames.add(indexName);
                for (int position : indexed.get(indexed.size() - 1)) {
                    Column c = columns.get(position);
                    columns.set(position, new Column(c.name(), c.declaredType(), 0, true));
                }
            }
        }
        List<Index> indexes = new ArrayList<>();
        for (int i = 0; i < indexed.size(); i++) {
            indexes.add(new Index(indexNames.get(i), indexed.get(i).stream().map(columns::get).toList(), r.nextBoolean(), r.nextBoolean()));
        }
        return new Table(name, kind, List.copyOf(columns), List.copyOf(indexes), valuePositions.isEmpty() ? 0 : 1);
    }

    public List<Table> tables() {
        return tables;
    }

    /** CREATE TABLE and CREATE INDEX statements, names quoted in every style SQLite reads, with comments in between. */
    public List<String> ddl(long seed) {
        Random r = new Random(seed);
        List<String> ddl = new ArrayList<>();
        for (Table t : tables) {
            StringBuilder sql = new StringBuilder("CREATE TABLE ").append(quoteAnyStyle(r, t.name())).append(" ( -- a table: ").append(t.keyKind())
                    .append("\n");
            List<Column> keys = t.keys();
            for (int i = 0; i < t.columns().size(); i++) {
                Column c = t.columns().get(i);
                sql.append(i == 0 ? "  " : ",\n  /* column */ ").append(quoteAnyStyle(r, c.name()));
                if (!c.declaredType().isEmpty()) {
                    sql.append(' ').append(c.declaredType());
                }
                if (t.keyKind() == KeyKind.INTEGER_PRIMARY_KEY && c.keyPosition() > 0) {
                    sql.append(" PRIMARY KEY").append(r.nextBoolean() ? " AUTOINCREMENT" : "");
                } else if (t.keyKind() == KeyKind.SINGLE_KEY && c.keyPosition() > 0) {
                    sql.append(" PRIMARY KEY");
                }
            }
            if (t.keyKind() == KeyKind.COMPOSITE_KEY || t.keyKind() == KeyKind.WITHOUT_ROWID) {
                sql.append(",\n  PRIMARY KEY (").append(String.join(", ", keys.stream().map(k -> quoteAnyStyle(r, k.name())).toList())).append(")");
            }
            if (t.checks() > 0) {
                Column c = t.values().get(r.nextInt(t.values().size()));
                String q = quoteAnyStyle(r, c.name());
                // Always true: the check is about the names in its text.
                sql.append(",\n  CHECK (").append(q).append(" IS NULL OR ").append(q).append(" IS NOT NULL)");
            }
            sql.append("\n)").append(t.keyKind() == KeyKind.WITHOUT_ROWID ? " WITHOUT ROWID" : "");
            ddl.add(sql.toString());
            for (Index index : t.indexes()) {
                Column c = index.columns().get(0);
                String on = quoteAnyStyle(r, c.name()) + (index.desc() ? " DESC" : "")
                        + (index.columns().size() > 1 ? ", " + quoteAnyStyle(r, index.columns().get(1).name()) : "");
                String where = index.partial() ? " WHERE " + quoteAnyStyle(r, c.name()) + " IS NOT NULL" : "";
                ddl.add("CREATE INDEX " + quoteAnyStyle(r, index.name()) + " ON " + quoteAnyStyle(r, t.name()) + " (" + on + ")" + where);
            }
        }
        return ddl;
    }

    /** Inserts {@code rows} rows into every table, in one transaction per table. */
    public void fill(Connection c, long seed, int rows) throws SQLException {
        Random r = new Random(seed);
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            for (Table t : tables) {
                for (int i = 0; i < rows; i++) {
                    String sql = insert(r, t);
                    try {
                        st.executeUpdate(sql);
                    } catch (SQLException e) {
                        throw new SQLException(e.getMessage() + ": " + (sql.length() > 2000 ? sql.substring(0, 2000) + "..." : sql), e);
                    }
                }
                c.commit();
            }
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    /**
     * One application transaction: one to four inserts, updates of values, updates of keys (rowids included), deletes,
     * and INSERT OR REPLACE over an existing key, on tables chosen at random.
     */
    public void step(Connection c, Random r, long step) throws SQLException {
        try (Statement st = c.createStatement()) {
            int ops = 1 + r.nextInt(4);
            for (int i = 0; i < ops; i++) {
                Table t = tables.get(r.nextInt(tables.size()));
                int kind = r.nextInt(20);
                // Nothing is read before the first write of a transaction: in WAL mode a transaction that read and then
                // writes fails at once with SQLITE_BUSY when ferry (its install, its changelog trimming) wrote in between.
                String pick = "(" + locator(t) + ") IN (SELECT " + locator(t) + " FROM " + quote(t.name()) + " ORDER BY " + locator(t)
                        + " LIMIT " + (kind == 19 ? 3 : 1) + " OFFSET " + r.nextInt(Integer.MAX_VALUE) + " % (SELECT max(1, count(*)) FROM "
                        + quote(t.name()) + "))";
                if (kind < 8) {
                    st.executeUpdate(insert(r, t));
                } else if (kind < 13) {
                    List<Column> values = t.values();
                    if (values.isEmpty()) {
                        continue;
                    }
                    StringBuilder set = new StringBuilder();
                    int n = 1 + r.nextInt(Math.min(3, values.size()));
                    for (int k = 0; k < n; k++) {
                        Column col = values.get(r.nextInt(values.size()));
                        set.append(k == 0 ? "" : ", ").append(quote(col.name())).append(" = ").append(valueSql(r, col));
                    }
                    st.executeUpdate("UPDATE " + quote(t.name()) + " SET " + set + " WHERE " + pick);
                } else if (kind < 15) {
                    // A new key for an existing row: a delete of the old key and an insert of the new one for ferry.
                    st.executeUpdate("UPDATE " + quote(t.name()) + " SET " + newKeyAssignments(r, t) + " WHERE " + pick);
                } else if (kind < 17 && t.keyKind() != KeyKind.NO_KEY) {
                    // REPLACE over the primary key: the same key, a new row.
                    List<String> cols = t.columns().stream().map(col -> quote(col.name())).toList();
                    List<String> select = t.columns().stream().map(col -> col.keyPosition() > 0 ? quote(col.name())
                            : valueSql(r, col)).toList();
                    st.executeUpdate("INSERT OR REPLACE INTO " + quote(t.name()) + " (" + String.join(", ", cols) + ") SELECT "
                            + String.join(", ", select) + " FROM " + quote(t.name()) + " WHERE " + pick);
                } else {
                    st.executeUpdate("DELETE FROM " + quote(t.name()) + " WHERE " + pick);
                }
            }
        }
    }

    /** How a row is named: the rowid (under a name no column hides), or the key of a WITHOUT ROWID table. */
    private static String locator(Table t) {
        if (t.keyKind() == KeyKind.WITHOUT_ROWID) {
            return String.join(", ", t.keys().stream().map(k -> quote(k.name())).toList());
        }
        return rowid(t);
    }

    private static String rowid(Table t) {
        return List.of("rowid", "_rowid_", "oid").stream()
                .filter(a -> t.columns().stream().noneMatch(c -> c.name().equalsIgnoreCase(a))).findFirst().orElseThrow();
    }

    private String insert(Random r, Table t) {
        List<String> names = new ArrayList<>();
        List<String> values = new ArrayList<>();
        long key = nextKey(t);
        for (Column c : t.columns()) {
            names.add(quote(c.name()));
            values.add(c.keyPosition() > 0 ? keySql(r, t, c, key) : valueSql(r, c));
        }
        return "INSERT INTO " + quote(t.name()) + " (" + String.join(", ", names) + ") VALUES (" + String.join(", ", values) + ")";
    }

    private String newKeyAssignments(Random r, Table t) {
        long key = nextKey(t);
        if (t.keyKind() == KeyKind.NO_KEY) {
            // Below every rowid SQLite hands out (max + 1), so no insert takes it.
            return rowid(t) + " = " + (-1_000_000_000L - key);
        }
        return String.join(", ", t.keys().stream().map(k -> quote(k.name()) + " = " + keySql(r, t, k, key)).toList());
    }

    private long nextKey(Table t) {
        return nextKey.merge(t.name(), 1L, Long::sum) - 1;
    }

    /**
     * A key value that no other key of its table has, even after the type mapping: the first key column carries
     * {@code n}, in a storage class its declared type takes, or one time in eight in one PostgreSQL refuses (text with
     * NUL or bytes that are not UTF-8, text in a number column); the other key columns of a composite key take small
     * values of their type.
     */
    private static String keySql(Random r, Table t, Column c, long n) {
        if (t.keyKind() == KeyKind.INTEGER_PRIMARY_KEY) {
            return Long.toString(integerKey(n));
        }
        String type = c.declaredType();
        boolean number = type.equals("INT") || type.equals("REAL") || type.equals("NUMERIC");
        if (c.keyPosition() > 1) {
            String small = Integer.toString(r.nextInt(3));
            return number ? small : type.equals("BLOB") || type.isEmpty() && r.nextBoolean() ? "X'6" + small + "'"
                    : literal(List.of("a", "B", "é").get(r.nextInt(3)));
        }
        if (r.nextInt(8) == 0) {
            return switch (r.nextInt(4)) {
                case 0 -> literal("k" + n) + " || char(0) || 'nul'";
                case 1 -> "CAST(" + blob(("k" + n).getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xC3, 0x28}) + " AS TEXT)";
                case 2 -> blob(("b" + n).getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xFF});
                default -> literal("k" + n);
            };
        }
        if (type.equals("INT")) {
            return Long.toString(integerKey(n));
        }
        if (number) {
            return r.nextBoolean() ? Long.toString(integerKey(n)) : n == 0 ? "9e999" : n == 1 ? "-9e999" : n == 2 ? "-0.0" : n + ".5";
        }
        int kind = type.equals("BLOB") || type.isEmpty() ? r.nextInt(4) : 0;
        return switch (kind) {
            case 1 -> Long.toString(integerKey(n));
            case 2 -> n == 0 ? "9e999" : n == 1 ? "-9e999" : n + ".5";
            case 3 -> blob(("b" + n).getBytes(StandardCharsets.UTF_8), new byte[0]);
            default -> literal("k" + n + KEY_SUFFIXES.get(r.nextInt(KEY_SUFFIXES.size())));
        };
    }

    /** Distinct for distinct n: the extremes, 0 and -1 first, then ±(1,000,000 + n). */
    private static long integerKey(long n) {
        if (n < 4) {
            return new long[] {Long.MIN_VALUE, Long.MAX_VALUE, 0, -1}[(int) n];
        }
        return (n % 2 == 0 ? 1 : -1) * (1_000_000 + n);
    }

    private static final String[] INTEGERS = {"0", "1", "-1", "42", "9223372036854775807", "-9223372036854775808", "9007199254740993",
        "1706702400", "1706702400123", "2460341", "70000", "4294967296"};
    private static final String[] REALS = {"0.1", "-0.0", "1.5", "1e20", "1e-7", "4.9e-324", "1.7976931348623157e308", "9e999", "-9e999",
        "0.0 / 0", "1706702400.5", "2460341.25", "12.345", "-273.15", "3.0"};
    private static final String[] TEXTS = {"''", "'nul' || char(0) || 'inside'", "CAST(X'C328' AS TEXT)", "CAST(X'66696C65966E616D65' AS TEXT)",
        "'quote''s \"double\" `back` [bracket]'", "'tab\there' || char(10) || 'newline\\back' || char(13)", "'café 表 🚀'", "' 42 '", "'1e5'",
        "'0x10'", "'NaN'", "'Infinity'", "'-Infinity'", "'yes'", "'off'", "'t'", "'2024-01-31'", "'2024-01-31 12:00:00'",
        "'2024-01-31T12:00:00.123Z'", "'2024-01-31T12:00:00+02:00'", "'12:34:56'", "'12:34'", "'{\"a\":[1,2],\"b\":null}'", "'{\"a\":1,\"a\":2}'",
        "'[]'", "'\"text\"'", "'123e4567-e89b-12d3-a456-426614174000'", "'123E4567-E89B-12D3-A456-426614174000'", "'null'", "'NULL'",
        "'-- not a comment'", "'; DROP TABLE x; --'", "'\\N'", "'\\.'", "' '", "'12abc'", "'123456789012345678901234567890'"};

    /**
     * Values a column of each declared type takes without a refusal (docs/type-mapping.md), the odd ones included:
     * extremes, infinities, unicode, quotes and escapes, every spelling the mapping reads.
     */
    private static final Map<String, String[]> FITTING = Map.ofEntries(
            Map.entry("INTEGER", new String[] {"0", "-1", "9223372036854775807", "-9223372036854775808", "' 42 '", "'-7'", "1706702400", "3.0"}),
            Map.entry("REAL", new String[] {"0.1", "-0.0", "4.9e-324", "1.7976931348623157e308", "9e999", "-9e999", "0.0 / 0", "42",
                "9007199254740993", "'NaN'", "'Infinity'", "'-Infinity'", "'1e400'", "-273.15"}),
            Map.entry("NUMERIC", new String[] {"12.345", "0.1", "-9223372036854775808", "'123456789012345678901234567890'", "'NaN'", "9e999",
                "'-Infinity'", "1e-7", "1e20"}),
            Map.entry("TEXT", new String[] {"''", "' '", "'quote''s \"double\" `back` [bracket]'", "'tab\there' || char(10) || 'new\\line' || char(13)",
                "'café 表 🚀'", "'\\N'", "'\\.'", "'null'", "'-- not a comment'", "'; DROP TABLE x; --'", "42", "-9223372036854775808",
                "X'68656c6c6f20e29c93'", "X''"}),
            Map.entry("BLOB", new String[] {"X''", "X'00'", "X'00ff00ff'", "'text in a blob'", "CAST(X'C328' AS TEXT)", "'nul' || char(0) || 'inside'",
                "42", "1.5", "9e999"}),
            Map.entry("BOOLEAN", new String[] {"0", "1", "TRUE", "FALSE", "'t'", "'f'", "'true'", "'FALSE'", "'yes'", "'No'", "'on'", "'OFF'", "'1'",
                "1.0"}),
            Map.entry("DATETIME", new String[] {"'2024-01-31 12:00:00'", "'2024-01-31T12:00:00.123Z'", "'2024-01-31T12:00:00+02:00'", "'2024-01-31'",
                "'2024-01-31 12:00'", "1706702400", "1706702400123", "1706702400.5", "2460341.25", "0", "'0000-01-01 00:00:00'",
                "'9999-12-31 23:59:59.999'"}),
            Map.entry("DATE", new String[] {"'2024-01-31'", "'2024-02-29'", "'0001-01-01'", "'0000-01-01'", "2460340.5", "1706659200",
                "'1970-01-01 00:00:00'"}),
            // Whole milliseconds: TableComparison compares times to the millisecond, SQLite's and PostgreSQL's rounding differ below.
            Map.entry("TIME", new String[] {"'12:34'", "'12:34:56'", "'23:59:59.999'", "'00:00'", "'12:34:56.789'"}),
            Map.entry("JSON", new String[] {"'{\"a\":[1,2],\"b\":null}'", "'[]'", "'\"text\"'", "'{\"k\":\"v\",\"n\":1.5}'", "42", "1.5", "'null'",
                "'{\"nested\":{\"deep\":[true,false,null]}}'", "'\"unicode é 🚀\"'", "'  {\"padded\": 1}  '"}),
            Map.entry("UUID", new String[] {"'123e4567-e89b-12d3-a456-426614174000'", "'123E4567-E89B-12D3-A456-426614174000'",
                "X'123e4567e89b12d3a456426614174000'", "X'00000000000000000000000000000000'"}));

    /** The column of {@link #FITTING} a declared type of {@link #DECLARED_TYPES} behaves as. */
    private static String fittingKey(String declaredType) {
        return switch (declaredType) {
            case "INTEGER", "smallint unsigned", "UNSIGNED BIG INT", "FLOATING POINT" -> "INTEGER";
            case "REAL", "double precision" -> "REAL";
            case "NUMERIC", "DECIMAL(10,2)" -> "NUMERIC";
            case "BLOB" -> "BLOB";
            case "BOOLEAN" -> "BOOLEAN";
            case "DATETIME", "TIMESTAMP" -> "DATETIME";
            case "DATE" -> "DATE";
            case "TIME" -> "TIME";
            case "JSON" -> "JSON";
            case "UUID" -> "UUID";
            default -> "TEXT";
        };
    }

    /**
     * A value for a column: one of any storage class (see {@link #valueSql(Random, boolean)}) one time in eight, else one
     * the declared type takes, so that most rows arrive and the refused ones stay few enough to tell apart. No long
     * value in an indexed column: a PostgreSQL B-tree index holds at most 2704 bytes per entry (docs/operations.md,
     * known limitations).
     */
    static String valueSql(Random r, Column column) {
        if (r.nextInt(8) == 0) {
            // No REAL of 17 random digits where it is read as a point in time: TableComparison compares those to the
            // millisecond, which SQLite's own double arithmetic may round otherwise than ferry's exact microseconds.
            String fitting = fittingKey(column.declaredType());
            return valueSql(r, !column.indexed(), !fitting.equals("DATETIME") && !fitting.equals("DATE"));
        }
        int kind = r.nextInt(10);
        if (kind == 0) {
            return "NULL";
        }
        String fitting = fittingKey(column.declaredType());
        if (kind == 1 && fitting.equals("TEXT")) {
            return literal(randomText(r, r.nextInt(10) == 0 && !column.indexed() ? 1000 + r.nextInt(40_000) : r.nextInt(40)));
        }
        if (kind == 1 && fitting.equals("INTEGER")) {
            return Long.toString(r.nextLong());
        }
        if (kind == 1 && fitting.equals("REAL")) {
            return Double.toString(r.nextGaussian() * Math.pow(10, r.nextInt(40) - 20));
        }
        String[] values = FITTING.get(fitting);
        return values[r.nextInt(values.length)];
    }

    /**
     * A SQL expression for a value of a storage class chosen at random: NULL, INTEGER, REAL, TEXT or BLOB; long ones if
     * {@code large}, REALs of random digits if {@code randomReals}.
     */
    static String valueSql(Random r, boolean large, boolean randomReals) {
        int kind = r.nextInt(100);
        if (kind < 8) {
            return "NULL";
        }
        if (kind < 26) {
            return r.nextInt(4) == 0 ? Long.toString(r.nextLong()) : INTEGERS[r.nextInt(INTEGERS.length)];
        }
        if (kind < 44) {
            return r.nextInt(4) == 0 && randomReals ? Double.toString(r.nextGaussian() * Math.pow(10, r.nextInt(40) - 20))
                    : REALS[r.nextInt(REALS.length)];
        }
        if (kind < 82) {
            int t = r.nextInt(10);
            if (t == 0 && large) {
                return literal(randomText(r, 1000 + r.nextInt(r.nextInt(10) == 0 ? 60_000 : 5_000)));
            }
            if (t < 3) {
                return literal(randomText(r, r.nextInt(30)));
            }
            return TEXTS[r.nextInt(TEXTS.length)];
        }
        return switch (r.nextInt(6)) {
            case 0 -> "X''";
            case 1 -> "X'00'";
            case 2 -> blob("hello ✓".getBytes(StandardCharsets.UTF_8), new byte[0]);
            case 3 -> {
                byte[] uuid = new byte[16];
                r.nextBytes(uuid);
                yield blob(uuid, new byte[0]);
            }
            default -> {
                byte[] bytes = new byte[r.nextInt(r.nextInt(10) == 0 && large ? 20_000 : 64)];
                r.nextBytes(bytes);
                yield blob(bytes, new byte[0]);
            }
        };
    }

    private static final String ALPHABET = "abcXYZ019 '\"\\\t\n\r,.;-_()[]`%éü表格🚀\u00a0\u2028";

    private static String randomText(Random r, int length) {
        StringBuilder sb = new StringBuilder(length);
        int[] cps = ALPHABET.codePoints().toArray();
        for (int i = 0; i < length; i++) {
            sb.appendCodePoint(cps[r.nextInt(cps.length)]);
        }
        return sb.toString();
    }

    private static String blob(byte[] bytes, byte[] suffix) {
        return "X'" + HexFormat.of().formatHex(bytes) + HexFormat.of().formatHex(suffix) + "'";
    }

    static String literal(String text) {
        return '\'' + text.replace("'", "''") + '\'';
    }

    public static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    /** Double quotes, backticks or brackets, as SQLite reads all three (brackets only when the name has no ']'). */
    private static String quoteAnyStyle(Random r, String name) {
        return switch (r.nextInt(3)) {
            case 0 -> '`' + name.replace("`", "``") + '`';
            case 1 -> name.contains("]") ? quote(name) : '[' + name + ']';
            default -> quote(name);
        };
    }

    /** Lower case of ASCII letters only, as SQLite compares names. */
    static String asciiLower(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (char ch : s.toCharArray()) {
            sb.append(ch >= 'A' && ch <= 'Z' ? (char) (ch + 32) : ch);
        }
        return sb.toString();
    }

    private static String swapAsciiCase(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (char ch : s.toCharArray()) {
            sb.append(ch >= 'A' && ch <= 'Z' ? (char) (ch + 32) : ch >= 'a' && ch <= 'z' ? (char) (ch - 32) : ch);
        }
        return sb.toString();
    }
}
