package dev.ferry.ingest.connect;

import dev.ferry.ingest.sqlite.ChangeCapture;
import dev.ferry.ingest.sqlite.ChangelogReader;
import dev.ferry.ingest.sqlite.SchemaReader;
import dev.ferry.ingest.sqlite.SnapshotReader;
import dev.ferry.ingest.sqlite.SqliteFile;
import dev.ferry.ingest.sqlite.TableInfo;
import dev.ferry.schemas.avro.Op;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Captures one SQLite file: a consistent snapshot first, then the changelog from the snapshot's mark.
 * The source offset is {@code {phase: snapshot}} while snapshotting and {@code {phase: stream, seq: N}} after,
 * so an interrupted snapshot starts again (the writer's upserts make that harmless) and streaming resumes
 * after the last changelog entry whose records were committed.
 */
public final class SqliteSourceTask extends SourceTask {

    private static final Logger LOG = LoggerFactory.getLogger(SqliteSourceTask.class);

    private SqliteSourceConfig config;
    private EventRecords records;
    private Path path;
    private Pattern include;
    private Connection readConnection;
    private Connection commitConnection;
    private ChangelogReader changelog;
    private SnapshotReader snapshot;
    private Map<String, TableInfo> tables = new LinkedHashMap<>();
    private long schemaVersion;
    private long lastSeq;
    private int batchSize;
    private long pollIntervalMs;
    private long lastCommittedSeq = -1;

    @Override
    public String version() {
        return "0.1.0";
    }

    @Override
    public void start(Map<String, String> props) {
        config = new SqliteSourceConfig(props);
        path = Path.of(config.getString(SqliteSourceConfig.SQLITE_PATH));
        include = config.tablesInclude();
        batchSize = config.getInt(SqliteSourceConfig.BATCH_SIZE);
        pollIntervalMs = config.getLong(SqliteSourceConfig.POLL_INTERVAL_MS);
        records = new EventRecords(config.getString(SqliteSourceConfig.TOPIC_PREFIX),
                config.getString(SqliteSourceConfig.SOURCE_NAME), config.getInt(SqliteSourceConfig.TOPIC_PARTITIONS));
        try {
            readConnection = SqliteFile.open(path);
            commitConnection = SqliteFile.open(path);
            refreshTables(true);
            changelog = new ChangelogReader(readConnection);
            Map<String, Object> offset = context.offsetStorageReader().offset(records.sourcePartition());
            if (offset != null && EventRecords.STREAM.equals(offset.get(EventRecords.PHASE))) {
                lastSeq = ((Number) offset.get(EventRecords.SEQ)).longValue();
                LOG.info("resuming the changelog of {} after seq {}", path, lastSeq);
            } else {
                snapshot = new SnapshotReader(readConnection, List.copyOf(tables.values()));
                lastSeq = snapshot.highWaterMark();
                LOG.info("snapshot of {} table(s) of {} started at changelog mark {}{}", tables.size(), path, lastSeq,
                        offset == null ? "" : " (the previous snapshot did not finish: starting it again)");
            }
        } catch (SQLException e) {
            throw new ConnectException("cannot start capturing " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<SourceRecord> poll() throws InterruptedException {
        try {
            if (snapshot != null) {
                return pollSnapshot();
            }
            List<SourceRecord> out = pollChangelog();
            if (out.isEmpty()) {
                Thread.sleep(pollIntervalMs);
                return null;
            }
            return out;
        } catch (SQLException e) {
            throw new ConnectException("reading " + path + " failed: " + e.getMessage(), e);
        }
    }

    private List<SourceRecord> pollSnapshot() throws SQLException {
        List<SourceRecord> out = new ArrayList<>(batchSize + 16);
        if (snapshotRows == 0 && !schemasSent) {
            for (TableInfo table : tables.values()) {
                out.addAll(records.schema(table, EventRecords.snapshotOffset()));
            }
            schemasSent = true;
        }
        long now = System.currentTimeMillis();
        boolean done = false;
        while (out.size() < batchSize) {
            SnapshotReader.Row row = snapshot.next();
            if (row == null) {
                done = true;
                break;
            }
            out.addAll(records.change(row.table(), Op.r, EventRecords.keyOf(row.table(), row.image()), row.image(),
                    snapshot.highWaterMark(), true, now, EventRecords.snapshotOffset()));
            snapshotRows++;
        }
        if (done) {
            // The last record carries the stream offset, so that a restart after it streams instead of snapshotting.
            long mark = snapshot.highWaterMark();
            snapshot.close();
            snapshot = null;
            LOG.info("snapshot done: {} row(s); streaming the changelog after seq {}", snapshotRows, mark);
            if (out.isEmpty() && !tables.isEmpty()) {
                out.addAll(records.schema(tables.values().iterator().next(), EventRecords.snapshotOffset()));
            }
            if (!out.isEmpty()) {
                SourceRecord last = out.remove(out.size() - 1);
                out.add(new SourceRecord(last.sourcePartition(), EventRecords.streamOffset(mark), last.topic(),
                        last.kafkaPartition(), last.keySchema(), last.key(), last.valueSchema(), last.value(), last.timestamp()));
            }
        }
        return out;
    }

    private int snapshotRows;
    private boolean schemasSent;

    private List<SourceRecord> pollChangelog() throws SQLException {
        List<SourceRecord> out = new ArrayList<>();
        if (SchemaReader.schemaVersion(readConnection) != schemaVersion) {
            out.addAll(onSchemaChange());
        }
        for (ChangelogReader.Change change : changelog.read(lastSeq, batchSize, tables)) {
            Op op = Op.valueOf(change.op());
            out.addAll(records.change(change.table(), op, change.key(), change.image(), change.seq(), false,
                    change.commitTsMs(), EventRecords.streamOffset(change.seq())));
            lastSeq = change.seq();
        }
        return out;
    }

    /** Re-reads the tables after a schema change: changed tables get a new schema event, new tables are captured. */
    private List<SourceRecord> onSchemaChange() throws SQLException {
        Map<String, TableInfo> before = tables;
        refreshTables(false);
        changelog.forgetTables();
        List<SourceRecord> out = new ArrayList<>();
        List<TableInfo> added = new ArrayList<>();
        for (TableInfo table : tables.values()) {
            TableInfo old = before.get(table.name());
            if (old == null) {
                added.add(table);
            } else if (!Objects.equals(old.columns(), table.columns())) {
                LOG.info("table \"{}\" changed shape; sending its new schema", table.name());
                out.addAll(records.schema(table, EventRecords.streamOffset(lastSeq)));
            }
        }
        if (!added.isEmpty()) {
            ChangeCapture.install(commitConnection, added);
            schemaVersion = SchemaReader.schemaVersion(readConnection);
            // Rows written before the triggers existed are only in the table: read them all once.
            try (SnapshotReader tableSnapshot = new SnapshotReader(readConnection, added)) {
                for (TableInfo table : added) {
                    LOG.info("new table \"{}\": capturing it", table.name());
                    out.addAll(records.schema(table, EventRecords.streamOffset(lastSeq)));
                }
                long now = System.currentTimeMillis();
                SnapshotReader.Row row;
                while ((row = tableSnapshot.next()) != null) {
                    out.addAll(records.change(row.table(), Op.r, EventRecords.keyOf(row.table(), row.image()), row.image(), lastSeq, true, now,
                            EventRecords.streamOffset(lastSeq)));
                }
            }
        }
        return out;
    }

    private void refreshTables(boolean install) throws SQLException {
        List<TableInfo> read = SchemaReader.readTables(readConnection, include);
        if (install) {
            ChangeCapture.install(commitConnection, read);
            // Installing triggers bumps the schema version: read the tables again so their version is current.
            read = SchemaReader.readTables(readConnection, include);
        }
        Map<String, TableInfo> byName = new LinkedHashMap<>();
        read.forEach(t -> byName.put(t.name(), t));
        tables = byName;
        schemaVersion = SchemaReader.schemaVersion(readConnection);
    }

    /** Called after the engine stored the offsets: changelog rows up to the committed seq can go. */
    @Override
    public void commit() {
        Map<String, Object> offset = context.offsetStorageReader().offset(records.sourcePartition());
        if (offset == null || !EventRecords.STREAM.equals(offset.get(EventRecords.PHASE))) {
            return;
        }
        long seq = ((Number) offset.get(EventRecords.SEQ)).longValue();
        if (seq == lastCommittedSeq) {
            return;
        }
        synchronized (this) {
            try {
                ChangeCapture.markCommitted(commitConnection, seq);
                lastCommittedSeq = seq;
            } catch (SQLException e) {
                // Not fatal: the rows are deleted at the next commit.
                LOG.warn("cannot trim the changelog of {} up to seq {}: {}", path, seq, e.getMessage());
            }
        }
    }

    @Override
    public void stop() {
        closeQuietly(snapshot);
        closeQuietly(changelog);
        closeQuietly(readConnection);
        synchronized (this) {
            closeQuietly(commitConnection);
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            LOG.warn("closing {} failed: {}", closeable.getClass().getSimpleName(), e.getMessage());
        }
    }
}
