package dev.ferry.ingest.sqlite;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
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
        if (value instanceof String text && text.indexOf('\uFFFD') >= 0) {
            return textOrRawBytes(rs, column, text);
        }
        return value;
    }

    /**
     * The driver decodes TEXT leniently, turning invalid UTF-8 into U+FFFD. When the replacement character
     * is not in the stored bytes themselves, the value travels as its raw bytes instead: nothing is lost,
     * and the writer refuses it for a text column with the reason.
     */
    private static Object textOrRawBytes(ResultSet rs, int column, String text) throws SQLException {
        byte[] raw = rs.getBytes(column);
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw));
            return text;
        } catch (CharacterCodingException e) {
            return ByteBuffer.wrap(raw);
        }
    }

    static Map<String, Object> image(ResultSet rs, TableInfo table) throws SQLException {
        Map<String, Object> image = new LinkedHashMap<>();
        int column = 1;
        if (table.keyedByRowid()) {
            image.put(table.rowidColumn(), value(rs, column++));
        }
        for (TableInfo.ColumnInfo c : table.columns()) {
            image.put(c.name(), value(rs, column++));
        }
        return image;
    }
}
