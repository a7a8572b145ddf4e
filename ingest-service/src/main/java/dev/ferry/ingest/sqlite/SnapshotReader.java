package dev.ferry.ingest.sqlite;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every row of every captured table inside one read transaction. In WAL mode the application keeps
 * writing meanwhile; its writes land in the changelog after {@link #highWaterMark()}, and streaming from
 * that mark replays them on top of the snapshot: consistent by construction, no pause for the application.
 */
public final class SnapshotReader implements AutoCloseable {

    /** One row of the snapshot. */
    public record Row(TableInfo table, Map<String, Object> image) {
    }

    private final Connection connection;
    private final List<TableInfo> tables;
    private final long highWaterMark;
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotReader.class);
    private static final long PROGRESS_EVERY = 100_000;

    private int tableIndex = -1;
    private long tableRows;
    private Statement statement;
    private ResultSet rows;

    public SnapshotReader(Connection connection, List<TableInfo> tables) throws SQLException {
        this.connection = connection;
        this.tables = tables;
        connection.setAutoCommit(false);
        // The first read fixes the transaction's view of the file: the mark and every table are read from it.
        this.highWaterMark = ChangeCapture.highWaterMark(connection);
    }

    public long highWaterMark() {
        return highWaterMark;
    }

    /** The next row in table order, then key order; null when every table has been read. */
    public Row next() throws SQLException {
        while (true) {
            if (rows != null && rows.next()) {
                TableInfo table = tables.get(tableIndex);
                if (++tableRows % PROGRESS_EVERY == 0) {
                    LOG.info("snapshot of \"{}\": {} rows read", table.name(), tableRows);
                }
                return new Row(table, RowReader.image(rows, table));
            }
            if (rows != null) {
                LOG.info("snapshot of \"{}\" done: {} rows", tables.get(tableIndex).name(), tableRows);
            }
            closeCursor();
            tableRows = 0;
            if (++tableIndex >= tables.size()) {
                return null;
            }
            TableInfo table = tables.get(tableIndex);
            statement = connection.createStatement();
            statement.setFetchSize(1000);
            rows = statement.executeQuery("SELECT " + table.selectList() + " FROM " + SqlIdentifiers.quote(table.name())
                    + " ORDER BY " + table.orderByKey());
        }
    }

    private void closeCursor() throws SQLException {
        if (rows != null) {
            rows.close();
            statement.close();
            rows = null;
        }
    }

    @Override
    public void close() throws SQLException {
        closeCursor();
        connection.commit();
        connection.setAutoCommit(true);
    }
}
