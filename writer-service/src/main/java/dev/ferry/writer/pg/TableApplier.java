package dev.ferry.writer.pg;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.List;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;

/**
 * Writes rows into one target table inside the caller's transaction. Large sets of rows (a snapshot,
 * a burst) are COPYed into a temporary staging table and upserted from it in one statement; small sets
 * use multi-row {@code INSERT … ON CONFLICT}. Either way a row that exists is updated, so a replayed
 * record is harmless.
 */
public final class TableApplier {

    /** Below this many rows a multi-row INSERT beats COPY plus the upsert from staging. */
    static final int COPY_THRESHOLD = 200;
    private static final int MAX_PARAMETERS = 32_000;
    /**
     * COPY data goes out in chunks of about this size, so PostgreSQL parses and inserts one chunk while the next is
     * formatted; with one chunk per batch the writer and PostgreSQL took turns.
     */
    private static final int COPY_CHUNK_BYTES = 64 * 1024;

    private final TargetTable table;
    private final int id;
    private final String stagingTable;
    private final boolean fresh;

    public TableApplier(TargetTable table, int id) {
        this(table, id, false);
    }

    /**
     * @param fresh the target was created by this writer and has received nothing but snapshot rows: a snapshot
     *              batch can then be COPYed straight into it, written once instead of twice (staging + upsert)
     */
    public TableApplier(TargetTable table, int id, boolean fresh) {
        this.table = table;
        this.id = id;
        this.stagingTable = "_ferry_stage_" + id;
        this.fresh = fresh;
    }

    public boolean fresh() {
        return fresh;
    }

    /** The same table, no longer known to hold only snapshot rows. */
    public TableApplier notFresh() {
        return fresh ? new TableApplier(table, id, false) : this;
    }

    /**
     * Snapshot rows into a fresh target: one COPY, no staging, no upsert. Should a row be there already (the
     * snapshot was started again), PostgreSQL refuses the COPY and the caller applies the batch row by row.
     */
    public void insertFresh(Connection connection, List<Object[]> rows) throws SQLException {
        if (rows.size() < COPY_THRESHOLD) {
            upsert(connection, rows);
            return;
        }
        copy(connection, table.copyIntoSql(), rows);
    }

    public TargetTable table() {
        return table;
    }

