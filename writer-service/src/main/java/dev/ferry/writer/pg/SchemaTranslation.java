package dev.ferry.writer.pg;

import static dev.ferry.writer.pg.PgIdentifiers.quote;

import dev.ferry.schemas.SqliteTokens;
import dev.ferry.schemas.avro.Column;
import dev.ferry.schemas.avro.EmbeddingColumn;
import dev.ferry.schemas.avro.ForeignKey;
import dev.ferry.schemas.avro.Index;
import dev.ferry.schemas.avro.IndexColumn;
import dev.ferry.schemas.avro.TableSchema;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32;

/**
 * Everything ferry builds in PostgreSQL for one SQLite table, from its schema event: the table
 * ({@link TargetTable}), then the statements that may fail without stopping replication (expression defaults,
 * indexes, foreign keys, CHECK constraints), and a note for every lossy or uncertain decision. The writer and
 * {@code ferry schema} both use it, so what {@code ferry schema} prints is what the writer runs.
 */
public final class SchemaTranslation {

    /** A lossy or uncertain decision: {@code subject} is a column, an index or a constraint of {@code table}. */
    public record Note(String table, String subject, String message) {
        @Override
        public String toString() {
            return table + (subject == null ? "" : "." + subject) + ": " + message;
        }
    }

    /** What a {@link Statement} builds. */
    public enum Kind {
        DEFAULT("default"), INDEX("index"), FOREIGN_KEY("foreign key"), CHECK("check constraint"), SETTING("database setting");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /**
     * A statement run after the table exists, whose failure is reported and does not stop replication.
     *
     * @param constraint name of the constraint it adds (skip when the table has it already), or null
     * @param requires   qualified name of another table that must exist first (the parent of a foreign key), or null
     * @param refTable   SQLite name of that table, or null
     */
    public record Statement(Kind kind, String name, String sql, String constraint, String requires, String refTable) {
    }

    private final TargetTable table;
    private final List<Statement> defaults = new ArrayList<>();
    private final List<Statement> indexes = new ArrayList<>();
    private final List<Statement> foreignKeys = new ArrayList<>();
    private final List<Statement> checks = new ArrayList<>();
    private final List<Note> notes = new ArrayList<>();

    /** The column of the rowid key, which no SQLite expression names; null for a table keyed by its primary key. */
    private final String rowidColumn;

    private SchemaTranslation(TargetTable table, String rowidColumn) {
        this.table = table;
        this.rowidColumn = rowidColumn;
    }

    /**
     * @param citext      COLLATE NOCASE text columns become {@code citext} (else {@code text}, and a note says so)
     * @param foreignKeys foreign keys can be created (the writer's session skips their checks, see docs/type-mapping.md)
     */
    public static SchemaTranslation of(String targetSchema, TableSchema source, TypeMapping types, boolean citext, boolean foreignKeys) {
        TargetTable table = TargetTable.of(targetSchema, source, types, citext);
        SchemaTranslation t = new SchemaTranslation(table, source.getRowidKey() ? TargetTable.rowidColumn(source) : null);
        t.translateColumns(source, types, citext);
        t.translateIndexes(source);
        t.translateVectorIndexes(source);
        t.translateForeignKeys(targetSchema, source, foreignKeys);
        t.translateChecks(source);
        return t;
    }

    public TargetTable table() {
        return table;
    }

    /** Defaults that are expressions, set after CREATE TABLE. */
    public List<Statement> defaults() {
        return defaults;
    }

    public List<Statement> indexes() {
        return indexes;
    }

    public List<Statement> foreignKeys() {
        return foreignKeys;
    }

    public List<Statement> checks() {
        return checks;
    }

    /** The statements built once the table's snapshot is loaded: indexes, then foreign keys, then checks. */
    public List<Statement> afterSnapshot() {
        List<Statement> all = new ArrayList<>(indexes);
        all.addAll(foreignKeys);
        all.addAll(checks);
        return all;
    }

    public List<Note> notes() {
        return notes;
    }

    /** True when a text column compares with COLLATE NOCASE, so citext is wanted. */
    public static boolean wantsCitext(TableSchema source, TypeMapping types) {
        return source.getColumns().stream().anyMatch(c -> TargetTable.isNocase(c.getCollation())
                && types.typeOf(source.getTable(), c.getName(), c.getDeclaredType()) == PgType.TEXT);
    }

    private void note(String subject, String message) {
        notes.add(new Note(table.sourceTable(), subject, message));
    }

