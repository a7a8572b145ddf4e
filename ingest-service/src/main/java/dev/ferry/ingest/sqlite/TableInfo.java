package dev.ferry.ingest.sqlite;

import java.util.List;

/**
 * The shape of one SQLite table as ferry captures it.
 *
 * @param rowidAlias when the table has no primary key, the name under which its rowid can be selected
 *                   ({@code rowid}, {@code _rowid_} or {@code oid}, whichever no column hides); null otherwise
 */
public record TableInfo(String name, List<ColumnInfo> columns, boolean withoutRowid, String rowidAlias, long schemaVersion) {

    /** Column name under which a rowid key travels in events and lands in PostgreSQL. */
    public static final String ROWID_COLUMN = "_ferry_rowid";

    public record ColumnInfo(String name, String declaredType, boolean notNull, String defaultValue, int pkPosition) {
    }

    /** A short digest of the table's shape (columns, key, rowid use): equal digests, same shape. */
    public String shapeDigest() {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update((columns + "|" + withoutRowid + "|" + rowidAlias).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return Long.toHexString(crc.getValue());
    }

    public boolean keyedByRowid() {
        return rowidAlias != null;
    }

    /** Key column names in key order; {@link #ROWID_COLUMN} for a table keyed by rowid. */
    public List<String> keyColumns() {
        if (keyedByRowid()) {
            return List.of(ROWID_COLUMN);
        }
        return columns.stream().filter(c -> c.pkPosition() > 0)
                .sorted(java.util.Comparator.comparingInt(ColumnInfo::pkPosition))
                .map(ColumnInfo::name).toList();
    }

    /** SQL expressions that select the key, in key order. */
    List<String> keyExpressions(String rowPrefix) {
        if (keyedByRowid()) {
            return List.of(rowPrefix + rowidAlias);
        }
        return keyColumns().stream().map(c -> rowPrefix + SqlIdentifiers.quote(c)).toList();
    }

    /** The select list of a row image: the rowid first when it is the key, then every column. */
    String selectList() {
        StringBuilder sql = new StringBuilder();
        if (keyedByRowid()) {
            sql.append(rowidAlias).append(" AS ").append(SqlIdentifiers.quote(ROWID_COLUMN)).append(", ");
        }
        for (int i = 0; i < columns.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append(SqlIdentifiers.quote(columns.get(i).name()));
        }
        return sql.toString();
    }

    String orderByKey() {
        return String.join(", ", keyExpressions(""));
    }
}
