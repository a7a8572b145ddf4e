package dev.ferry.ingest.connect;

import dev.ferry.ingest.sqlite.ChangeCapture;
import dev.ferry.ingest.sqlite.ChangelogReader;
import dev.ferry.ingest.sqlite.ChangelogTrimmer;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Captures one SQLite file: a consistent snapshot first, then the changelog from the snapshot's mark.
 *
 * <p>Source offsets: {@code {phase: snapshot}} during the first snapshot, so an interrupted snapshot starts again
 * (the writer's upserts make that harmless); then {@code {phase: stream, seq: N}}, so streaming resumes after the
 * last changelog entry whose records were committed. Every offset names the changelog it belongs to
 * ({@code capture}); an offset of another changelog (ferry was uninstalled and installed again) means a new snapshot.
 *
 * <p>Tables whose triggers were missing when ferry (re)started or when the schema changed — new tables, tables
 * rebuilt by a migration, tables whose columns changed — are snapshotted again while streaming waits, with
 * {@code resnapshot} in the offset until they are done, so a crash in the middle repeats them.
 */
public final class SqliteSourceTask extends SourceTask {

    private static final Logger LOG = LoggerFactory.getLogger(SqliteSourceTask.class);

    private EventRecords records;
    private Path path;
    private Pattern include;
    private Connection readConnection;
    private Connection commitConnection;
    private ChangelogReader changelog;
    private Map<String, TableInfo> tables = new LinkedHashMap<>();
    private Map<String, String> shapes = Map.of();
    private String captureId;
    private long schemaVersion;
    private long lastSeq;
    private int batchSize;
    private long pollIntervalMs;
    private ChangelogTrimmer trimmer;

    /** Schema events not yet returned by poll: sent before any row of their table. */
    private final List<SourceRecord> pendingSchemas = new ArrayList<>();
    /** The snapshot being read, if any. */
    private SnapshotReader snapshot;
    /** True for the first snapshot (offset phase snapshot); false for tables snapshotted again while streaming. */
    private boolean initialSnapshot;
    private Set<String> snapshotTables = Set.of();
    /** Tables of the snapshot whose last row is behind us and whose schema event with snapshot_done was sent. */
    private Set<String> snapshotFinished = new LinkedHashSet<>();
    /** Table of the last snapshot row sent, null before the first. */
    private String snapshotTable;
    private long snapshotRows;

    @Override
    public String version() {
        return "0.1.0";
    }

    @Override
    public void start(Map<String, String> props) {
        SqliteSourceConfig config = new SqliteSourceConfig(props);
        path = Path.of(config.getString(SqliteSourceConfig.SQLITE_PATH));
        include = config.tablesInclude();
        batchSize = config.getInt(SqliteSourceConfig.BATCH_SIZE);
        pollIntervalMs = config.getLong(SqliteSourceConfig.POLL_INTERVAL_MS);
        records = new EventRecords(config.getString(SqliteSourceConfig.TOPIC_PREFIX),
                config.getString(SqliteSourceConfig.SOURCE_NAME), config.getInt(SqliteSourceConfig.TOPIC_PARTITIONS));
        try {
            readConnection = SqliteFile.open(path);
            commitConnection = SqliteFile.openForWrites(path);
            trimmer = new ChangelogTrimmer(path);
            changelog = new ChangelogReader(readConnection);
            ChangeCapture.Installation installation = refreshCapture();
            captureId = installation.captureId();
            SourceOffset offset = SourceOffset.fromMap(context.offsetStorageReader().offset(records.sourcePartition()));
            if (offset != null && offset.streaming() && captureId.equals(offset.captureId())) {
                lastSeq = offset.seq();
                // Whatever changed while ferry was stopped: every table's shape again (idempotent for the writer),
                // and a new read of the tables that are new, were rebuilt, changed shape, or were being read when it stopped.
                Set<String> again = new LinkedHashSet<>(installation.newlyCaptured());
                again.addAll(offset.resnapshot());
                tables.values().stream().filter(t -> !t.shapeDigest().equals(offset.shapes().get(t.name())))
                        .forEach(t -> again.add(t.name()));
                again.retainAll(tables.keySet());
                LOG.info("resuming the changelog of {} after seq {}{}", path, lastSeq, again.isEmpty() ? "" : "; reading " + again + " again");
                if (!again.isEmpty()) {
                    startSnapshot(again, false);
                }
                Map<String, Object> schemaOffset = snapshot != null ? snapshotProgressOffset() : streamOffset();
                tables.values().forEach(t -> pendingSchemas.addAll(records.schema(t, !beingRead(t), schemaOffset)));
            } else {
                if (offset != null) {
                    LOG.info("{}: starting a new snapshot ({})", path, offset.streaming()
                            ? "the changelog was created anew since the last run" : "the previous snapshot did not finish");
                }
                startSnapshot(tables.keySet(), true);
                tables.values().forEach(t -> pendingSchemas.addAll(records.schema(t, false, snapshotProgressOffset())));
            }
        } catch (SQLException e) {
            throw new ConnectException("cannot start capturing " + path + ": " + e.getMessage(), e);
        }
    }

    private void startSnapshot(Set<String> names, boolean initial) throws SQLException {
        List<TableInfo> selected = tables.values().stream().filter(t -> names.contains(t.name())).toList();
        snapshot = new SnapshotReader(readConnection, selected);
        initialSnapshot = initial;
        snapshotTables = new LinkedHashSet<>(names);
        snapshotFinished = new LinkedHashSet<>();
        snapshotTable = null;
        snapshotRows = 0;
        if (initial) {
            lastSeq = snapshot.highWaterMark();
            LOG.info("snapshot of {} table(s) of {} started at changelog mark {}", selected.size(), path, lastSeq);
        }
    }

    @Override
    public List<SourceRecord> poll() throws InterruptedException {
        try {
            List<SourceRecord> out = new ArrayList<>(pendingSchemas);
            pendingSchemas.clear();
            if (snapshot != null) {
                pollSnapshot(out);
                return out;
            }
            pollChangelog(out);
            if (out.isEmpty()) {
                Thread.sleep(pollIntervalMs);
                return null;
            }
            return out;
        } catch (SQLException e) {
            throw new ConnectException("reading " + path + " failed: " + e.getMessage(), e);
        }
    }

    private Map<String, Object> streamOffset() {
        return streamOffset(lastSeq);
    }

    private Map<String, Object> streamOffset(long seq) {
        return new SourceOffset(SourceOffset.STREAM, seq, captureId, schemaVersion, shapes, Set.of()).toMap();
    }

    private Map<String, Object> snapshotProgressOffset() {
        return initialSnapshot
                ? new SourceOffset(SourceOffset.SNAPSHOT, lastSeq, captureId, schemaVersion, shapes, Set.of()).toMap()
                : new SourceOffset(SourceOffset.STREAM, lastSeq, captureId, schemaVersion, shapes, snapshotTables).toMap();
    }

    private void pollSnapshot(List<SourceRecord> out) throws SQLException {
        long now = System.currentTimeMillis();
        Map<String, Object> offset = snapshotProgressOffset();
        boolean done = false;
        while (out.size() < batchSize) {
            SnapshotReader.Row row = snapshot.next();
            if (row == null) {
                done = true;
                break;
            }
            if (snapshotTable != null && !snapshotTable.equals(row.table().name())) {
                finishSnapshotOf(snapshotTable, out, offset);
            }
            snapshotTable = row.table().name();
            out.addAll(records.change(row.table(), Op.r, records.keyOf(row.table(), row.image()), row.image(),
                    lastSeq, true, now, offset));
            snapshotRows++;
        }
        if (!done) {
            return;
        }
        snapshot.close();
        snapshot = null;
        // Tables read last, and empty ones: their schema event with snapshot_done (so out is empty only without tables).
        for (String name : snapshotTables) {
            finishSnapshotOf(name, out, offset);
        }
        LOG.info("snapshot of {} done: {} row(s); streaming the changelog after seq {}", snapshotTables, snapshotRows, lastSeq);
        if (!out.isEmpty()) {
            // The last record carries the stream offset: a restart after it streams instead of snapshotting again.
            RecordLabels.Labelled last = (RecordLabels.Labelled) out.remove(out.size() - 1);
            out.add(last.withOffset(streamOffset()));
        }
    }

    /**
     * After the last snapshot row of a table: its schema event again, with snapshot_done, so that the writer builds
     * indexes and constraints once after the bulk load instead of maintaining them row by row.
     */
    private void finishSnapshotOf(String name, List<SourceRecord> out, Map<String, Object> offset) {
        TableInfo table = tables.get(name);
        if (table != null && snapshotFinished.add(name)) {
            out.addAll(records.schema(table, true, offset));
        }
    }

    /** True while a snapshot is reading the table (its rows are not all on the topic yet). */
    private boolean beingRead(TableInfo table) {
        return snapshot != null && snapshotTables.contains(table.name()) && !snapshotFinished.contains(table.name());
    }

    private void pollChangelog(List<SourceRecord> out) throws SQLException {
        // One read transaction: the schema version checked is the schema the row lookups see.
        readConnection.setAutoCommit(false);
        try {
            if (SchemaReader.schemaVersion(readConnection) == schemaVersion) {
                ChangelogReader.Batch batch = changelog.read(lastSeq, batchSize, tables);
                for (ChangelogReader.Change change : batch.changes()) {
                    out.addAll(records.change(change.table(), Op.valueOf(change.op()), change.key(), change.image(), change.seq(), false,
                            change.commitTsMs(), streamOffset(change.seq())));
                }
                lastSeq = batch.lastSeq();
                return;
            }
        } finally {
            readConnection.commit();
            readConnection.setAutoCommit(true);
        }
        onSchemaChange(out);
    }

    /**
     * The schema changed: triggers are made to match the tables again, and every table's schema event is sent
     * (they are idempotent for the writer, and they tell that the new schema version reached Kafka). Tables that
     * are new, were rebuilt or changed columns are read again: an added column with a default has a value in
     * every existing row, which only a fresh read carries over.
     */
    private void onSchemaChange(List<SourceRecord> out) throws SQLException {
        Map<String, String> before = shapes;
        ChangeCapture.Installation installation = refreshCapture();
        changelog.forgetTables();
        Set<String> again = new LinkedHashSet<>(installation.newlyCaptured());
        tables.values().stream().filter(t -> !t.shapeDigest().equals(before.get(t.name()))).forEach(t -> again.add(t.name()));
        if (!again.isEmpty()) {
            LOG.info("tables {} are new or changed shape: reading them again", again);
            startSnapshot(again, false);
        }
        Map<String, Object> offset = snapshot != null ? snapshotProgressOffset() : streamOffset();
        tables.values().forEach(t -> out.addAll(records.schema(t, !beingRead(t), offset)));
        if (snapshot != null) {
            pollSnapshot(out);
        }
    }

    /** Tables (with their shape digest) already warned about as keyed by rowid. */
    private final Set<String> rowidWarned = new java.util.HashSet<>();
    /** The virtual tables and views last reported as not copied ({@link SchemaReader#notCopied}). */
    private List<SchemaReader.NotCopied> notCopied = List.of();

    /** Reads the tables and makes the triggers match them; the schema version is read after, as installing changes it. */
    private ChangeCapture.Installation refreshCapture() throws SQLException {
        List<TableInfo> read = SchemaReader.readTables(readConnection, include);
        ChangeCapture.Installation installation = ChangeCapture.install(commitConnection, read);
        records.forgetTables();
        if (!installation.newlyCaptured().isEmpty()) {
            read = SchemaReader.readTables(readConnection, include);
        }
        Map<String, TableInfo> byName = new LinkedHashMap<>();
        Map<String, String> digests = new LinkedHashMap<>();
        read.forEach(t -> {
            byName.put(t.name(), t);
            digests.put(t.name(), t.shapeDigest());
        });
        tables = byName;
        shapes = digests;
        schemaVersion = SchemaReader.schemaVersion(readConnection);
        // Once per table and shape, not at every read of the schema.
        read.stream().filter(t -> t.keyedByRowid() && rowidWarned.add(t.name() + '\u0000' + t.shapeDigest()))
                .forEach(t -> LOG.warn(t.rowidKeyReason()));
        List<SchemaReader.NotCopied> skipped = SchemaReader.notCopied(readConnection, include);
        if (!skipped.equals(notCopied)) {
            notCopied = skipped;
            skipped.forEach(o -> LOG.warn("{} not copied: ferry copies tables, not virtual tables or views; {}", o, o.hint()));
        }
        return installation;
    }

    /** Called after the worker stored the offsets: changelog rows up to the committed seq can go. */
    @Override
    public void commit() {
        SourceOffset offset = SourceOffset.fromMap(context.offsetStorageReader().offset(records.sourcePartition()));
        if (offset == null || !offset.streaming() || !captureId.equals(offset.captureId())) {
            return;
        }
        trimmer.request(offset.seq());
    }

    @Override
    public void stop() {
        closeQuietly(trimmer);
        closeQuietly(snapshot);
        closeQuietly(changelog);
        closeQuietly(readConnection);
        closeQuietly(commitConnection);
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
