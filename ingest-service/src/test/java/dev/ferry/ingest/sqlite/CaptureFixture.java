package dev.ferry.ingest.sqlite;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** One table of each shape ferry must capture, and readers of what SQLite holds. */
final class CaptureFixture {

    static final String[] DDL = {
        // (a) rowid alias key
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL)",
        // (b) text key
        "CREATE TABLE users (email TEXT PRIMARY KEY, name TEXT)",
        // (c) composite key, declared in another order than the columns
        "CREATE TABLE order_lines (tenant TEXT NOT NULL, id INTEGER NOT NULL, qty INTEGER, PRIMARY KEY (id, tenant))",
        // (d) WITHOUT ROWID, keyed by a BLOB
        "CREATE TABLE kv (k BLOB PRIMARY KEY, v) WITHOUT ROWID",
        // (e) no primary key: keyed by rowid
        "CREATE TABLE log (line TEXT, at INTEGER)",
        // (f) a reserved word with a quoted, spaced column name as key
        "CREATE TABLE \"select\" (\"weird \"\"col\"\"\" INTEGER PRIMARY KEY, \"Other Col\" TEXT)",
    };

    private CaptureFixture() {
    }

    static Map<String, TableInfo> tablesByName(Connection c) throws SQLException {
        return SchemaReader.readTables(c, null).stream()
                .collect(Collectors.toMap(TableInfo::name, Function.identity(), (a, b) -> a, java.util.LinkedHashMap::new));
    }

    /** The changelog as (tbl, op, key) rows in seq order. */
    static List<List<String>> changelog(Connection c) throws SQLException {
        return changelogAfter(c, 0);
    }

    static List<List<String>> changelogAfter(Connection c, long seq) throws SQLException {
        List<List<String>> rows = new ArrayList<>();
        try (var ps = c.prepareStatement("SELECT tbl, op, key FROM _ferry_changelog WHERE seq > ? ORDER BY seq")) {
            ps.setLong(1, seq);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(List.of(rs.getString(1), rs.getString(2), rs.getString(3)));
                }
            }
        }
        return rows;
    }

    static List<String> queryStrings(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                StringBuilder row = new StringBuilder();
                for (int i = 1; i <= n; i++) {
                    Object v = rs.getObject(i);
                    row.append(i == 1 ? "" : " | ").append(v instanceof byte[] b ? "X'" + java.util.HexFormat.of().formatHex(b) + "'"
                            : v == null ? "NULL" : v.getClass().getSimpleName() + ":" + v);
                }
                out.add(row.toString());
            }
        }
        return out;
    }

    static ByteBuffer blob(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return ByteBuffer.wrap(b);
    }
}
