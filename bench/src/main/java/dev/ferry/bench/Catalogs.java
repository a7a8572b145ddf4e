package dev.ferry.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/** The schema of a SQLite file and of a PostgreSQL schema, as far as the pgloader comparison needs them. */
final class Catalogs {

    private Catalogs() {
    }

    // ------------------------------------------------------------------------------------------------ SQLite

    record SqliteColumn(String name, String declared, boolean notNull, String dflt, int pk) {
    }

    record SqliteTable(String name, boolean withoutRowid, List<SqliteColumn> columns, List<String> pk, long rows,
                       List<String> indexes, List<String> foreignKeys) {

        SqliteColumn column(String n) {
            return columns.stream().filter(c -> c.name().equals(n)).findFirst().orElse(null);
        }
    }

    record SqliteSchema(List<SqliteTable> tables, List<String> views, List<String> triggers) {
        long rows() {
            return tables.stream().mapToLong(SqliteTable::rows).sum();
        }
    }

    private static final Pattern WITHOUT_ROWID = Pattern.compile("\\)\\s*WITHOUT\\s+ROWID\\s*;?\\s*$", Pattern.CASE_INSENSITIVE);

    static SqliteSchema readSqlite(Connection c) throws SQLException {
        List<SqliteTable> tables = new ArrayList<>();
        List<String> views = new ArrayList<>();
        List<String> triggers = new ArrayList<>();
        List<String[]> entries = new ArrayList<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT type, name, coalesce(sql, '') FROM sqlite_schema WHERE type IN ('table', 'view', 'trigger')"
                     + " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid")) {
            while (rs.next()) {
                entries.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3)});
            }
        }
        for (String[] e : entries) {
            switch (e[0]) {
                case "view" -> views.add(e[1]);
                case "trigger" -> triggers.add(e[1]);
                default -> {
                    if (e[2].toUpperCase(Locale.ROOT).startsWith("CREATE VIRTUAL")) {
                        views.add(e[1] + " (virtual table)");
                        continue;
                    }
                    tables.add(readTable(c, e[1], WITHOUT_ROWID.matcher(e[2]).find()));
                }
            }
        }
        return new SqliteSchema(tables, views, triggers);
    }

    private static SqliteTable readTable(Connection c, String name, boolean withoutRowid) throws SQLException {
        List<SqliteColumn> columns = new ArrayList<>();
        Map<Integer, String> pk = new java.util.TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(new SqliteColumn(rs.getString(1), rs.getString(2), rs.getInt(3) != 0, rs.getString(4), rs.getInt(5)));
                    if (rs.getInt(5) > 0) {
                        pk.put(rs.getInt(5), rs.getString(1));
                    }
                }
            }
        }
        List<String> indexes = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT name, \"unique\", origin, partial FROM pragma_index_list(?) ORDER BY seq")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String origin = switch (rs.getString(3)) {
                        case "pk" -> "primary key";
                        case "u" -> "UNIQUE constraint";
                        default -> "CREATE INDEX";
                    };
                    indexes.add(rs.getString(1) + " (" + (rs.getInt(2) != 0 ? "unique, " : "") + origin + (rs.getInt(4) != 0 ? ", partial" : "") + ")");
                }
            }
        }
        List<String> fks = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, group_concat(\"from\", ','), \"table\", group_concat(coalesce(\"to\", '?'), ',')"
                + " FROM pragma_foreign_key_list(?) GROUP BY id ORDER BY id")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    fks.add("(" + rs.getString(2) + ") → " + rs.getString(3) + "(" + rs.getString(4) + ")");
                }
            }
        }
        long rows;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + quote(name))) {
            rows = rs.next() ? rs.getLong(1) : -1;
        }
        return new SqliteTable(name, withoutRowid, columns, List.copyOf(pk.values()), rows, indexes, fks);
    }

    // ------------------------------------------------------------------------------------------------ PostgreSQL

    record PgColumn(String name, String type, String typeName, boolean notNull, String dflt, String identity) {
    }

    record PgTable(String name, List<PgColumn> columns, List<String> pk, List<String> indexes, List<String> foreignKeys,
                   List<String> uniques, List<String> checks, long rows) {

        PgColumn column(String n) {
            return columns.stream().filter(c -> c.name().equals(n)).findFirst().orElse(null);
        }

        List<String> columnNames() {
            return columns.stream().map(PgColumn::name).toList();
        }
    }

    record PgSchema(Map<String, PgTable> tables, List<String> views, List<String> otherSchemas, List<String> sequences) {
    }

    static PgSchema readPg(Connection c, String schema) throws SQLException {
        Map<String, PgTable> tables = new LinkedHashMap<>();
        List<String> names = new ArrayList<>();
        List<String> views = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT relname, relkind FROM pg_class WHERE relnamespace = ?::regnamespace"
                + " AND relkind IN ('r', 'p', 'v', 'm') ORDER BY relname")) {
            ps.setString(1, quote(schema));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getString(2).equals("v") || rs.getString(2).equals("m")) {
                        views.add(rs.getString(1) + (rs.getString(2).equals("m") ? " (materialized)" : ""));
                    } else {
                        names.add(rs.getString(1));
                    }
                }
            }
        }
        for (String name : names) {
            tables.put(name, readPgTable(c, schema, name));
        }
        List<String> others = new ArrayList<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT n.nspname, count(c.oid) FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid"
                     + " AND c.relkind = 'r' WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', " + literal(schema) + ")"
                     + " AND n.nspname NOT LIKE 'pg\\_temp%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp%' GROUP BY 1 ORDER BY 1")) {
            while (rs.next()) {
                others.add(rs.getString(1) + " (" + rs.getLong(2) + " tables)");
            }
        }
        List<String> sequences = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT relname FROM pg_class WHERE relnamespace = ?::regnamespace AND relkind = 'S' ORDER BY 1")) {
            ps.setString(1, quote(schema));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    sequences.add(rs.getString(1));
                }
            }
        }
        return new PgSchema(tables, views, others, sequences);
    }

    private static PgTable readPgTable(Connection c, String schema, String name) throws SQLException {
        String rel = quote(schema) + "." + quote(name);
        List<PgColumn> columns = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname, a.attnotnull,"
                + " pg_get_expr(d.adbin, d.adrelid), a.attidentity FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
                + " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                + " WHERE a.attrelid = ?::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum")) {
            ps.setString(1, rel);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String identity = rs.getString(6);
                    columns.add(new PgColumn(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBoolean(4), rs.getString(5),
                            identity == null || identity.isEmpty() ? null : identity.equals("a") ? "GENERATED ALWAYS AS IDENTITY" : "GENERATED BY DEFAULT AS IDENTITY"));
                }
            }
        }
        List<String> pk = new ArrayList<>();
        List<String> fks = new ArrayList<>();
        List<String> uniques = new ArrayList<>();
        List<String> checks = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT contype, conname, pg_get_constraintdef(oid), convalidated,"
                + " (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(conkey) WITH ORDINALITY k(attnum, ord)"
                + "   JOIN pg_attribute a ON a.attrelid = conrelid AND a.attnum = k.attnum)"
                + " FROM pg_constraint WHERE conrelid = ?::regclass ORDER BY contype, conname")) {
            ps.setString(1, rel);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String def = rs.getString(3) + (rs.getBoolean(4) ? "" : " (NOT VALID)");
                    switch (rs.getString(1)) {
                        case "p" -> {
                            java.sql.Array a = rs.getArray(5);
                            for (Object o : (Object[]) a.getArray()) {
                                pk.add((String) o);
                            }
                        }
                        case "f" -> fks.add(def);
                        case "u" -> uniques.add(def);
                        case "c" -> checks.add(def);
                        default -> { }
                    }
                }
            }
        }
        List<String> indexes = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = ?::regclass"
                + " AND NOT i.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype = 'u')"
                + " ORDER BY 1")) {
            ps.setString(1, rel);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String def = rs.getString(1);
                    int on = def.indexOf(" USING ");
                    indexes.add((def.startsWith("CREATE UNIQUE") ? "unique " : "") + (on > 0 ? def.substring(on + 7) : def));
                }
            }
        }
        long rows;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + rel)) {
            rows = rs.next() ? rs.getLong(1) : -1;
        }
        return new PgTable(name, columns, pk, indexes, fks, uniques, checks, rows);
    }

    // ------------------------------------------------------------------------------------------------ names

    /** How a SQLite name was found among the PostgreSQL names. */
    record NameMatch(String name, String how) {
        boolean same() {
            return how.equals("same");
        }
    }

    /**
     * Finds a SQLite name among PostgreSQL names: the same name, else the same ignoring case, else the same once both are
     * lower-cased and every character other than a letter or digit dropped (pgloader's renames), else the name cut at
     * PostgreSQL's 63 bytes.
     */
    static NameMatch match(String sqliteName, Collection<String> pgNames) {
        if (pgNames.contains(sqliteName)) {
            return new NameMatch(sqliteName, "same");
        }
        for (String n : pgNames) {
            if (n.equalsIgnoreCase(sqliteName)) {
                return new NameMatch(n, n.equals(sqliteName.toLowerCase(Locale.ROOT)) ? "lower-cased" : "case changed");
            }
        }
        String norm = normalize(sqliteName);
        for (String n : pgNames) {
            if (normalize(n).equals(norm)) {
                return new NameMatch(n, "renamed");
            }
        }
        String cut = truncate63(sqliteName);
        for (String n : pgNames) {
            if (n.equalsIgnoreCase(cut)) {
                return new NameMatch(n, "cut at 63 bytes");
            }
        }
        return null;
    }

    private static String normalize(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}]", "");
    }

    static String truncate63(String s) {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (b.length <= 63) {
            return s;
        }
        int n = 63;
        while (n > 0 && (b[n] & 0xC0) == 0x80) {
            n--;
        }
        return new String(b, 0, n, java.nio.charset.StandardCharsets.UTF_8);
    }

    static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }
}
