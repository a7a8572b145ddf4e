package dev.ferry.ingest;

import dev.ferry.ingest.connect.SqliteSourceConfig;
import dev.ferry.ingest.connect.SourceOffset;
import dev.ferry.ingest.connect.SqliteSourceConnector;
import dev.ferry.ingest.connect.TaskOffsets;
import dev.ferry.schemas.EventCodec;
import dev.ferry.schemas.DeadLetterHeaders;
import dev.ferry.schemas.KafkaTopics;
import dev.ferry.schemas.TopicNames;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the SQLite source connector's task in this process and writes its records to Kafka, as a Kafka Connect
 * worker would (docs/adr/0005-own-task-loop.md): poll the task, send the records, and once Kafka acknowledged a
 * batch, note its offset; the noted offset is stored from time to time and the task told ({@link SourceTask#commit}),
 * so the stored offset (and the changelog trimming that follows it) never runs ahead of what Kafka holds.
 */
public final class IngestService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(IngestService.class);

    /** What the service needs besides the connector options. */
    public record Settings(Path sqlitePath, String sourceName, String bootstrapServers, Path offsetsFile,
                           String topicPrefix, int topicPartitions, Map<String, String> connectorOverrides) {
    }

    private static final Integer SINGLE_PARTITION = 0;

    /** Room for the record's own framing and headers within the size limit. */
    private static final int RECORD_OVERHEAD_BYTES = 64 * 1024;

    private final Settings settings;
    /** Kafka's clients, made by the ingest thread before its first send, once Kafka is up ({@link #start(CompletableFuture)}). */
    private volatile KafkaClients kafka;
    private volatile CompletableFuture<?> kafkaReady = CompletableFuture.completedFuture(null);
    private final MeterRegistry registry;
    private final Set<String> knownTopics = new HashSet<>();
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "ferry-ingest"));
    private final AtomicLong producedSeq = new AtomicLong(-1);
    private final AtomicLong recordsSent = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean snapshotDone;
    private volatile boolean resnapshotting;
    private volatile long producedSchemaVersion = -1;
    /** Set once the task loop is handed to its thread: only then is there a loop to wait for. */
    private volatile boolean running;
    /** Set by {@link #close()}: the task loop ends after the poll under way. */
    private volatile boolean stopping;
    /** Set by {@link #kill()}: the task loop ends without storing offsets, as a crash would. */
    private volatile boolean killed;
    private final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
    private SourceTask task;
    private TaskOffsets offsets;
    private long lastFlushMs;
    private final IngestMetrics metrics;

    /** A service whose meters nobody reads (tests, tools). */
    public IngestService(Settings settings) {
        this(settings, new SimpleMeterRegistry());
    }

    /** A service that records its meters (docs/metrics.md) and its producer's client metrics in {@code registry}. */
    public IngestService(Settings settings, MeterRegistry registry) {
        this.settings = settings;
        this.registry = registry;
        metrics = new IngestMetrics(registry, settings.sourceName(), settings.sqlitePath(), this::producedSeq);
    }

    /** The producer, the admin client and the producer's meters. */
    private record KafkaClients(KafkaProducer<byte[], byte[]> producer, Admin admin, KafkaClientMetrics producerMetrics) {

        void close() {
            producerMetrics.close();
            producer.close(java.time.Duration.ofSeconds(10));
            admin.close(java.time.Duration.ofSeconds(10));
        }
    }

    /**
     * The Kafka clients, made on first use: after {@code kafkaReady}, so that clients never knock at a broker still
     * starting (each refused connection would be a warning). Ingest thread.
     */
    private KafkaClients kafka() {
        KafkaClients k = kafka;
        if (k != null) {
            return k;
        }
        try {
            kafkaReady.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new org.apache.kafka.common.errors.InterruptException(e);
        } catch (ExecutionException | java.util.concurrent.CancellationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("Kafka did not start: " + cause.getMessage(), cause);
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // One request in flight: a batch refused right after its topic was created (no leader yet) is retried before any
        // later batch goes out. With several in flight, the later ones can land first and the retry is then refused as
        // out of order for ever (seen with the KRaft broker under load).
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(TopicNames.MAX_RECORD_BYTES));
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "600000");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "ferry-ingest-" + settings.sourceName());
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers()));
        KafkaClientMetrics producerMetrics = new KafkaClientMetrics(producer);
        producerMetrics.bindTo(registry);
        k = new KafkaClients(producer, admin, producerMetrics);
        kafka = k;
        return k;
    }

    /** Starts capture; Kafka must be up. */
    public void start() throws IOException {
        start(CompletableFuture.completedFuture(null));
    }

    /**
     * Starts capture while Kafka may still be starting: the connector opens SQLite, installs its triggers and reads the
     * first rows at once, and its first batch waits for {@code kafkaReady}. If that fails, the ingest stops with it.
     */
    public void start(CompletableFuture<?> kafkaReady) throws IOException {
        this.kafkaReady = kafkaReady;
        Files.createDirectories(settings.offsetsFile().toAbsolutePath().getParent());
        Map<String, String> props = new java.util.HashMap<>();
        props.put(SqliteSourceConfig.SQLITE_PATH, settings.sqlitePath().toAbsolutePath().toString());
        props.put(SqliteSourceConfig.SOURCE_NAME, settings.sourceName());
        props.put(SqliteSourceConfig.TOPIC_PREFIX, settings.topicPrefix());
        props.put(SqliteSourceConfig.TOPIC_PARTITIONS, Integer.toString(settings.topicPartitions()));
        props.putAll(settings.connectorOverrides());
        executor.execute(() -> runTask(props));
        running = true;
        LOG.info("ingest of {} started (source {}, Kafka {})", settings.sqlitePath(), settings.sourceName(), settings.bootstrapServers());
    }

    /** The connector's name: the namespace of its offsets (the Debezium engine before ferry's own loop used it too). */
    private String connectorName() {
        return "ferry-ingest-" + settings.sourceName();
    }

    /**
     * The task's life, on the ingest thread: start, poll and send until {@link #close()} or {@link #kill()}, then
     * store the offsets Kafka acknowledged (not after a kill) and stop. A failure stops the loop and is kept for
     * {@link #failure()}; nothing after the last stored offset is lost, it is read again at the next start.
     */
    private void runTask(Map<String, String> props) {
        boolean started = false;
        try {
            SqliteSourceConnector connector = new SqliteSourceConnector();
            List<String> invalid = connector.validate(props).configValues().stream()
                    .filter(v -> !v.errorMessages().isEmpty())
                    .map(v -> v.name() + ": " + String.join("; ", v.errorMessages()))
                    .toList();
            if (!invalid.isEmpty()) {
                throw new ConfigException("invalid connector option(s): " + String.join(", ", invalid));
            }
            connector.start(props);
            Map<String, String> taskConfig = connector.taskConfigs(1).get(0);
            offsets = new TaskOffsets(settings.offsetsFile(), connectorName());
            task = new dev.ferry.ingest.connect.SqliteSourceTask();
            task.initialize(offsets.taskContext(taskConfig));
            task.start(taskConfig);
            started = true;
            while (!stopping) {
                List<SourceRecord> batch = task.poll();
                boolean drained = batch == null || batch.isEmpty();
                if (!drained) {
                    send(batch);
                }
                // Once the changelog is drained, what Kafka holds is stored (and trimmed) soon: the backlog a status
                // shows is then 0, not up to a second behind.
                maybeFlushOffsets(drained ? DRAINED_FLUSH_SPACING_MS : OFFSET_FLUSH_INTERVAL_MS);
            }
            maybeFlushOffsets(0);
        } catch (Throwable e) {
            // An interrupt from kill() or close() surfaces in many shapes (InterruptedException, a closed channel, an
            // interrupted SQLite call): only an error while running is a failure.
            if (!stopping) {
                fail(e);
            }
        } finally {
            if (started) {
                try {
                    task.stop();
                } catch (RuntimeException e) {
                    LOG.warn("stopping the SQLite capture task: {}", e.getMessage(), e);
                }
            }
            if (offsets != null) {
                offsets.close();
            }
            stopped.countDown();
        }
    }

    private void fail(Throwable e) {
        LOG.error("ingest stopped: {}", e.getMessage(), e);
        failure.compareAndSet(null, e);
    }

    /**
     * Stores the offsets noted since the last store unless the last store is less than {@code spacingMs} old, then
     * lets the task trim what they cover. Not after a kill: a crash stores nothing either.
     */
    private void maybeFlushOffsets(long spacingMs) throws InterruptedException {
        long time = System.currentTimeMillis();
        if (killed || time - lastFlushMs < spacingMs) {
            return;
        }
        if (offsets.flush(OFFSET_FLUSH_TIMEOUT_MS)) {
            lastFlushMs = time;
            task.commit();
        }
    }

    /** How often the acknowledged offset is stored (and the changelog trimmed) while batches keep coming. */
    private static final long OFFSET_FLUSH_INTERVAL_MS = 1000;
    /**
     * Least time between two stores when the changelog is drained: a trickle of changes then trims at most ten times a
     * second, each a short write transaction in the application's SQLite file.
     */
    private static final long DRAINED_FLUSH_SPACING_MS = 100;
    private static final long OFFSET_FLUSH_TIMEOUT_MS = 30_000;

    /** A batch handed to the producer, with its acknowledgements still to come. */
    private record InFlight(List<SourceRecord> batch, List<Future<RecordMetadata>> acks) {
    }

    /** Batches sent, not yet marked processed; oldest first. Ingest thread only. */
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();

    /**
     * Sends a batch. A batch is marked processed only once Kafka acknowledged all of it, in order. While the first
     * snapshot is read, one batch may wait for its acknowledgements while the task reads the next: an interrupted
     * first snapshot starts over whatever offset was stored, so nothing depends on marking it early, and the
     * snapshot's last batch carries the stream offset, which waits for everything before it. Any other batch is
     * marked before this returns, so the stored offset, the changelog trimming and {@link #producedSeq()} follow it
     * at once.
     */
    private void send(List<SourceRecord> batch) throws InterruptedException {
        List<Future<RecordMetadata>> acks = new ArrayList<>(batch.size());
        ensureTopics(batch);
        KafkaProducer<byte[], byte[]> producer = kafka().producer();
        boolean initialSnapshot = true;
        // The records of a snapshot batch share one offset map: it is looked into once, not once per record.
        Map<String, ?> lastOffset = null;
        for (SourceRecord r : batch) {
            if (r.sourceOffset() != lastOffset) {
                lastOffset = r.sourceOffset();
                initialSnapshot &= !SourceOffset.isStream(lastOffset);
            }
            byte[] key = (byte[]) r.key();
            byte[] value = (byte[]) r.value();
            if (value != null && key.length + value.length > TopicNames.MAX_RECORD_BYTES - RECORD_OVERHEAD_BYTES) {
                acks.add(sendTooLarge(r, key, value));
                continue;
            }
            // With one partition there is nothing to choose: naming it spares the producer hashing every key.
            Integer partition = r.kafkaPartition() != null || settings.topicPartitions() != 1 ? r.kafkaPartition() : SINGLE_PARTITION;
            acks.add(producer.send(new ProducerRecord<>(r.topic(), partition, r.timestamp(), key, value)));
        }
        inFlight.addLast(new InFlight(batch, acks));
        while (inFlight.size() > (initialSnapshot ? 1 : 0)) {
            markAcknowledged(inFlight.removeFirst());
        }
    }

    private void markAcknowledged(InFlight sent) throws InterruptedException {
        List<SourceRecord> batch = sent.batch();
        try {
            for (Future<RecordMetadata> ack : sent.acks()) {
                ack.get();
            }
        } catch (ExecutionException e) {
            // Throwing stops the task before any offset of this batch is stored: nothing is lost, the batch is read again on restart.
            throw new IllegalStateException("Kafka did not accept a batch of " + batch.size() + " record(s): " + e.getCause().getMessage(), e.getCause());
        }
        try {
            metrics.acknowledged(batch);
        } catch (RuntimeException e) {
            // Metrics only describe the data: a fault in them must not stop the data.
            LOG.warn("cannot count a batch of {} record(s) in the metrics: {}", batch.size(), e.getMessage(), e);
        }
        Map<String, ?> lastOffset = null;
        for (SourceRecord r : batch) {
            Map<String, ?> offset = r.sourceOffset();
            if (offset != lastOffset && SourceOffset.isStream(offset)) {
                snapshotDone = true;
                resnapshotting = SourceOffset.isResnapshot(offset);
                producedSeq.accumulateAndGet(SourceOffset.seq(offset), Math::max);
                producedSchemaVersion = SourceOffset.schemaVersion(offset);
            }
            lastOffset = offset;
        }
        // Records come in offset order, all of one source partition: the last one's offset covers the batch.
        SourceRecord last = batch.get(batch.size() - 1);
        offsets.record(last.sourcePartition(), last.sourceOffset());
        recordsSent.addAndGet(batch.size());
    }

    /**
     * A row too large for Kafka would stop capture for every table, batch after batch. It goes to the dead-letter
     * topic instead, as its key and the reason (the row itself cannot travel), and capture goes on; once the row is
     * smaller, {@code ferry dlq retry} reads it again.
     */
    private Future<RecordMetadata> sendTooLarge(SourceRecord r, byte[] key, byte[] value) {
        String table = r.topic();
        String column = null;
        long largest = 0;
        try {
            dev.ferry.schemas.avro.ChangeEvent change = EventCodec.decodeChange(value);
            table = change.getSource().getTable();
            for (Map.Entry<String, Object> e : change.getAfter().entrySet()) {
                long size = e.getValue() instanceof ByteBuffer b ? b.remaining()
                        : e.getValue() instanceof String t ? t.getBytes(StandardCharsets.UTF_8).length : 0;
                if (size > largest) {
                    largest = size;
                    column = e.getKey();
                }
            }
        } catch (RuntimeException e) {
            LOG.debug("cannot look inside an oversized record of {}: {}", r.topic(), e.getMessage());
        }
        String reason = "row too large for Kafka: its record is " + (key.length + value.length) + " bytes, over the "
                + TopicNames.MAX_RECORD_BYTES + "-byte limit" + (column == null ? "" : "; column \"" + column + "\" holds " + largest + " bytes");
        LOG.warn("dead letter from table \"{}\": {}", table, reason);
        String topic = TopicNames.deadLetterTopic(settings.topicPrefix(), settings.sourceName());
        ensureTopic(topic, 1, TopicNames.DEAD_LETTER_TOPIC_CONFIG);
        var headers = DeadLetterHeaders.of(reason, r.topic(), null, null, table, column);
        return kafka().producer().send(new ProducerRecord<>(topic, null, r.timestamp(), key, null, headers));
    }

    /** The table topics of a batch that are new to this service, created together (the first batch names every table). */
    private void ensureTopics(List<SourceRecord> batch) {
        Set<String> unknown = new java.util.LinkedHashSet<>();
        String last = null;
        for (SourceRecord r : batch) {
            String topic = r.topic();
            if (!topic.equals(last) && !knownTopics.contains(topic)) {
                unknown.add(topic);
            }
            last = topic;
        }
        if (!unknown.isEmpty()) {
            ensureTopic(unknown, settings.topicPartitions(), Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                    TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(TopicNames.MAX_RECORD_BYTES)));
        }
    }

    private void ensureTopic(String topic, int partitions, Map<String, String> config) {
        if (!knownTopics.contains(topic)) {
            ensureTopic(Set.of(topic), partitions, config);
        }
    }

    private void ensureTopic(Set<String> topics, int partitions, Map<String, String> config) {
        KafkaClients k = kafka();
        KafkaTopics.ensure(k.admin(), topics, partitions, config);
        for (String topic : topics) {
            KafkaTopics.awaitLeaders(k.producer(), topic, java.time.Duration.ofSeconds(60));
        }
        knownTopics.addAll(topics);
    }

    /** Highest changelog seq whose records Kafka acknowledged; -1 before the snapshot is done. */
    public long producedSeq() {
        return snapshotDone ? Math.max(producedSeq.get(), 0) : -1;
    }

    /** True once the first snapshot is in Kafka and no table is being read again (after a schema change). */
    public boolean snapshotDone() {
        return snapshotDone && !resnapshotting;
    }

    /** SQLite's schema_version when the last acknowledged record was read: below the file's, a schema change is not yet in Kafka. */
    public long producedSchemaVersion() {
        return producedSchemaVersion;
    }

    public long recordsSent() {
        return recordsSent.get();
    }

    /** The error that stopped the ingest, if it stopped on one. */
    public Throwable failure() {
        return failure.get();
    }

    /**
     * Stops abruptly, as a crash would: the ingest thread is interrupted mid-batch, so records may be in Kafka
     * whose offsets were never stored. A restart reads them again; the writer's upserts absorb the repeat.
     */
    public void kill() {
        killed = true;
        stopping = true;
        executor.shutdownNow();
        close();
    }

    /** Stops after the poll under way, storing the offsets Kafka acknowledged. */
    @Override
    public void close() {
        stopping = true;
        executor.shutdown();
        try {
            // A poll ends within the poll interval or one batch; waiting for Kafka to start is interrupted.
            if (running && !stopped.await(10, TimeUnit.SECONDS)) {
                LOG.warn("ingest still busy 10 s after it was asked to stop; interrupting it");
                executor.shutdownNow();
                if (!stopped.await(50, TimeUnit.SECONDS)) {
                    LOG.warn("ingest did not stop within 60 s");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        metrics.close();
        KafkaClients k = kafka;
        if (k != null) {
            k.close();
        }
    }
}
