package dev.ferry.ingest;

import dev.ferry.ingest.connect.RecordLabels;
import dev.ferry.ingest.connect.SourceOffset;
import dev.ferry.ingest.sqlite.ChangeCapture;
import dev.ferry.ingest.sqlite.SqlIdentifiers;
import dev.ferry.ingest.sqlite.SqliteFile;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.LongSupplier;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingest side's meters (names and meanings in docs/metrics.md). Records are counted once Kafka acknowledged
 * them, so the counters never run ahead of what Kafka holds. Snapshot progress is followed from the acknowledged
 * records: a table's read starts with its first {@code op=r} record, ends when another table's read starts or when
 * a record carries a stream offset with no table being read again.
 */
final class IngestMetrics implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(IngestMetrics.class);

    /** The values of the {@code op} label: the change event's op, or the kind of record. */
    private static final List<String> OPS = List.of("r", "c", "u", "d", "tombstone", "schema");

    private final MeterRegistry registry;
    private final String source;
    private final Path sqlitePath;
    private final Map<String, Counter> records = new ConcurrentHashMap<>();
    /** Topic → SQLite table, learned from the schema events: for records without labels. Ingest thread only. */
    private final Map<String, String> tableOfTopic = new HashMap<>();
    private final Map<String, SnapshotProgress> snapshots = new ConcurrentHashMap<>();
    private final List<Meter> gauges = new CopyOnWriteArrayList<>();
    /** Counts a table's rows off the ingest thread: a full count of a big table takes seconds. */
    private final ExecutorService counter = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "ferry-ingest-metrics");
        t.setDaemon(true);
        return t;
    });
    /** A read connection of the metrics only, for the backlog gauge and row counts; guarded by {@code this}. */
    private Connection sqlite;
    private volatile boolean snapshotting;

    IngestMetrics(MeterRegistry registry, String source, Path sqlitePath, LongSupplier producedSeq) {
        this.registry = registry;
        this.source = source;
        this.sqlitePath = sqlitePath;
        gauges.add(Gauge.builder("ferry.ingest.changelog.backlog", this, m -> m.backlog(producedSeq.getAsLong()))
                .description("Changelog entries in the SQLite file after the last seq known to be in Kafka")
                .tag("source", source).register(registry));
    }

    /**
     * Counts the records of a batch Kafka acknowledged, and follows the snapshot through them. Ingest thread. The
     * labels come from the records' {@link RecordLabels} headers, so nothing is decoded here.
     */
    void acknowledged(List<SourceRecord> batch) {
        // Runs of records of one table and op (a snapshot batch is one run) are counted at once.
        Counter run = null;
        String runTable = null;
        String runOp = null;
        long runLength = 0;
        // The records of a snapshot batch share one offset map: it is looked into once per map, not once per record.
        Map<String, ?> lastOffset = null;
        boolean snapshotEnds = false;
        for (SourceRecord r : batch) {
            String table = RecordLabels.table(r);
            String op = RecordLabels.op(r);
            if (table == null || op == null) {
                table = tableOfTopic.getOrDefault(r.topic(), "");
                op = "unknown";
            } else if (op.equals(RecordLabels.SCHEMA)) {
                if (!tableOfTopic.containsKey(r.topic())) {
                    // Every op at 0 from the start, so that rate() and increase() see a table's first records.
                    String t = table;
                    OPS.forEach(o -> counter(t, o));
                }
                if (!SourceOffset.isStream(r.sourceOffset())) {
                    // The first snapshot sends every table's schema first: each table is waiting to be read.
                    snapshots.computeIfAbsent(table, this::newProgress);
                    snapshotting = true;
                }
                tableOfTopic.put(r.topic(), table);
            } else if (op.equals("r")) {
                // Only snapshot reads emit op r.
                snapshotRow(table);
            }
            if (run == null || !table.equals(runTable) || !op.equals(runOp)) {
                if (run != null) {
                    run.increment(runLength);
                }
                run = counter(table, op);
                runTable = table;
                runOp = op;
                runLength = 0;
            }
            runLength++;
            if (r.sourceOffset() != lastOffset) {
                lastOffset = r.sourceOffset();
                snapshotEnds = SourceOffset.isStream(lastOffset) && !SourceOffset.isResnapshot(lastOffset);
            }
            if (snapshotting && snapshotEnds) {
                // The last record of a snapshot carries the stream offset.
                snapshots.values().forEach(SnapshotProgress::finish);
                snapshotting = false;
            }
        }
        if (run != null) {
            run.increment(runLength);
        }
    }

    private Counter counter(String table, String op) {
        return records.computeIfAbsent(table + '\u0000' + op, k -> Counter.builder("ferry.ingest.records")
                .description("Records Kafka acknowledged, by SQLite table and op (r, c, u, d, tombstone, schema)")
                .tag("source", source).tag("table", table).tag("op", op).register(registry));
    }

    private void snapshotRow(String table) {
        SnapshotProgress known = snapshots.get(table);
        // get first: computeIfAbsent would allocate its function for every row.
        SnapshotProgress progress = known != null ? known : snapshots.computeIfAbsent(table, this::newProgress);
        if (progress.state != SnapshotProgress.READING) {
            // Tables are read one after the other: this one starting means the one before is done.
            snapshots.values().stream().filter(p -> p.state == SnapshotProgress.READING).forEach(SnapshotProgress::finish);
            progress.start();
            snapshotting = true;
            long generation = progress.generation;
            counter.execute(() -> progress.expect(generation, countRows(table)));
        }
        progress.rows++;
    }

    private SnapshotProgress newProgress(String table) {
        SnapshotProgress p = new SnapshotProgress();
        gauges.add(Gauge.builder("ferry.snapshot.rows", p, x -> x.rows)
                .description("Rows of the table's current or last snapshot read that Kafka acknowledged")
                .tag("source", source).tag("table", table).register(registry));
        gauges.add(Gauge.builder("ferry.snapshot.rows.expected", p, x -> x.expected)
                .description("Rows the table held when its snapshot read started (counted apart, approximate); the rows read once done")
                .tag("source", source).tag("table", table).register(registry));
        gauges.add(Gauge.builder("ferry.snapshot.done", p, x -> x.state == SnapshotProgress.DONE ? 1 : 0)
                .description("1 once the table's snapshot read is entirely in Kafka, 0 while it waits or is being read")
                .tag("source", source).tag("table", table).register(registry));
        return p;
    }

    /** Written by the ingest thread, read by scrapes. */
    private static final class SnapshotProgress {
        static final int WAITING = 0;
        static final int READING = 1;
        static final int DONE = 2;
        volatile int state = WAITING;
        volatile long rows;
        volatile double expected = Double.NaN;
        volatile long generation;

        synchronized void start() {
            generation++;
            rows = 0;
            expected = Double.NaN;
            state = READING;
        }

        synchronized void expect(long ofGeneration, long count) {
            if (generation == ofGeneration && state == READING && count >= 0) {
                expected = count;
            }
        }

        synchronized void finish() {
            if (state != DONE) {
                state = DONE;
                // What the read produced is the exact total; the count was taken on another connection, at another moment.
                expected = rows;
            }
        }
    }

    private synchronized long countRows(String table) {
        try (Statement st = connection().createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM " + SqlIdentifiers.quote(table))) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            LOG.debug("cannot count the rows of \"{}\" for the snapshot progress: {}", table, e.getMessage());
            return -1;
        }
    }

    private synchronized double backlog(long producedSeq) {
        try {
            Connection c = connection();
            return ChangeCapture.installed(c) ? ChangeCapture.backlog(c, producedSeq) : 0;
        } catch (SQLException e) {
            LOG.debug("cannot read the changelog backlog of {}: {}", sqlitePath, e.getMessage());
            closeConnection();
            return Double.NaN;
        }
    }

    private Connection connection() throws SQLException {
        if (sqlite == null) {
            sqlite = SqliteFile.open(sqlitePath);
        }
        return sqlite;
    }

    private synchronized void closeConnection() {
        if (sqlite != null) {
            try {
                sqlite.close();
            } catch (SQLException e) {
                LOG.debug("closing the metrics connection to {} failed: {}", sqlitePath, e.getMessage());
            }
            sqlite = null;
        }
    }

    /**
     * Removes the gauges, which read this instance: a restarted service registers its own. Counters stay, so they
     * keep counting across restarts within the process.
     */
    @Override
    public void close() {
        gauges.forEach(registry::remove);
        counter.shutdownNow();
        closeConnection();
    }
}
