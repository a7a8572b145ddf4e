package dev.ferry.ingest.sqlite;

import dev.ferry.schemas.avro.ForeignKey;
import dev.ferry.schemas.avro.Index;
import dev.ferry.schemas.avro.IndexColumn;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Reads the user tables of a SQLite database: columns, keys, indexes, foreign keys and CHECK constraints. The
 * PRAGMAs give most of it; collations, CHECK expressions and index expressions come from the CREATE text.
 */
public final class SchemaReader {

    private SchemaReader() {
    }

    public static long schemaVersion(Connection connection) throws SQLException {
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery("PRAGMA schema_version")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Ordinary tables of the main schema, without SQLite's and ferry's own, filtered by {@code include}. */
    public static List<TableInfo> readTables(Connection connection, Pattern include) throws SQLException {
        long version = schemaVersion(connection);
        List<String> names = new ArrayList<>();
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' ORDER BY name")) {
            while (rs.next()) {
                String name = rs.getString(1);
                if (!name.startsWith("sqlite_") && !name.startsWith(ChangeCapture.PREFIX)
                        && (include == null || include.matcher(name).matches())) {
                    names.add(name);
                }
            }
        }
        List<TableInfo> tables = new ArrayList<>();
        for (String name : names) {
            tables.add(readTable(connection, name, version));
        }
        return tables;
    }

    /**
     * A virtual table or a view, which ferry does not copy.
     *
     * @param module     the virtual table's module ({@code fts5}, {@code rtree}, ...), null for a view or when unknown
     * @param ownsContent a full-text table that stores its rows' text itself (no {@code content=} option): the text is in
     *                    no other table, so it does not reach PostgreSQL at all
     */
    public record NotCopied(String name, boolean view, String module, boolean ownsContent) {

        /** What PostgreSQL offers instead, for the report. */
        public String hint() {
            if (view) {
                return "recreate it from its CREATE VIEW, in PostgreSQL's SQL";
            }
            String m = module == null ? "" : module.toLowerCase(java.util.Locale.ROOT);
            if (m.startsWith("fts")) {
                return (ownsContent ? "its text is stored in it and in no other table, so it is NOT migrated: copy it into an ordinary"
                        + " table first if it must move; " : "") + "full-text search in PostgreSQL is a tsvector column (or expression)"
                        + " with a GIN index";
            }
            if (m.startsWith("rtree") || m.startsWith("geopoly")) {
                return "a GiST index (or PostGIS) does this in PostgreSQL";
            }
            return "its module has no PostgreSQL counterpart ferry knows of";
        }

        @Override
        public String toString() {
            return SqlIdentifiers.quote(name) + " (" + (view ? "view" : "virtual table" + (module == null ? "" : " USING " + module)) + ")";
        }
    }

