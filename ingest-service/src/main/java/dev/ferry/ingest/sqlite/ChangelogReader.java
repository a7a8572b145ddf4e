package dev.ferry.ingest.sqlite;

import java.nio.charset.Charset;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the changelog in order and, for each entry, the current image of its row. Reading the current
 * row (not a copy made by the trigger) keeps the trigger cheap; a missing row is a delete. Several
 * entries for one key in a batch collapse into the last one: they would all read the same image.
 */
public final class ChangelogReader implements AutoCloseable {

    /** A change as it will be emitted: {@code image} is null for a delete. */
    public record Change(long seq, long commitTsMs, TableInfo table, String op, List<Object> key, Map<String, Object> image) {
    }

    /** The changes of one read, and the last seq read: entries of tables not captured are passed over, not re-read forever. */
    public record Batch(List<Change> changes, long lastSeq) {
    }

    private final Connection connection;
    private final Charset encoding;
    private final Map<String, PreparedStatement> lookups = new HashMap<>();

    public ChangelogReader(Connection connection) throws SQLException {
        this.connection = connection;
        this.encoding = SqliteFile.textEncoding(connection);
    }

    /** Up to {@code max} changelog entries after {@code afterSeq}; entries of tables not in {@code tables} are skipped. */
    public Batch read(long afterSeq, int max, Map<String, TableInfo> tables) throws SQLException {
        record Entry(long seq, String table, String op, String key, long ts) {
        }
        Map<String, Entry> latest = new LinkedHashMap<>();
        long lastSeq = afterSeq;
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT seq, tbl, op, key, ts FROM " + ChangeCapture.CHANGELOG + " WHERE seq > ? ORDER BY seq LIMIT ?")) {
            ps.setLong(1, afterSeq);
            ps.setInt(2, max);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Entry e = new Entry(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getLong(5));
                    lastSeq = e.seq();
                    // Remove first so that the entry moves to its latest position in seq order.
                    String id = e.table() + '\u0000' + e.key();
                    latest.remove(id);
                    latest.put(id, e);
                }
            }
        }
        List<Change> changes = new ArrayList<>(latest.size());
        for (Entry e : latest.values()) {
            TableInfo table = tables.get(e.table());
            if (table == null) {
                continue;
            }
            List<Object> key = KeyLiteral.parse(e.key(), encoding);
            Map<String, Object> image = currentRow(table, key);
            String op = image == null ? "d" : ("d".equals(e.op()) ? "u" : e.op());
            changes.add(new Change(e.seq(), e.ts(), table, op, storageClassValues(key), image));
        }
        return new Batch(changes, lastSeq);
    }

    /** Drops cached statements, e.g. after a schema change. */
    public void forgetTables() throws SQLException {
        for (PreparedStatement ps : lookups.values()) {
            ps.close();
        }
        lookups.clear();
    }

    /** Key values as events carry them: text that is not valid in the encoding as its bytes, as RowReader sends it. */
    private static List<Object> storageClassValues(List<Object> key) {
        for (int i = 0; i < key.size(); i++) {
            if (key.get(i) instanceof KeyLiteral.InvalidText) {
                List<Object> values = new ArrayList<>(key.size());
                key.forEach(v -> values.add(v instanceof KeyLiteral.InvalidText t ? t.bytes() : v));
                return values;
            }
        }
        return key;
    }

    private Map<String, Object> currentRow(TableInfo table, List<Object> key) throws SQLException {
        String statement = table.name();
        for (Object value : key) {
            if (value instanceof KeyLiteral.InvalidText) {
                // Rare: a statement of its own, which binds such values as bytes read as text.
                statement = table.name() + '\u0000' + key.stream().map(v -> v instanceof KeyLiteral.InvalidText ? "T" : "-").toList();
                break;
            }
        }
        PreparedStatement ps = lookups.get(statement);
        if (ps == null) {
            ps = connection.prepareStatement("SELECT " + table.selectList() + " FROM " + SqlIdentifiers.quote(table.name())
                    + " WHERE " + table.keyCondition(key));
            lookups.put(statement, ps);
        }
        for (int i = 0; i < key.size(); i++) {
            ps.setObject(i + 1, TableInfo.keyParameter(key.get(i)));
        }
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? RowReader.image(rs, table) : null;
        }
    }

    @Override
    public void close() throws SQLException {
        forgetTables();
    }
}
