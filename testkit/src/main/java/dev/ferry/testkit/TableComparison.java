package dev.ferry.testkit;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares a SQLite table with its PostgreSQL copy row by row. Written independently of the writer's
 * conversion code, so that it checks it: both sides are reduced to canonical text (integers and decimals
 * as plain numbers, BLOB/bytea as hex, text as is) and matched by key.
 *
 * <p>A BLOB in a text column is compared as its bytes read as UTF-8 text, and a REAL as Java's text of it (the
 * documented rendering); in a bytea column a TEXT is compared as its bytes, and a number as the bytes of that text.
 * A TEXT whose bytes are not UTF-8 is compared as those bytes, which is how ferry carries it.
 * For a column whose PostgreSQL type has no SQLite counterpart, each side is reduced by its own database:
 * boolean to 1/0 (SQLite's words for true and false by the documented list); timestamptz, date and time to
 * UTC text to the millisecond through SQLite's own date functions ({@code 'auto'} for numbers, Unix
 * milliseconds beyond its seconds range) and PostgreSQL's {@code to_char}, years before 1 AD numbered as SQLite
 * numbers them; jsonb through PostgreSQL's jsonb parser on both sides; uuid to 32 lower-case hex digits (a 16-byte
 * BLOB as its hex). Not covered: sub-millisecond differences.
 */
public final class TableComparison {

    private static final String ROWID = "_ferry_rowid";

    /**
     * The differences found; empty when the tables hold the same rows. {@code differingKeys}: the keys (as the
     * differences print them, see {@link #keyText}) of the rows missing, extra or different in PostgreSQL.
     */
    public record Result(String table, long sourceRows, long targetRows, List<String> differences, Set<String> differingKeys) {
        public boolean identical() {
            return differences.isEmpty();
        }
    }

    private TableComparison() {
    }