    /**
     * The virtual tables (FTS5, R*Tree, ...) and views of the main schema, which ferry does not copy, filtered by
     * {@code include} like the tables. A virtual table's shadow tables (its storage) are left out of both lists: they
     * are internal to it.
     */
    public static List<NotCopied> notCopied(Connection connection, Pattern include) throws SQLException {
        List<NotCopied> objects = new ArrayList<>();
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery("SELECT l.name, l.type, s.sql FROM pragma_table_list l LEFT JOIN sqlite_schema s ON s.name = l.name"
                     + " WHERE l.schema = 'main' AND l.type IN ('virtual', 'view') ORDER BY l.name")) {
            while (rs.next()) {
                String name = rs.getString(1);
                if (name.startsWith("sqlite_") || name.startsWith(ChangeCapture.PREFIX) || (include != null && !include.matcher(name).matches())) {
                    continue;
                }
                boolean view = "view".equals(rs.getString(2));
                String sql = rs.getString(3) == null ? "" : rs.getString(3);
                java.util.regex.Matcher module = VIRTUAL_MODULE.matcher(sql);
                String moduleName = !view && module.find() ? module.group(1) : null;
                boolean ownsContent = moduleName != null && moduleName.toLowerCase(java.util.Locale.ROOT).startsWith("fts")
                        && !CONTENT_OPTION.matcher(sql).find();
                objects.add(new NotCopied(name, view, moduleName, ownsContent));
            }
        }
        return objects;
    }

    private static final Pattern VIRTUAL_MODULE = Pattern.compile("(?i)\\bUSING\\s+([A-Za-z0-9_]+)");
    /** The {@code content=} option of an FTS3/4/5 table: its text lives in another table (or nowhere, when empty). */
    private static final Pattern CONTENT_OPTION = Pattern.compile("(?i)\\bcontent\\s*=");

    static TableInfo readTable(Connection connection, String name, long version) throws SQLException {
        CreateStatementText.TableText text = CreateStatementText.table(createSql(connection, "table", name));
        List<TableInfo.ColumnInfo> columns = new ArrayList<>();
        // table_xinfo, not table_info: generated columns too (hidden 2: VIRTUAL, 3: STORED). Their values are read like
        // any other column's and travel as SQLite computed them (hidden 1 is a virtual table's own hidden column).
        try (var ps = connection.prepareStatement(
                "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?) WHERE hidden IN (0, 2, 3) ORDER BY cid")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String generated = switch (rs.getInt(6)) {
                        case 2 -> TableInfo.ColumnInfo.VIRTUAL;
                        case 3 -> TableInfo.ColumnInfo.STORED;
                        default -> null;
                    };
                    columns.add(new TableInfo.ColumnInfo(rs.getString(1), rs.getString(2) == null ? "" : rs.getString(2),
                            rs.getInt(3) != 0, rs.getString(4), rs.getInt(5), text.collationOf(rs.getString(1)), generated));
                }
            }
        }
        boolean withoutRowid;
        try (var ps = connection.prepareStatement("SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                withoutRowid = rs.next() && rs.getInt(1) != 0;
            }
        }
        boolean hasPk = columns.stream().anyMatch(c -> c.pkPosition() > 0);
        List<Index> indexes = indexes(connection, name);
        // The declared key is the rowid itself (never NULL) exactly when SQLite made no index for it: INTEGER PRIMARY KEY,
        // but not INTEGER PRIMARY KEY DESC as a column constraint, nor INT PRIMARY KEY (SQLite's documented quirks).
        boolean keyIsRowid = hasPk && !withoutRowid && indexes.stream().noneMatch(i -> "pk".equals(i.getOrigin()));
        boolean nullKeys = hasPk && !withoutRowid && !keyIsRowid && hasNullKeys(connection, name, columns);
        String rowidAlias = null;
        if (!hasPk || nullKeys) {
            Set<String> taken = new java.util.HashSet<>();
            columns.forEach(c -> taken.add(dev.ferry.schemas.SqliteTokens.foldName(c.name())));
            rowidAlias = List.of("rowid", "_rowid_", "oid").stream().filter(a -> !taken.contains(a)).findFirst()
                    .orElseThrow(() -> new SQLException("table \"" + name + "\" has no primary key and its columns hide every "
                            + "name of the rowid (rowid, _rowid_, oid): ferry cannot key its rows; give it a primary key, rename one of"
                            + " those columns, or leave the table out with --tables"));
        }
        return new TableInfo(name, List.copyOf(columns), withoutRowid, rowidAlias, version, indexes,
                foreignKeys(connection, name), List.copyOf(text.checks()));
    }

    private static String createSql(Connection connection, String type, String name) throws SQLException {
        try (var ps = connection.prepareStatement("SELECT sql FROM sqlite_schema WHERE type = ? AND name = ?")) {
            ps.setString(1, type);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** The table's indexes by name, with their key columns in order; an expression column carries its text. */
    static List<Index> indexes(Connection connection, String table) throws SQLException {
        List<Index> indexes = new ArrayList<>();
        try (var ps = connection.prepareStatement("SELECT name, \"unique\", origin, partial FROM pragma_index_list(?) ORDER BY name")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    indexes.add(Index.newBuilder().setName(rs.getString(1)).setUnique(rs.getInt(2) != 0).setOrigin(rs.getString(3))
                            .setPartial(rs.getInt(4) != 0).setColumns(List.of()).build());
                }
            }
        }
        for (Index index : indexes) {
            CreateStatementText.IndexText text = CreateStatementText.index(createSql(connection, "index", index.getName()));
            List<IndexColumn> columns = new ArrayList<>();
            try (var ps = connection.prepareStatement(
                    "SELECT seqno, cid, name, \"desc\", coll FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno")) {
                ps.setString(1, index.getName());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        int seqno = rs.getInt(1);
                        int cid = rs.getInt(2);
                        IndexColumn.Builder column = IndexColumn.newBuilder().setDesc(rs.getInt(4) != 0).setCollation(rs.getString(5));
                        if (cid == -2) {
                            column.setExpression(seqno < text.items().size() ? text.items().get(seqno) : null);
                        } else {
                            column.setName(cid == -1 ? "rowid" : rs.getString(3));
                        }
                        columns.add(column.build());
                    }
                }
            }
            index.setColumns(columns);
            index.setWhere(index.getPartial() ? text.where() : null);
        }
        return indexes;
    }

    /** Foreign keys in declaration order; referenced columns default to the parent's primary key, as SQLite reads them. */
    static List<ForeignKey> foreignKeys(Connection connection, String table) throws SQLException {
        Map<Integer, ForeignKey> byId = new TreeMap<>();
        try (var ps = connection.prepareStatement(
                "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ForeignKey fk = byId.computeIfAbsent(rs.getInt(1), id -> ForeignKey.newBuilder().setRefTable("").setColumns(new ArrayList<>())
                            .setRefColumns(new ArrayList<>()).build());
                    fk.setRefTable(rsString(rs, 2));
                    fk.setOnUpdate(rsString(rs, 5));
                    fk.setOnDelete(rsString(rs, 6));
                    fk.getColumns().add(rs.getString(3));
                    if (rs.getString(4) != null) {
                        fk.getRefColumns().add(rs.getString(4));
                    }
                }
            }
        }
        for (ForeignKey fk : byId.values()) {
            if (fk.getRefColumns().isEmpty()) {
                try (var ps = connection.prepareStatement("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk")) {
                    ps.setString(1, fk.getRefTable().toString());
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            fk.getRefColumns().add(rs.getString(1));
                        }
                    }
                }
            }
        }
        return List.copyOf(byId.values());
    }

    private static String rsString(ResultSet rs, int column) throws SQLException {
        String s = rs.getString(column);
        return s == null ? "" : s;
    }

    /**
     * True when a row's declared primary key holds NULL. SQLite lets that happen in a rowid table whose key is not the
     * rowid itself (the caller has ruled that out), in its columns without NOT NULL; such rows cannot be told apart by
     * their key.
     */
    private static boolean hasNullKeys(Connection connection, String table, List<TableInfo.ColumnInfo> columns) throws SQLException {
        List<TableInfo.ColumnInfo> nullable = columns.stream().filter(c -> c.pkPosition() > 0 && !c.notNull()).toList();
        if (nullable.isEmpty()) {
            return false;
        }
        String condition = String.join(" OR ", nullable.stream().map(c -> SqlIdentifiers.quote(c.name()) + " IS NULL").toList());
        try (var st = connection.createStatement();
             ResultSet rs = st.executeQuery("SELECT 1 FROM " + SqlIdentifiers.quote(table) + " WHERE " + condition + " LIMIT 1")) {
            return rs.next();
        }
    }
}
