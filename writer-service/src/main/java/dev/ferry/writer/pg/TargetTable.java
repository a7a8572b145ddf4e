package dev.ferry.writer.pg;

import static dev.ferry.writer.pg.PgIdentifiers.quote;

import dev.ferry.schemas.RowidColumn;
import dev.ferry.schemas.avro.Column;
import dev.ferry.schemas.avro.EmbeddingColumn;
import dev.ferry.schemas.avro.TableSchema;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A PostgreSQL table that mirrors one SQLite table: its columns with their mapped types, its key, and the
 * SQL to create, fill and trim it. Built from the table's schema event.
 */
public final class TargetTable {

    /** Column name of the key of a table keyed by rowid, as the ingest side sends it, unless the table has a column of that name. */
    public static final String ROWID_COLUMN = RowidColumn.NAME;

    /**
     * One target column.
     *
     * @param ddlType the type as written in DDL: {@code type.sql()}, or {@code citext} for a COLLATE NOCASE text column
     * @param defaultSql the DEFAULT written in CREATE TABLE, or null
     */
    public record TargetColumn(String name, PgType type, boolean notNull, String ddlType, String defaultSql) {

        public TargetColumn(String name, PgType type, boolean notNull) {
            this(name, type, notNull, type.sql(), null);
        }
    }

    /** The PostgreSQL type of a text column that SQLite compares with COLLATE NOCASE, when the extension is there. */
    static final String CITEXT = "citext";

    private final String schema;
    private final String sourceTable;
    private final List<TargetColumn> columns;
    private final List<String> keyColumns;
    private final Map<String, Integer> indexByName = new HashMap<>();
    private final int[] keyIndexes;
    private final String identityColumn;

    private TargetTable(String schema, String sourceTable, List<TargetColumn> columns, List<String> keyColumns, String identityColumn) {
        this.schema = schema;
        this.sourceTable = sourceTable;
        this.columns = List.copyOf(columns);
        this.keyColumns = List.copyOf(keyColumns);
        this.identityColumn = identityColumn;
        for (int i = 0; i < columns.size(); i++) {
            indexByName.put(columns.get(i).name(), i);
        }
        this.keyIndexes = keyColumns.stream().mapToInt(indexByName::get).toArray();
    }

    /** The target of a SQLite table, its column types chosen by {@code types}, COLLATE NOCASE columns as text. */
    public static TargetTable of(String targetSchema, TableSchema source, TypeMapping types) {
        return of(targetSchema, source, types, false);
    }

    /**
     * The target of a SQLite table, its column types chosen by {@code types}; {@code citext}: COLLATE NOCASE text
     * columns become {@code citext} (the extension must exist). Defaults are translated by {@link ColumnDefaults}.
     */
    public static TargetTable of(String targetSchema, TableSchema source, TypeMapping types, boolean citext) {
        List<TargetColumn> columns = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        if (source.getRowidKey()) {
            String rowid = rowidColumn(source);
            columns.add(new TargetColumn(rowid, PgType.BIGINT, true));
            keys.add(rowid);
        }
        for (Column c : source.getColumns()) {
            PgType type = types.typeOf(source.getTable(), c.getName(), c.getDeclaredType());
            String ddlType = citext && type == PgType.TEXT && isNocase(c.getCollation()) ? CITEXT : type.sql();
            columns.add(new TargetColumn(c.getName(), type, c.getNotNull() || (!source.getRowidKey() && c.getPkPosition() > 0), ddlType,
                    ColumnDefaults.translate(c.getDefaultValue(), type, c.getName()).inline()));
        }
        for (EmbeddingColumn e : source.getEmbeddings()) {
            columns.add(new TargetColumn(e.getColumn(), PgType.VECTOR, false, vectorType(e.getDimensions()), null));
            columns.add(new TargetColumn(e.getModelColumn(), PgType.TEXT, false));
        }
        if (!source.getRowidKey()) {
            source.getColumns().stream().filter(c -> c.getPkPosition() > 0)
                    .sorted(Comparator.comparingInt(Column::getPkPosition)).forEach(c -> keys.add(c.getName()));
        }
        String identity = rowidAliasColumn(source);
        if (identity != null) {
            TargetColumn c = columns.get(columns.stream().map(TargetColumn::name).toList().indexOf(identity));
            // An override to another type, or a DEFAULT of its own (PostgreSQL refuses both with an identity): as declared.
            identity = c.type() == PgType.BIGINT && c.defaultSql() == null ? identity : null;
        }
        return new TargetTable(targetSchema, source.getTable(), columns, keys, identity);
    }

