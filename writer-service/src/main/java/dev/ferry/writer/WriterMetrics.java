package dev.ferry.writer;

import dev.ferry.schemas.TopicNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;

/**
 * The writer's meters (names and meanings in docs/metrics.md). Everything is measured by the writer thread from
 * what it polled and committed; scrapes only read volatile fields.
 *
 * <p>Replication lag in seconds, per partition: 0 when the writer has applied everything up to the partition's
 * high watermark (so an idle table reads 0, with no heartbeat needed); otherwise now minus the Kafka timestamp
 * (the SQLite commit time, {@code source.ts_ms}) of the oldest record not yet applied. Every poll starts at the
 * applied position, so the oldest waiting record is among the ones it returns: the smallest of their timestamps.
 * Between a commit and the next poll, while records remain, the commit time of the last applied record stands in
 * (the next one was committed no earlier, bar clock steps). Before a partition's first record was applied, the
 * moment its lag was first seen does (a lower bound of the age).
 */
final class WriterMetrics implements AutoCloseable {

    private static final Duration[] LATENCY_BUCKETS = seconds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600);
    private static final Duration[] BATCH_BUCKETS = seconds(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30);

    private static final String ROWS = "ferry.writer.rows";
    private static final String ROWS_HELP = "Rows written to PostgreSQL, by SQLite table and op (upsert, delete)";
    private static final String DEAD_LETTERS = "ferry.writer.dead.letters";
    private static final String DEAD_LETTERS_HELP = "Records set aside on the dead-letter topic, by SQLite table and reason";

    private final MeterRegistry registry;
    private final String source;
    private final String group;
    private final String topicPrefix;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final DistributionSummary batchSize;
    private final Timer batchTime;
    private final Timer e2eLatency;
    private final Map<TopicPartition, PartitionLag> partitions = new ConcurrentHashMap<>();
    private final Map<String, Gauge> tableLag = new ConcurrentHashMap<>();

    /** Tables the writer reads from their .embedded topic (rows with vectors), see {@link TopicNames#embeddedTopic}. */
    private final java.util.Set<String> embeddedTables;

    WriterMetrics(MeterRegistry registry, String source, String group, String topicPrefix) {
        this(registry, source, group, topicPrefix, java.util.Set.of());
    }

    WriterMetrics(MeterRegistry registry, String source, String group, String topicPrefix, java.util.Set<String> embeddedTables) {
        this.embeddedTables = embeddedTables;
        this.registry = registry;
        this.source = source;
        this.group = group;
        this.topicPrefix = topicPrefix;
        batchSize = DistributionSummary.builder("ferry.writer.batch.size")
                .description("Kafka records in one writer transaction (one poll)")
                .serviceLevelObjectives(1, 10, 100, 500, 1000, 2000, 5000, 10000, 50000)
                .tag("source", source).register(registry);
        batchTime = Timer.builder("ferry.writer.batch")
                .description("Time to apply one poll: decode, write, store offsets, commit (row-by-row retry included)")
                .serviceLevelObjectives(BATCH_BUCKETS)
                .tag("source", source).register(registry);
        e2eLatency = Timer.builder("ferry.e2e.latency")
                .description("PostgreSQL commit time minus SQLite commit time (source.ts_ms), per applied streaming change")
                .serviceLevelObjectives(LATENCY_BUCKETS)
                .tag("source", source).register(registry);
    }

    /** Why a record went to the dead-letter topic: the {@code reason} label. */
    enum DeadLetterReason {
        /** A value the PostgreSQL column cannot hold (conversion refused it). */
        VALUE("value"),
        /** PostgreSQL refused the row (a constraint, say). */
        REFUSED("refused"),
        /** A change of a table whose schema event the writer never saw. */
        NO_SCHEMA("no_schema"),
        /** Not one of ferry's events. */
        UNKNOWN_PAYLOAD("unknown_payload");

        final String label;

        DeadLetterReason(String label) {
            this.label = label;
        }
    }

    /**
     * Registers the table's lag gauge, and its row and dead-letter counters at 0, so that {@code rate()} and
     * {@code increase()} see a table's first rows and first dead letter too; idempotent.
     */
    void table(String table) {
        counter(ROWS, ROWS_HELP, "op", new TableKey(table, "upsert"));
        counter(ROWS, ROWS_HELP, "op", new TableKey(table, "delete"));
        for (DeadLetterReason reason : DeadLetterReason.values()) {
            counter(DEAD_LETTERS, DEAD_LETTERS_HELP, "reason", new TableKey(table, reason.label));
        }
        tableLag.computeIfAbsent(table, t -> {
            String topic = embeddedTables.contains(t) ? TopicNames.embeddedTopic(topicPrefix, source, t) : TopicNames.tableTopic(topicPrefix, source, t);
            return Gauge.builder("ferry.replication.lag.seconds", this, m -> m.lagSeconds(topic, System.currentTimeMillis()))
                    .description("Seconds since the SQLite commit of the oldest change of the table not yet applied; 0 when none is waiting")
                    .tag("source", source).tag("group", group).tag("table", t).register(registry);
        });
    }

    /**
     * After each poll: the oldest unapplied record of each polled partition, and every assigned partition's lag. A
     * partition's records are in the order the ingest read them from the changelog, which is commit order, so the
     * oldest is the first one with a timestamp: no pass over every record (it showed in snapshot profiles).
     */
    void polled(ConsumerRecords<byte[], byte[]> records, Consumer<byte[], byte[]> consumer) {
        Map<TopicPartition, Integer> inFlight = new HashMap<>();
        for (TopicPartition tp : records.partitions()) {
            List<ConsumerRecord<byte[], byte[]>> polled = records.records(tp);
            long oldest = -1;
            for (ConsumerRecord<byte[], byte[]> r : polled) {
                if (r.timestamp() >= 0) {
                    oldest = r.timestamp();
                    break;
                }
            }
            PartitionLag p = partition(tp);
            p.oldestUnappliedMs = oldest;
            inFlight.put(tp, polled.size());
        }
        positions(consumer, inFlight);
    }

    /** After a poll was committed. */
    void applied(ConsumerRecords<byte[], byte[]> records, Consumer<byte[], byte[]> consumer, long nanos) {
        batchSize.record(records.count());
        batchTime.record(nanos, TimeUnit.NANOSECONDS);
        for (TopicPartition tp : records.partitions()) {
            List<ConsumerRecord<byte[], byte[]>> applied = records.records(tp);
            PartitionLag p = partition(tp);
            p.lastAppliedMs = applied.get(applied.size() - 1).timestamp();
            p.oldestUnappliedMs = -1;
        }
        positions(consumer, Map.of());
    }

    /** Lag in records of each assigned partition: its high watermark minus the applied position (position minus in-flight records). */
    private void positions(Consumer<byte[], byte[]> consumer, Map<TopicPartition, Integer> inFlight) {
        for (TopicPartition tp : consumer.assignment()) {
            OptionalLong behind = consumer.currentLag(tp);
            if (behind.isEmpty()) {
                continue;
            }
            PartitionLag p = partition(tp);
            long lag = behind.getAsLong() + inFlight.getOrDefault(tp, 0);
            if (lag > 0 && p.oldestUnappliedMs < 0) {
                // Records wait that this poll did not return: the last applied one's commit time bounds theirs from below.
                p.oldestUnappliedMs = p.lastAppliedMs >= 0 ? p.lastAppliedMs : System.currentTimeMillis();
            } else if (lag == 0) {
                p.oldestUnappliedMs = -1;
            }
            p.lagRecords = lag;
        }
    }

    private PartitionLag partition(TopicPartition tp) {
        return partitions.computeIfAbsent(tp, k -> {
            PartitionLag p = new PartitionLag(k);
            p.gauge = Gauge.builder("ferry.writer.lag.records", p, x -> x.lagRecords < 0 ? Double.NaN : x.lagRecords)
                    .description("Records of the partition not yet applied to PostgreSQL: high watermark minus the applied offset")
                    .tag("source", source).tag("group", group).tag("topic", k.topic()).tag("partition", Integer.toString(k.partition()))
                    .register(registry);
            return p;
        });
    }

    /** Partitions another writer of the group now owns: it reports them. */
    void revoked(Collection<TopicPartition> revoked) {
        for (TopicPartition tp : revoked) {
            PartitionLag p = partitions.remove(tp);
            if (p != null) {
                registry.remove(p.gauge);
            }
        }
    }

    private double lagSeconds(String topic, long nowMs) {
        long oldest = Long.MAX_VALUE;
        for (PartitionLag p : partitions.values()) {
            long ts = p.oldestUnappliedMs;
            if (p.topic.equals(topic) && p.lagRecords > 0 && ts >= 0) {
                oldest = Math.min(oldest, ts);
            }
        }
        return oldest == Long.MAX_VALUE ? 0 : Math.max(0, nowMs - oldest) / 1000.0;
    }

    /** What one transaction wrote, recorded once it committed. */
    void committed(Tally tally) {
        long pgCommitMs = System.currentTimeMillis();
        tally.rows.forEach((key, n) -> counter(ROWS, ROWS_HELP, "op", key).increment(n));
        tally.deadLetters.forEach((key, n) -> counter(DEAD_LETTERS, DEAD_LETTERS_HELP, "reason", key).increment(n));
        for (int i = 0; i < tally.streamed; i++) {
            // A clock step can put the SQLite commit after ours: counted as 0 rather than dropped.
            e2eLatency.record(Math.max(0, pgCommitMs - tally.commitTimesMs[i]), TimeUnit.MILLISECONDS);
        }
    }

    private Counter counter(String name, String description, String secondTag, TableKey key) {
        return counters.computeIfAbsent(name + '\u0000' + key.table() + '\u0000' + key.value(), k -> Counter.builder(name)
                .description(description).tag("source", source).tag("table", key.table()).tag(secondTag, key.value())
                .register(registry));
    }

    private record TableKey(String table, String value) {
    }

    /** Removes the gauges, which read this instance; counters and timers stay and keep counting across writer restarts. */
    @Override
    public void close() {
        partitions.values().forEach(p -> registry.remove(p.gauge));
        partitions.clear();
        tableLag.values().forEach(registry::remove);
        tableLag.clear();
    }

    /** The rows, dead letters and streamed commit times of one transaction attempt. Writer thread only. */
    static final class Tally {
        private final Map<TableKey, Long> rows = new HashMap<>();
        private final Map<TableKey, Long> deadLetters = new HashMap<>();
        private long[] commitTimesMs = new long[64];
        private int streamed;

        void rows(String table, String op, long n) {
            if (n > 0) {
                rows.merge(new TableKey(table, op), n, Long::sum);
            }
        }

        void deadLetter(String table, DeadLetterReason reason) {
            deadLetters.merge(new TableKey(table == null ? "" : table, reason.label), 1L, Long::sum);
        }

        /** One streaming change applied, committed in SQLite at {@code commitTsMs}. */
        void streamed(long commitTsMs) {
            if (streamed == commitTimesMs.length) {
                commitTimesMs = Arrays.copyOf(commitTimesMs, streamed * 2);
            }
            commitTimesMs[streamed++] = commitTsMs;
        }
    }

    private static final class PartitionLag {
        final String topic;
        volatile long lagRecords = -1;
        /** Kafka timestamp of the oldest unapplied record, -1 when none waits or it is not known. */
        volatile long oldestUnappliedMs = -1;
        /** Writer thread only. */
        long lastAppliedMs = -1;
        Gauge gauge;

        PartitionLag(TopicPartition tp) {
            this.topic = tp.topic();
        }
    }

    private static Duration[] seconds(double... values) {
        Duration[] out = new Duration[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Duration.ofNanos((long) (values[i] * 1e9));
        }
        return out;
    }
}