    private void translateColumns(TableSchema source, TypeMapping types, boolean citext) {
        String name = source.getTable();
        if (!PgIdentifiers.pgName(name).equals(name)) {
            note(null, "table " + renamed(name));
        }
        if (source.getRowidKey()) {
            note(null, "no primary key (or NULL in its key): keyed by SQLite's rowid in column " + TargetTable.rowidColumn(source)
                    + ", which VACUUM may renumber");
        }
        for (Column c : source.getColumns()) {
            String column = c.getName();
            PgType type = types.typeOf(name, column, c.getDeclaredType());
            PgType byRules = TypeMapping.byDeclaredType(c.getDeclaredType());
            if (!PgIdentifiers.pgName(column).equals(column)) {
                note(column, "column " + renamed(column));
            }
            if (type != byRules) {
                note(column, "type override: " + type.sql() + " instead of " + byRules.sql());
            } else if (c.getDeclaredType().isBlank()) {
                note(column, "no declared type: text (values of every storage class become text; non-UTF-8 BLOBs are refused)");
            } else if (TypeMapping.RULES.stream().noneMatch(r -> SqliteTokens.upperName(c.getDeclaredType()).contains(r.contains()))) {
                note(column, "declared type " + c.getDeclaredType() + " matches no rule: text (fallback)");
            }
            if (c.getGenerated() != null) {
                note(column, "generated column (" + c.getGenerated() + ") in SQLite: a plain column here, holding the values SQLite"
                        + " computed; PostgreSQL does not compute it (after cutover, make it GENERATED ALWAYS AS (...) STORED or"
                        + " compute it in the application)");
            }
            String collation = c.getCollation();
            if (TargetTable.isNocase(collation)) {
                if (type != PgType.TEXT) {
                    note(column, "COLLATE NOCASE on a " + type.sql() + " column has no PostgreSQL equivalent: ignored");
                } else if (citext) {
                    note(column, "COLLATE NOCASE: citext (compares ignoring case; citext folds all of Unicode, SQLite only ASCII)");
                } else {
                    note(column, "COLLATE NOCASE: the citext extension is not available, so the column is text and compares"
                            + " case-sensitively; query it with lower()");
                }
            } else if (collation != null && !SqliteTokens.sameName(collation, "BINARY")) {
                note(column, "COLLATE " + collation + " has no PostgreSQL equivalent: ignored");
            }
            ColumnDefaults.Default d = ColumnDefaults.translate(c.getDefaultValue(), type, column);
            if (d.note() != null) {
                note(column, d.note());
            }
            if (d.expression() != null) {
                defaults.add(new Statement(Kind.DEFAULT, column, "ALTER TABLE " + table.qualifiedName() + " ALTER COLUMN " + quote(column)
                        + " SET DEFAULT (" + d.expression() + ")", null, null, null));
            }
        }
    }

    private void translateIndexes(TableSchema source) {
        for (Index index : source.getIndexes()) {
            if (index.getOrigin().equals("pk")) {
                continue; // the target's primary key
            }
            String name = index.getName();
            String subject = "index " + name;
            List<String> keys = new ArrayList<>();
            String problem = null;
            for (IndexColumn c : index.getColumns()) {
                String key;
                if (c.getName() != null) {
                    int at = table.indexOf(c.getName());
                    if (at < 0) {
                        problem = "column \"" + c.getName() + "\" is not in the target table";
                        break;
                    }
                    TargetTable.TargetColumn column = table.columns().get(at);
                    key = quote(column.name());
                    if (TargetTable.isNocase(c.getCollation()) && !column.ddlType().equals(TargetTable.CITEXT)) {
                        if (column.type() != PgType.TEXT) {
                            problem = "COLLATE NOCASE on a " + column.type().sql() + " column";
                            break;
                        }
                        key = "lower(" + key + ")";
                        note(subject, "COLLATE NOCASE on " + column.name() + ": indexed as lower(" + column.name()
                                + ") (SQLite folds only ASCII letters)");
                    }
                } else {
                    SqliteExpressions.Translation e = c.getExpression() == null
                            ? new SqliteExpressions.Translation(null, "the expression could not be read")
                            : SqliteExpressions.translate(c.getExpression(), this::columnName);
                    if (!e.ok()) {
                        problem = "expression " + c.getExpression() + ": " + e.problem();
                        break;
                    }
                    key = "(" + e.sql() + ")";
                }
                keys.add(key + (c.getDesc() ? " DESC" : ""));
            }
            String where = "";
            if (problem == null && index.getPartial()) {
                SqliteExpressions.Translation e = index.getWhere() == null
                        ? new SqliteExpressions.Translation(null, "the WHERE clause could not be read")
                        : SqliteExpressions.translate(index.getWhere(), this::columnName);
                if (e.ok()) {
                    where = " WHERE " + e.sql();
                } else {
                    problem = "partial index WHERE " + index.getWhere() + ": " + e.problem();
                }
            }
            if (problem != null) {
                note(subject, "not created: " + problem);
                continue;
            }
            if (!PgIdentifiers.pgName(name).equals(name)) {
                note(subject, renamed(name));
            }
            indexes.add(new Statement(Kind.INDEX, name, "CREATE " + (index.getUnique() ? "UNIQUE " : "") + "INDEX IF NOT EXISTS "
                    + quote(name) + " ON " + table.qualifiedName() + " (" + String.join(", ", keys) + ")" + where, null, null, null));
        }
    }