    /**
     * The column that is SQLite's rowid under its own name ({@code INTEGER PRIMARY KEY}, with or without
     * AUTOINCREMENT), or null: the one key column of a rowid table, declared exactly {@code INTEGER}. SQLite numbers
     * rows inserted without it, so the target gets an identity for the application's inserts after cutover.
     */
    public static String rowidAliasColumn(TableSchema source) {
        if (source.getRowidKey() || source.getWithoutRowid()) {
            return null;
        }
        List<Column> key = source.getColumns().stream().filter(c -> c.getPkPosition() > 0).toList();
        return key.size() == 1 && dev.ferry.schemas.SqliteTokens.sameName(key.get(0).getDeclaredType().trim(), "INTEGER") ? key.get(0).getName() : null;
    }

    /** The column of the rowid key of a table keyed by rowid (see {@link RowidColumn}). */
    public static String rowidColumn(TableSchema source) {
        return RowidColumn.of(source.getColumns(), Column::getName);
    }

    /** The same table with no column DEFAULT. */
    public TargetTable withoutDefaults() {
        return new TargetTable(schema, sourceTable, columns.stream()
                .map(c -> new TargetColumn(c.name(), c.type(), c.notNull(), c.ddlType(), null)).toList(), keyColumns, identityColumn);
    }

    /**
     * The column created {@code GENERATED BY DEFAULT AS IDENTITY} (SQLite's rowid alias), or null. It takes ferry's
     * explicit values while replicating; {@code ferry cutover} moves its sequence past the highest id.
     */
    public String identityColumn() {
        return identityColumn;
    }

    /** DDL type of a vector column: always {@code vector(n)}, never {@code halfvec}, with the model's dimension. */
    public static String vectorType(int dimensions) {
        return "vector(" + dimensions + ")";
    }

    static boolean isNocase(String collation) {
        return collation != null && dev.ferry.schemas.SqliteTokens.sameName(collation, "NOCASE");
    }

    public String schema() {
        return schema;
    }

    public String sourceTable() {
        return sourceTable;
    }

    public String qualifiedName() {
        return PgIdentifiers.qualified(schema, sourceTable);
    }

    public List<TargetColumn> columns() {
        return columns;
    }

    public List<String> keyColumns() {
        return keyColumns;
    }

    /** Position of a column, or -1 when the table has no such column. */
    public int indexOf(String column) {
        return indexByName.getOrDefault(column, -1);
    }

    int[] keyIndexes() {
        return keyIndexes;
    }

    /**
     * The primary key and the identity's sequence are named {@code _ferry_pk_<table>} and {@code _ferry_seq_<table>}:
     * PostgreSQL's own names ({@code <table>_pkey}, {@code <table>_<column>_seq}) share the namespace of tables, so a
     * SQLite table of that name created after this one would be passed over by {@code CREATE TABLE IF NOT EXISTS}. No
     * replicated table has a name beginning with {@code _ferry_}, which the ingest does not capture.
     */
    public String createSql() {
        StringBuilder sql = new StringBuilder("CREATE TABLE IF NOT EXISTS ").append(qualifiedName()).append(" (");
        for (TargetColumn c : columns) {
            sql.append(quote(c.name())).append(' ').append(c.ddlType()).append(c.notNull() ? " NOT NULL" : "")
                    .append(c.defaultSql() != null ? " DEFAULT " + c.defaultSql() : "")
                    .append(c.name().equals(identityColumn) ? " GENERATED BY DEFAULT AS IDENTITY (SEQUENCE NAME "
                            + PgIdentifiers.qualified(schema, OWN_NAME_PREFIX + "seq_" + sourceTable) + ")" : "").append(", ");
        }
        sql.append("CONSTRAINT ").append(quote(OWN_NAME_PREFIX + "pk_" + sourceTable)).append(" PRIMARY KEY (")
                .append(columnList(keyColumns)).append("))");
        return sql.toString();
    }

