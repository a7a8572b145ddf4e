package dev.ferry.testkit;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Compares a SQLite table with its PostgreSQL copy row by row. Written independently of the writer's
 * conversion code, so that it checks it: both sides are reduced to canonical text (integers and decimals
 * as plain numbers, BLOB/bytea as hex, text as is) and matched by key.
 */
public final class TableComparison {

    private static final String ROWID = "_ferry_rowid";

    /** The differences found; empty when the tables hold the same rows. */
    public record Result(String table, long sourceRows, long targetRows, List<String> differences) {
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
        List<String> columns = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        Map<String, List<String>> source;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + sqlite.toAbsolutePath())) {
            try (var ps = c.prepareStatement("SELECT name, pk FROM pragma_table_info(?) ORDER BY cid")) {
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
            String select = "SELECT " + String.join(", ", columns.stream().map(TableComparison::quote).toList());
            if (keys.isEmpty()) {
                // The rowid under a name no column hides, as SQLite resolves rowid, _rowid_ and oid.
                String alias = List.of("rowid", "_rowid_", "oid").stream()
                        .filter(a -> columns.stream().noneMatch(col -> col.equalsIgnoreCase(a))).findFirst().orElseThrow();
                select = "SELECT " + alias + ", " + select.substring("SELECT ".length());
            }
            source = read(c, select + " FROM " + quote(table), keys.isEmpty() ? List.of(0) : keyPositions(columns, keys, 0));
        }
        Map<String, List<String>> target;
        try (Connection c = DriverManager.getConnection(pgJdbcUrl)) {
            String select = "SELECT " + (keys.isEmpty() ? quote(ROWID) + ", " : "")
                    + String.join(", ", columns.stream().map(TableComparison::quote).toList());
            target = read(c, select + " FROM " + quote(pgSchema) + "." + quote(table),
                    keys.isEmpty() ? List.of(0) : keyPositions(columns, keys, 0));
        }
        List<String> differences = new ArrayList<>();
        List<String> header = new ArrayList<>(columns);
        if (keys.isEmpty()) {
            header.add(0, ROWID);
        }
        for (var e : source.entrySet()) {
            List<String> other = target.get(e.getKey());
            if (other == null) {
                differences.add("missing in PostgreSQL: key " + e.getKey() + " row " + e.getValue());
            } else if (!other.equals(e.getValue())) {
                for (int i = 0; i < header.size(); i++) {
                    if (!Objects.equals(e.getValue().get(i), other.get(i))) {
                        differences.add("key " + e.getKey() + " column \"" + header.get(i) + "\": SQLite " + e.getValue().get(i)
                                + " vs PostgreSQL " + other.get(i));
                    }
                }
            }
        }
        for (var e : target.entrySet()) {
            if (!source.containsKey(e.getKey())) {
                differences.add("extra in PostgreSQL: key " + e.getKey() + " row " + e.getValue());
            }
        }
        return new Result(table, source.size(), target.size(), differences);
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

    private static List<Integer> keyPositions(List<String> columns, List<String> keys, int offset) {
        return keys.stream().map(k -> columns.indexOf(k) + offset).toList();
    }

    private static Map<String, List<String>> read(Connection c, String sql, List<Integer> keyPositions) throws SQLException {
        Map<String, List<String>> rows = new TreeMap<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>(n);
                for (int i = 1; i <= n; i++) {
                    row.add(canonical(rs.getObject(i)));
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
}