    /**
     * A cosine index per vector column, built after the snapshot. HNSW also gets {@code hnsw.iterative_scan =
     * strict_order} as the database's default: without it a filtered {@code WHERE user_id = ? ORDER BY v <=> q LIMIT k}
     * returns fewer than k rows when few rows pass the filter (pgvector 0.8, docs/embeddings.md).
     */
    private void translateVectorIndexes(TableSchema source) {
        for (EmbeddingColumn e : source.getEmbeddings()) {
            String method = e.getIndex().toLowerCase(Locale.ROOT);
            if (method.equals("none")) {
                continue;
            }
            String name = PgIdentifiers.pgName(source.getTable() + "_" + e.getColumn() + "_" + method);
            String with = method.equals("ivfflat") ? " WITH (lists = " + IVFFLAT_LISTS + ")" : "";
            indexes.add(new Statement(Kind.INDEX, name, "CREATE INDEX IF NOT EXISTS " + quote(name) + " ON " + table.qualifiedName()
                    + " USING " + method + " (" + quote(e.getColumn()) + " vector_cosine_ops)" + with, null, null, null));
            if (method.equals("hnsw")) {
                indexes.add(new Statement(Kind.SETTING, "hnsw.iterative_scan", "DO $$ BEGIN EXECUTE format("
                        + "'ALTER DATABASE %I SET hnsw.iterative_scan = strict_order', current_database()); END $$", null, null, null));
            }
        }
    }

    /** IVFFlat lists: pgvector suggests rows / 1000 up to a million rows; fixed, since the index is built once. */
    static final int IVFFLAT_LISTS = 100;

    private void translateForeignKeys(String targetSchema, TableSchema source, boolean allowed) {
        for (ForeignKey fk : source.getForeignKeys()) {
            String subject = "foreign key (" + String.join(", ", fk.getColumns()) + ") -> " + fk.getRefTable();
            if (!allowed) {
                note(subject, "not created: the writer cannot set session_replication_role = replica, and without it the key"
                        + " would refuse rows that arrive before their parent; create it at cutover");
                continue;
            }
            if (fk.getRefColumns().size() != fk.getColumns().size()) {
                note(subject, "not created: the referenced table has no primary key matching the key's columns");
                continue;
            }
            List<String> missing = fk.getColumns().stream().filter(c -> table.indexOf(c) < 0).toList();
            if (!missing.isEmpty()) {
                note(subject, "not created: columns " + missing + " are not in the target table");
                continue;
            }
            String name = PgIdentifiers.pgName(source.getTable() + "_" + String.join("_", fk.getColumns()) + "_fkey");
            String sql = "ALTER TABLE " + table.qualifiedName() + " ADD CONSTRAINT " + quote(name) + " FOREIGN KEY ("
                    + columnList(fk.getColumns()) + ") REFERENCES " + PgIdentifiers.qualified(targetSchema, fk.getRefTable())
                    + " (" + columnList(fk.getRefColumns()) + ")" + action("UPDATE", fk.getOnUpdate()) + action("DELETE", fk.getOnDelete())
                    + " NOT VALID";
            foreignKeys.add(new Statement(Kind.FOREIGN_KEY, name, sql, name, PgIdentifiers.qualified(targetSchema, fk.getRefTable()),
                    fk.getRefTable()));
        }
        if (!foreignKeys.isEmpty()) {
            note(null, "foreign keys created NOT VALID: existing rows are checked only when validated at cutover");
        }
    }

    private void translateChecks(TableSchema source) {
        for (String check : source.getChecks()) {
            SqliteExpressions.Translation e = SqliteExpressions.translate(check, this::columnName);
            if (!e.ok()) {
                note("CHECK (" + check + ")", "not created: " + e.problem());
                continue;
            }
            CRC32 crc = new CRC32();
            crc.update(check.getBytes(StandardCharsets.UTF_8));
            String name = PgIdentifiers.pgName(source.getTable() + "_check_" + String.format("%08x", crc.getValue()));
            checks.add(new Statement(Kind.CHECK, name, "ALTER TABLE " + table.qualifiedName() + " ADD CONSTRAINT " + quote(name)
                    + " CHECK (" + e.sql() + ") NOT VALID", name, null, null));
        }
    }

    /** The report's words for a name that PostgreSQL gets as {@link PgIdentifiers#pgName} makes it. */
    private static String renamed(String name) {
        return "name PostgreSQL cannot take as it is (longer than 63 bytes, empty, or a system column's name): \""
                + PgIdentifiers.pgName(name) + "\"";
    }

    /** The quoted target name of a SQLite column, matched as SQLite matches names (ASCII case ignored); null if none. */
    private String columnName(String sqliteName) {
        for (TargetTable.TargetColumn c : table.columns()) {
            if (SqliteTokens.sameName(c.name(), sqliteName) && !c.name().equals(rowidColumn)) {
                return quote(c.name());
            }
        }
        return null;
    }

    private static String action(String event, String action) {
        return action == null || action.isBlank() || action.equalsIgnoreCase("NO ACTION") ? "" : " ON " + event + " " + action;
    }

    private static String columnList(List<String> names) {
        return String.join(", ", names.stream().map(PgIdentifiers::quote).toList());
    }
}