    /** Start of the names of the objects ferry makes for a table in its schema: no captured SQLite table has it. */
    static final String OWN_NAME_PREFIX = "_ferry_";

    /**
     * DDL that brings an existing target table to this shape without losing data: every column is added if
     * missing (SQLite can add columns while the app runs); a column the source no longer has (dropped or renamed)
     * is kept with its data but loses NOT NULL, so that rows without it can still be written.
     */
    public List<String> alignSql(TargetTable previous) {
        List<String> ddl = new ArrayList<>();
        for (TargetColumn c : columns) {
            ddl.add("ALTER TABLE " + qualifiedName() + " ADD COLUMN IF NOT EXISTS " + quote(c.name()) + ' ' + c.ddlType());
        }
        if (previous != null) {
            for (TargetColumn c : previous.columns) {
                if (indexOf(c.name()) < 0 && c.notNull() && !previous.keyColumns.contains(c.name())) {
                    ddl.add("ALTER TABLE " + qualifiedName() + " ALTER COLUMN " + quote(c.name()) + " DROP NOT NULL");
                }
            }
        }
        return ddl;
    }

    String upsertSql(int rows) {
        StringBuilder sql = new StringBuilder("INSERT INTO ").append(qualifiedName()).append(" (")
                .append(columnList(columns.stream().map(TargetColumn::name).toList())).append(") VALUES ");
        String tuple = "(" + "?,".repeat(columns.size() - 1) + "?)";
        for (int r = 0; r < rows; r++) {
            sql.append(r == 0 ? "" : ",").append(tuple);
        }
        return sql.append(onConflict()).toString();
    }

    String upsertFromSql(String stagingTable) {
        String cols = columnList(columns.stream().map(TargetColumn::name).toList());
        return "INSERT INTO " + qualifiedName() + " (" + cols + ") SELECT " + cols + " FROM " + quote(stagingTable) + onConflict();
    }

    String createStagingSql(String stagingTable) {
        return "CREATE TEMP TABLE IF NOT EXISTS " + quote(stagingTable) + " (LIKE " + qualifiedName() + ") ON COMMIT DELETE ROWS";
    }

    /** COPY straight into this table: only for rows that cannot already be in it. */
    String copyIntoSql() {
        return "COPY " + qualifiedName() + " (" + columnList(columns.stream().map(TargetColumn::name).toList()) + ") FROM STDIN";
    }

    String copySql(String stagingTable) {
        return "COPY " + quote(stagingTable) + " (" + columnList(columns.stream().map(TargetColumn::name).toList()) + ") FROM STDIN";
    }

    String deleteSql(int rows) {
        StringBuilder sql = new StringBuilder("DELETE FROM ").append(qualifiedName()).append(" WHERE (")
                .append(columnList(keyColumns)).append(") IN (");
        String tuple = "(" + "?,".repeat(keyColumns.size() - 1) + "?)";
        for (int r = 0; r < rows; r++) {
            sql.append(r == 0 ? "" : ",").append(tuple);
        }
        return sql.append(')').toString();
    }

    /** Deletes the rows whose key columns but the last equal the given values and whose last key column is at least the last value. */
    String deleteRangeSql() {
        List<String> prefix = keyColumns.subList(0, keyColumns.size() - 1);
        StringBuilder sql = new StringBuilder("DELETE FROM ").append(qualifiedName()).append(" WHERE ");
        for (String k : prefix) {
            sql.append(quote(k)).append(" = ? AND ");
        }
        return sql.append(quote(keyColumns.get(keyColumns.size() - 1))).append(" >= ?").toString();
    }

    private String onConflict() {
        List<String> updates = columns.stream().map(TargetColumn::name).filter(c -> !keyColumns.contains(c))
                .map(c -> quote(c) + " = EXCLUDED." + quote(c)).toList();
        String conflict = " ON CONFLICT (" + columnList(keyColumns) + ") DO ";
        return updates.isEmpty() ? conflict + "NOTHING" : conflict + "UPDATE SET " + String.join(", ", updates);
    }

    private static String columnList(List<String> names) {
        return String.join(", ", names.stream().map(PgIdentifiers::quote).toList());
    }
}