    /** Upserts rows whose values are in target column order and already converted. */
    public void upsert(Connection connection, List<Object[]> rows) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        if (rows.size() >= COPY_THRESHOLD) {
            upsertByCopy(connection, rows);
            return;
        }
        int perStatement = Math.max(1, MAX_PARAMETERS / table.columns().size());
        for (int from = 0; from < rows.size(); from += perStatement) {
            List<Object[]> chunk = rows.subList(from, Math.min(rows.size(), from + perStatement));
            try (PreparedStatement ps = connection.prepareStatement(table.upsertSql(chunk.size()))) {
                int p = 1;
                for (Object[] row : chunk) {
                    for (int c = 0; c < row.length; c++) {
                        bind(ps, p++, table.columns().get(c).type(), row[c]);
                    }
                }
                ps.executeUpdate();
            }
        }
    }

    /** Deletes rows by key; each key holds converted values in key column order. */
    public void delete(Connection connection, List<Object[]> keys) throws SQLException {
        if (keys.isEmpty()) {
            return;
        }
        int[] keyIndexes = table.keyIndexes();
        int perStatement = Math.max(1, MAX_PARAMETERS / keyIndexes.length);
        for (int from = 0; from < keys.size(); from += perStatement) {
            List<Object[]> chunk = keys.subList(from, Math.min(keys.size(), from + perStatement));
            try (PreparedStatement ps = connection.prepareStatement(table.deleteSql(chunk.size()))) {
                int p = 1;
                for (Object[] key : chunk) {
                    for (int k = 0; k < key.length; k++) {
                        bind(ps, p++, table.columns().get(keyIndexes[k]).type(), key[k]);
                    }
                }
                ps.executeUpdate();
            }
        }
    }

    /**
     * Deletes key ranges: for each of {@code ranges} (converted values in key column order), the rows whose key columns
     * but the last are equal and whose last key column is at least the last value. Returns the rows deleted.
     */
    public long deleteRange(Connection connection, List<Object[]> ranges) throws SQLException {
        if (ranges.isEmpty()) {
            return 0;
        }
        int[] keyIndexes = table.keyIndexes();
        long deleted = 0;
        try (PreparedStatement ps = connection.prepareStatement(table.deleteRangeSql())) {
            for (Object[] key : ranges) {
                for (int k = 0; k < key.length; k++) {
                    bind(ps, k + 1, table.columns().get(keyIndexes[k]).type(), key[k]);
                }
                deleted += ps.executeUpdate();
            }
        }
        return deleted;
    }

    /** Forgets the staging table, whose shape is stale after the target changed. */
    public void dropStaging(Connection connection) throws SQLException {
        try (Statement st = connection.createStatement()) {
            st.execute("DROP TABLE IF EXISTS pg_temp." + PgIdentifiers.quote(stagingTable));
        }
    }

    private void upsertByCopy(Connection connection, List<Object[]> rows) throws SQLException {
        if (connection.getAutoCommit()) {
            // The staging table is ON COMMIT DELETE ROWS: in autocommit it would be empty again before the upsert from it.
            throw new SQLException("upserting " + rows.size() + " rows into " + table.qualifiedName()
                    + " needs the caller's transaction, but the connection is in autocommit mode");
        }
        try (Statement st = connection.createStatement()) {
            // Created on every use: a rolled-back transaction also drops a temp table it created.
            st.execute(table.createStagingSql(stagingTable));
            st.execute("TRUNCATE " + PgIdentifiers.quote(stagingTable));
        }
        copy(connection, table.copySql(stagingTable), rows);
        try (Statement st = connection.createStatement()) {
            st.executeUpdate(table.upsertFromSql(stagingTable));
        }
    }

    private static void copy(Connection connection, String copySql, List<Object[]> rows) throws SQLException {
        CopyManager copy = connection.unwrap(PGConnection.class).getCopyAPI();
        CopyIn in = copy.copyIn(copySql);
        try {
            CopyBuffer buffer = new CopyBuffer(COPY_CHUNK_BYTES + 1024);
            for (Object[] row : rows) {
                CopyText.appendRow(buffer, row);
                if (buffer.size() >= COPY_CHUNK_BYTES) {
                    in.writeToCopy(buffer.array(), 0, buffer.size());
                    buffer.reset();
                }
            }
            if (buffer.size() > 0) {
                in.writeToCopy(buffer.array(), 0, buffer.size());
            }
            in.endCopy();
        } finally {
            if (in.isActive()) {
                in.cancelCopy();
            }
        }
    }

    private static void bind(PreparedStatement ps, int index, PgType type, Object value) throws SQLException {
        if (value == null) {
            ps.setNull(index, type.jdbcType());
            return;
        }
        switch (type) {
            case BIGINT -> ps.setLong(index, (Long) value);
            case DOUBLE -> ps.setDouble(index, (Double) value);
            // NaN and ±Infinity come as a Double: sent as text, which PostgreSQL's numeric input reads.
            case NUMERIC -> {
                if (value instanceof BigDecimal d) {
                    ps.setBigDecimal(index, d);
                } else {
                    ps.setObject(index, value.toString(), Types.OTHER);
                }
            }
            case TEXT -> ps.setString(index, (String) value);
            case BYTEA -> ps.setBytes(index, (byte[]) value);
            case BOOLEAN -> ps.setBoolean(index, (Boolean) value);
            // As untyped text in the form COPY uses, which PostgreSQL parses for the column's type: the driver's own
            // conversion of java.time values turns the earliest dates into -infinity.
            case DATE, TIMESTAMPTZ, TIME -> ps.setObject(index, CopyText.dateTime(value), Types.OTHER);
            case JSONB, VECTOR -> ps.setObject(index, value, Types.OTHER);
            case UUID -> ps.setObject(index, value);
        }
    }
}
