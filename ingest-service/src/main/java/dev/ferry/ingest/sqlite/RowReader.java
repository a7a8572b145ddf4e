package dev.ferry.ingest.sqlite;

import dev.ferry.schemas.RowImage;
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

    /**
     * The row's image, in column order. A table of up to {@link RowImage#MAX_SCANNED_COLUMNS} columns gets a {@link RowImage} (two
     * arrays: no hashing, no node per column), a wider one a hash map, where finding a key column by name stays cheap.
     */
    static Map<String, Object> image(ResultSet rs, TableInfo table) throws SQLException {
        int width = table.columns().size() + (table.keyedByRowid() ? 1 : 0);
        Map<String, Object> image = width > RowImage.MAX_SCANNED_COLUMNS ? new LinkedHashMap<>(width * 4 / 3 + 1) : new RowImage(width);
        int column = 1;
        if (table.keyedByRowid()) {
            add(image, table.rowidColumn(), value(rs, column++));
        }
        for (TableInfo.ColumnInfo c : table.columns()) {
            add(image, c.name(), value(rs, column++));
        }
        return image;
    }

    /** A table's column names are distinct, and the rowid's name is none of them (TableInfo.rowidColumn): no look-up first. */
    private static void add(Map<String, Object> image, String name, Object value) {
        if (image instanceof RowImage row) {
            row.addDistinct(name, value);
        } else {
            image.put(name, value);
        }
    }
}
