package dev.ferry.ingest.sqlite;

import dev.ferry.schemas.EventCodec;
import dev.ferry.schemas.RowidColumn;
import dev.ferry.schemas.avro.Column;
import dev.ferry.schemas.avro.ForeignKey;
import dev.ferry.schemas.avro.Index;
import dev.ferry.schemas.avro.TableSchema;
import java.util.List;

/**
 * The shape of one SQLite table as ferry captures it.
 *
 * @param rowidAlias when the table has no primary key, the name under which its rowid can be selected
 *                   ({@code rowid}, {@code _rowid_} or {@code oid}, whichever no column hides); null otherwise
 * @param checks     CHECK expressions of the CREATE TABLE text, as written
 */
public record TableInfo(String name, List<ColumnInfo> columns, boolean withoutRowid, String rowidAlias, long schemaVersion,
                        List<Index> indexes, List<ForeignKey> foreignKeys, List<String> checks) {

    /** Column name under which a rowid key travels in events and lands in PostgreSQL, unless the table has a column of that name. */
    public static final String ROWID_COLUMN = RowidColumn.NAME;

    /**
     * @param collation the COLLATE of the column in CREATE TABLE, null when none
     * @param generated {@link #STORED} or {@link #VIRTUAL} for a generated column, null for an ordinary one
     */
    public record ColumnInfo(String name, String declaredType, boolean notNull, String defaultValue, int pkPosition, String collation,
                             String generated) {

        public static final String STORED = "STORED";
        public static final String VIRTUAL = "VIRTUAL";

        /** The fields the shape digest has always covered, in the text it has always used. */
        String shapeText() {
            return "ColumnInfo[name=" + name + ", declaredType=" + declaredType + ", notNull=" + notNull + ", defaultValue="
                    + defaultValue + ", pkPosition=" + pkPosition + "]";
        }
    }

    /**
     * A short digest of the table's shape (columns, key, rowid use): equal digests, same shape. Indexes, constraints
     * and collations are left out: they need no new read of the rows, and stored offsets keep their digests.
     */
    public String shapeDigest() {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        String columnsText = "[" + String.join(", ", columns.stream().map(ColumnInfo::shapeText).toList()) + "]";
        crc.update((columnsText + "|" + withoutRowid + "|" + rowidAlias).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return Long.toHexString(crc.getValue());
    }

    /**
     * The table's schema event (docs/events.md). {@code snapshotDone}: every row the table had when it was read
     * precedes this event on the topic, so the writer may build indexes and constraints.
     */
    public TableSchema schemaEvent(String source, boolean snapshotDone) {
        // ferry schema builds events without encoding any: the builders need Avro to trust the classes first.
        EventCodec.trustEventClasses();
        List<Column> schemaColumns = columns.stream().map(c -> Column.newBuilder().setName(c.name()).setDeclaredType(c.declaredType())
                .setNotNull(c.notNull()).setDefaultValue(c.defaultValue()).setPkPosition(c.pkPosition()).setCollation(c.collation())
                .setGenerated(c.generated()).build()).toList();
        return TableSchema.newBuilder().setSource(source).setTable(name).setSchemaVersion(schemaVersion)
                .setRowidKey(keyedByRowid()).setWithoutRowid(withoutRowid).setColumns(schemaColumns)
                .setTsMs(System.currentTimeMillis()).setIndexes(indexes).setForeignKeys(foreignKeys).setChecks(checks)
                .setSnapshotDone(snapshotDone).build();
    }

    public boolean keyedByRowid() {
        return rowidAlias != null;
    }

    /** Why the table is keyed by rowid, for a warning; null when it is keyed by its primary key. */
    public String rowidKeyReason() {
        if (!keyedByRowid()) {
            return null;
        }
        return columns.stream().anyMatch(c -> c.pkPosition() > 0)
                ? "table \"" + name + "\" has rows whose primary key is NULL (SQLite allows it in a key that is not the rowid itself,"
                        + " unless the table is WITHOUT ROWID): rows are keyed by rowid, which VACUUM may renumber"
                : "table \"" + name + "\" has no primary key: rows are keyed by rowid, which VACUUM may renumber";
    }

    /** The column of the rowid key: {@link #ROWID_COLUMN} unless the table has one of that name (see {@link RowidColumn}). */
    public String rowidColumn() {
        return RowidColumn.of(columns, ColumnInfo::name);
    }

    /** Key column names in key order; {@link #rowidColumn()} for a table keyed by rowid. */
    public List<String> keyColumns() {
        if (keyedByRowid()) {
            return List.of(rowidColumn());
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

    /**
     * {@code WHERE} condition that finds the row of {@code key}, exactly: {@code IS ?n} per key column, {@code IS CAST(?n AS
     * TEXT)} for a {@link KeyLiteral.InvalidText}, whose bytes are bound as text; bind with {@link #keyParameter}, the
     * n-th key value as parameter n. A key column of another collation than BINARY is also compared with {@code COLLATE
     * BINARY}: under NOCASE, {@code 'abc'} finds the row now keyed {@code 'ABC'}, and a change of case only would look like
     * no change (the row under its old key would stay in PostgreSQL). NOCASE and RTRIM keep their own comparison too, so
     * that SQLite's index of the key finds the row; the application's own collations, of which ferry has only a stand-in
     * ({@link SqliteFile}), are compared with {@code COLLATE BINARY} alone, by a scan.
     */
    String keyCondition(List<Object> key) {
        List<String> keyExprs = keyExpressions("");
        List<String> keyNames = keyColumns();
        StringBuilder sql = new StringBuilder();
        for (int i = 0; i < keyExprs.size(); i++) {
            String name = keyNames.get(i);
            ColumnInfo column = columns.stream().filter(c -> c.name().equals(name)).findFirst().orElse(null);
            String collation = column == null ? null : column.collation();
            String value = key.get(i) instanceof KeyLiteral.InvalidText ? "CAST(?" + (i + 1) + " AS TEXT)" : "?" + (i + 1);
            String exact = keyExprs.get(i) + " IS " + value + " COLLATE BINARY";
            sql.append(i == 0 ? "" : " AND ");
            if (collation == null || collation.equalsIgnoreCase("BINARY")) {
                sql.append(keyExprs.get(i)).append(" IS ").append(value);
            } else if (SqliteFile.builtInCollation(collation)) {
                sql.append(keyExprs.get(i)).append(" IS ").append(value).append(" AND ").append(exact);
            } else {
                sql.append(exact);
            }
        }
        return sql.toString();
    }

    /** The parameter of a key value in {@link #keyCondition}: bytes for invalid text and for a BLOB, the value otherwise. */
    static Object keyParameter(Object value) {
        return value instanceof KeyLiteral.InvalidText t ? t.bytes() : value instanceof java.nio.ByteBuffer b ? KeyLiteral.bytes(b) : value;
    }

    /** The select list of a row image: the rowid first when it is the key, then every column. */
    String selectList() {
        StringBuilder sql = new StringBuilder();
        if (keyedByRowid()) {
            sql.append(rowidAlias).append(" AS ").append(SqlIdentifiers.quote(rowidColumn())).append(", ");
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
