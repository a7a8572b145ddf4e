package dev.ferry.ingest.sqlite;

import java.nio.ByteBuffer;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Turns a SQLite result row into a row image of storage-class values: Long, Double, String, ByteBuffer or null. */
final class RowReader {

    private RowReader() {
    }

    /** sqlite-jdbc's getObject follows the value's own storage class (sqlite3_column_type), not the declared type. */
    static Object value(ResultSet rs, int column) throws SQLException {
        Object value = rs.getObject(column);
        if (value instanceof Integer i) {
            return i.longValue();
        }
        if (value instanceof byte[] bytes) {
            return ByteBuffer.wrap(bytes);
        }
        return value;
    }

    static Map<String, Object> image(ResultSet rs, TableInfo table) throws SQLException {
        Map<String, Object> image = new LinkedHashMap<>();
        int column = 1;
        if (table.keyedByRowid()) {
            image.put(TableInfo.ROWID_COLUMN, value(rs, column++));
        }
        for (TableInfo.ColumnInfo c : table.columns()) {
            image.put(c.name(), value(rs, column++));
        }
        return image;
    }
}