    public static List<String> userTables(Path sqlite) throws SQLException {
        List<String> tables = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + sqlite.toAbsolutePath());
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table'"
                     + " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_ferry\\_%' ESCAPE '\\' ORDER BY name")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
            }
        }
        return tables;
    }

    public static Result compare(Path sqlite, String table, String pgJdbcUrl, String pgSchema) throws SQLException {
        Map<String, List<String>> source;
        Shape shape;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + sqlite.toAbsolutePath())) {
            shape = shape(c, table, pgJdbcUrl, pgSchema);
            List<String> columns = shape.columns();
            String select = "SELECT " + String.join(", ", columns.stream().map(col -> sqliteSide(quote(col), shape.pgType(col))).toList());
            if (shape.byRowid()) {
                // The rowid under a name no column hides, as SQLite resolves rowid, _rowid_ and oid.
                String alias = List.of("rowid", "_rowid_", "oid").stream()
                        .filter(a -> columns.stream().noneMatch(col -> col.equalsIgnoreCase(a))).findFirst().orElseThrow();
                select = "SELECT " + alias + ", " + select.substring("SELECT ".length());
            }
            source = read(c, select + " FROM " + quote(table), shape.keyPositions(), shape.sourceTypes());
        }
        List<String> columns = shape.columns();
        List<String> keys = shape.keys();
        Map<String, List<String>> target;
        try (Connection c = DriverManager.getConnection(pgJdbcUrl)) {
            String select = "SELECT " + (shape.byRowid() ? quote(shape.rowidColumn()) + ", " : "")
                    + String.join(", ", columns.stream().map(col -> postgresSide(quote(pgName(col)), shape.pgType(col))).toList());
            target = read(c, select + " FROM " + quote(pgSchema) + "." + quote(pgName(table)), shape.keyPositions(), null);
            List<Integer> jsonColumns = new ArrayList<>();
            for (int i = 0; i < columns.size(); i++) {
                if ("jsonb".equals(shape.pgType(columns.get(i)))) {
                    jsonColumns.add(i + (keys.isEmpty() ? 1 : 0));
                }
            }
            if (!jsonColumns.isEmpty()) {
                source = normalizeJson(c, source, jsonColumns);
            }
        }
        List<String> differences = new ArrayList<>();
        Set<String> differingKeys = new TreeSet<>();
        List<String> header = new ArrayList<>(columns);
        if (keys.isEmpty()) {
            header.add(0, shape.rowidColumn());
        }
        for (var e : source.entrySet()) {
            List<String> other = target.get(e.getKey());
            if (other == null) {
                differences.add("missing in PostgreSQL: key " + e.getKey() + " row " + e.getValue());
                differingKeys.add(e.getKey());
            } else if (!other.equals(e.getValue())) {
                for (int i = 0; i < header.size(); i++) {
                    if (!Objects.equals(e.getValue().get(i), other.get(i))) {
                        differences.add("key " + e.getKey() + " column \"" + header.get(i) + "\": SQLite " + e.getValue().get(i)
                                + " vs PostgreSQL " + other.get(i));
                    }
                }
                differingKeys.add(e.getKey());
            }
        }
        for (var e : target.entrySet()) {
            if (!source.containsKey(e.getKey())) {
                differences.add("extra in PostgreSQL: key " + e.getKey() + " row " + e.getValue());
                differingKeys.add(e.getKey());
            }
        }
        return new Result(table, source.size(), target.size(), differences, differingKeys);
    }

    /**
     * The keys of a table's rows as {@link #compare} prints them, from the values an event or a dead letter carries:
     * the key columns' values in SQLite's storage classes (Long, Double, String, byte[] or null), or the rowid for a
     * table keyed by rowid. They are reduced as SQLite's own column values are, so that a record can be matched with a
     * difference. Close it when done.
     */
    public static KeyText keyText(Path sqlite, String table, String pgJdbcUrl, String pgSchema) throws SQLException {
        return new KeyText(sqlite, table, pgJdbcUrl, pgSchema);
    }

    /** See {@link #keyText}. */
    public static final class KeyText implements AutoCloseable {

        private final Connection connection;
        private final Shape shape;
        private final List<String> types;
        private final PreparedStatement reduce;

        private KeyText(Path sqlite, String table, String pgJdbcUrl, String pgSchema) throws SQLException {
            connection = DriverManager.getConnection("jdbc:sqlite:" + sqlite.toAbsolutePath());
            shape = shape(connection, table, pgJdbcUrl, pgSchema);
            types = shape.keys().stream().map(shape::pgType).toList();
            StringBuilder select = new StringBuilder("SELECT ");
            for (int i = 0; i < types.size(); i++) {
                select.append(i == 0 ? "" : ", ").append(sqliteSide("?" + (i + 1), types.get(i)));
            }
            reduce = shape.byRowid() ? null : connection.prepareStatement(select.toString());
        }

        public String of(List<?> keyValues) throws SQLException {
            if (shape.byRowid()) {
                return List.of(canonical(keyValues.get(0))).toString();
            }
            for (int i = 0; i < types.size(); i++) {
                reduce.setObject(i + 1, keyValues.get(i));
            }
            try (ResultSet rs = reduce.executeQuery()) {
                rs.next();
                List<String> key = new ArrayList<>();
                for (int i = 0; i < types.size(); i++) {
                    key.add(canonical(sqliteValue(sqliteObject(rs, i + 1), types.get(i))));
                }
                return key.toString();
            }
        }

        @Override
        public void close() throws SQLException {
            connection.close();
        }
    }

    /** The columns of a SQLite table, the key compare() matches rows by (empty: the rowid), and the PostgreSQL types. */
    private record Shape(List<String> columns, List<String> keys, Map<String, String> pgTypes) {

        boolean byRowid() {
            return keys.isEmpty();
        }

        /** ferry's documented column of a rowid key: _ferry_rowid, or _ferry_rowid_2, _3, ... when a column has that name. */
        String rowidColumn() {
            String name = ROWID;
            for (int n = 2; columns.contains(name); n++) {
                name = ROWID + "_" + n;
            }
            return name;
        }

        String pgType(String column) {
            return pgTypes.get(pgName(column));
        }

        /** Positions of the key in a row as read: the rowid first when it is the key. */
        List<Integer> keyPositions() {
            return keys.isEmpty() ? List.of(0) : keys.stream().map(columns::indexOf).toList();
        }

        /** The PostgreSQL type of each position of a SQLite row as read, null for the rowid. */
        List<String> sourceTypes() {
            List<String> types = new ArrayList<>();
            if (byRowid()) {
                types.add(null);
            }
            columns.forEach(col -> types.add(pgType(col)));
            return types;
        }
    }

    private static Shape shape(Connection c, String table, String pgJdbcUrl, String pgSchema) throws SQLException {
        List<String> columns = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        // Generated columns too (hidden 2 and 3): ferry copies their values.
        try (var ps = c.prepareStatement("SELECT name, pk FROM pragma_table_xinfo(?) WHERE hidden IN (0, 2, 3) ORDER BY cid")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                TreeMap<Integer, String> pk = new TreeMap<>();
                while (rs.next()) {
                    columns.add(rs.getString(1));
                    if (rs.getInt(2) > 0) {
                        pk.put(rs.getInt(2), rs.getString(1));
                    }
                }
                keys.addAll(pk.values());
            }
        }
        if (!keys.isEmpty()) {
            // Rows whose declared key is NULL cannot be told apart by it: ferry keys such a table by rowid.
            String nullKey = String.join(" OR ", keys.stream().map(k -> quote(k) + " IS NULL").toList());
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1 FROM " + quote(table) + " WHERE " + nullKey + " LIMIT 1")) {
                if (rs.next()) {
                    keys.clear();
                }
            }
        }
        return new Shape(columns, keys, pgTypes(pgJdbcUrl, pgSchema, pgName(table)));
    }

    /** Compares every user table; throws AssertionError listing the first differences. */
    public static void assertIdentical(Path sqlite, String pgJdbcUrl, String pgSchema) throws SQLException {
        List<String> problems = new ArrayList<>();
        for (String table : userTables(sqlite)) {
            Result r = compare(sqlite, table, pgJdbcUrl, pgSchema);
            if (!r.identical()) {
                problems.add(table + ": " + r.sourceRows() + " source row(s), " + r.targetRows() + " target row(s), "
                        + r.differences().size() + " difference(s), first: " + r.differences().subList(0, Math.min(5, r.differences().size())));
            }
        }
        if (!problems.isEmpty()) {
            throw new AssertionError("SQLite and PostgreSQL differ:\n" + String.join("\n", problems));
        }
    }

    private static Map<String, String> pgTypes(String pgJdbcUrl, String pgSchema, String table) throws SQLException {
        Map<String, String> types = new HashMap<>();
        try (Connection c = DriverManager.getConnection(pgJdbcUrl); PreparedStatement ps = c.prepareStatement(
                // citext (a COLLATE NOCASE text column) compares as text.
                "SELECT column_name, CASE WHEN udt_name = 'citext' THEN 'text' ELSE data_type END FROM information_schema.columns"
                        + " WHERE table_schema = ? AND table_name = ?")) {
            ps.setString(1, pgSchema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    types.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        return types;
    }

    private static final String NUMBER = "typeof(%1$s) IN ('integer', 'real')";
    /** Unix milliseconds: beyond the Unix seconds SQLite's 'auto' modifier reads (years -4713 to 9999). */
    private static final String MILLIS = NUMBER + " AND (%1$s > 253402300799 OR %1$s < -210866760000)";

    /** A SQLite column reduced to the canonical text of the PostgreSQL type it was written to. */
    private static String sqliteSide(String c, String pgType) {
        if (pgType == null) {
            return c;
        }
        return switch (pgType) {
            // A BLOB in a text column: its bytes read as UTF-8 text.
            case "text" -> String.format("CASE WHEN typeof(%1$s) = 'blob' THEN CAST(%1$s AS TEXT) ELSE %1$s END", c);
            case "boolean" -> String.format("CASE WHEN typeof(%1$s) = 'text' AND lower(trim(%1$s)) IN ('1', 't', 'true', 'y', 'yes', 'on') THEN 1"
                    + " WHEN typeof(%1$s) = 'text' AND lower(trim(%1$s)) IN ('0', 'f', 'false', 'n', 'no', 'off') THEN 0 ELSE %1$s END", c);
            case "timestamp with time zone" -> instant(c, "'%Y-%m-%d %H:%M:%f'");
            case "date" -> instant(c, "'%Y-%m-%d'");
            case "time without time zone" -> String.format("strftime('%%H:%%M:%%f', %s)", c);
            case "uuid" -> String.format("CASE WHEN typeof(%1$s) = 'blob' AND length(%1$s) = 16 THEN lower(hex(%1$s))"
                    + " ELSE lower(replace(%1$s, '-', '')) END", c);
            // A TEXT as its bytes; an INTEGER as the bytes of its digits (a REAL: see sqliteValue).
            case "bytea" -> String.format("CASE typeof(%1$s) WHEN 'text' THEN CAST(%1$s AS BLOB)"
                    + " WHEN 'integer' THEN CAST(CAST(%1$s AS TEXT) AS BLOB) ELSE %1$s END", c);
            default -> c;
        };
    }

    /**
     * A SQLite result value; a TEXT whose bytes are not UTF-8 as those bytes, as ferry carries it (docs/operations.md):
     * the driver would replace them with U+FFFD.
     */
    private static Object sqliteObject(ResultSet rs, int column) throws SQLException {
        Object value = rs.getObject(column);
        if (value instanceof String s && s.indexOf('\uFFFD') >= 0) {
            byte[] raw = rs.getBytes(column);
            try {
                StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(raw));
            } catch (CharacterCodingException notUtf8) {
                return raw;
            }
        }
        return value;
    }

    /** What SQL cannot do of the reduction of a SQLite value: a REAL in a text or bytea column is Java's text of it. */
    private static Object sqliteValue(Object value, String pgType) {
        if (value instanceof Double d && "text".equals(pgType)) {
            return Double.toString(d);
        }
        if (value instanceof Double d && "bytea".equals(pgType)) {
            return Double.toString(d).getBytes(StandardCharsets.UTF_8);
        }
        return value;
    }

    private static String instant(String c, String format) {
        return String.format("CASE WHEN " + MILLIS + " THEN strftime(%2$s, %1$s / 1000.0, 'unixepoch')"
                + " WHEN " + NUMBER + " THEN strftime(%2$s, %1$s, 'auto') ELSE strftime(%2$s, %1$s) END", c, format);
    }

    /** A PostgreSQL column in the same canonical text; times rounded to the millisecond as SQLite rounds them. */
    private static String postgresSide(String c, String pgType) {
        if (pgType == null) {
            return c;
        }
        return switch (pgType) {
            case "boolean" -> c + "::int";
            case "timestamp with time zone" -> astronomical(String.format(
                    "date_trunc('milliseconds', (%s AT TIME ZONE 'UTC') + interval '500 microseconds')", c), "-MM-DD HH24:MI:SS.MS");
            case "date" -> astronomical(c, "-MM-DD");
            case "time without time zone" -> String.format(
                    "to_char(date_trunc('milliseconds', '2000-01-01'::date + %s + interval '500 microseconds'), 'HH24:MI:SS.MS')", c);
            case "jsonb" -> c + "::text";
            case "uuid" -> String.format("replace(%s::text, '-', '')", c);
            default -> c;
        };
    }

    /**
     * A PostgreSQL date or timestamp as SQLite's strftime writes it: the year astronomically, as SQLite counts it (1 BC is
     * year 0, 2 BC is -1) and formatted as C's {@code %04d} ({@code 0000}, {@code -001}, {@code -4713}), then {@code rest}.
     */
    private static String astronomical(String value, String rest) {
        String year = "(extract(year from " + value + ")::int + 1)";
        return "CASE WHEN " + value + " < '0001-01-01'::date THEN (CASE WHEN " + year + " = 0 THEN '0000' WHEN " + year + " > -1000 THEN '-'"
                + " || lpad((-" + year + ")::text, 3, '0') ELSE " + year + "::text END) || to_char(" + value + ", '" + rest + "')"
                + " ELSE to_char(" + value + ", 'YYYY" + rest + "') END";
    }

    /** SQLite's JSON values through PostgreSQL's jsonb parser, so that spacing and key order compare equal; non-JSON stays as is. */
    private static Map<String, List<String>> normalizeJson(Connection pg, Map<String, List<String>> rows, List<Integer> positions)
            throws SQLException {
        Map<String, List<String>> out = new TreeMap<>();
        pg.setAutoCommit(false);
        try (PreparedStatement ps = pg.prepareStatement("SELECT ?::jsonb::text")) {
            for (var e : rows.entrySet()) {
                List<String> row = new ArrayList<>(e.getValue());
                for (int p : positions) {
                    if (row.get(p) == null) {
                        continue;
                    }
                    ps.setString(1, row.get(p));
                    Savepoint sp = pg.setSavepoint();
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        row.set(p, rs.getString(1));
                    } catch (SQLException notJson) {
                        pg.rollback(sp);
                    }
                }
                out.put(e.getKey(), row);
            }
            pg.rollback();
        }
        return out;
    }

    /** Rows by key; {@code sourceTypes}: for a SQLite row, the PostgreSQL type of each position (see sqliteValue), else null. */
    private static Map<String, List<String>> read(Connection c, String sql, List<Integer> keyPositions, List<String> sourceTypes)
            throws SQLException {
        Map<String, List<String>> rows = new TreeMap<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>(n);
                for (int i = 1; i <= n; i++) {
                    row.add(canonical(sourceTypes == null ? rs.getObject(i) : sqliteValue(sqliteObject(rs, i), sourceTypes.get(i - 1))));
                }
                List<String> key = new ArrayList<>();
                keyPositions.forEach(p -> key.add(row.get(p)));
                if (rows.put(key.toString(), row) != null) {
                    throw new IllegalStateException("duplicate key " + key + " in " + sql);
                }
            }
        }
        return rows;
    }

    static String canonical(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof byte[] bytes) {
            return "x'" + HexFormat.of().formatHex(bytes) + "'";
        }
        if (value instanceof Double d) {
            if (d.isNaN() || d.isInfinite()) {
                return d.toString();
            }
            return plain(BigDecimal.valueOf(d));
        }
        if (value instanceof Float f) {
            return canonical(f.doubleValue());
        }
        if (value instanceof BigDecimal b) {
            return plain(b);
        }
        if (value instanceof Number n) {
            return Long.toString(n.longValue());
        }
        return value.toString();
    }

    private static String plain(BigDecimal b) {
        return b.signum() == 0 ? "0" : b.stripTrailingZeros().toPlainString();
    }

    private static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    /**
     * ferry's documented rule for names PostgreSQL cannot hold (over 63 bytes, empty, a system column's name): prefix of
     * at most 54 bytes, '_', CRC-32 of the name in hex.
     */
    public static String pgName(String name) {
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= 63 && !name.isEmpty() && !List.of("tableoid", "xmin", "cmin", "xmax", "cmax", "ctid").contains(name)) {
            return name;
        }
        StringBuilder prefix = new StringBuilder();
        int bytes = 0;
        for (int cp : name.codePoints().toArray()) {
            int size = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes + size > 54) {
                break;
            }
            prefix.appendCodePoint(cp);
            bytes += size;
        }
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(utf8);
        return prefix + "_" + String.format("%08x", crc.getValue());
    }
}
