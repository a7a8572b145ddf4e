package dev.ferry.ingest;

import dev.ferry.ingest.connect.SqliteSourceConfig;
import dev.ferry.ingest.connect.SourceOffset;
import dev.ferry.ingest.connect.SqliteSourceConnector;
import dev.ferry.schemas.EventCodec;
import dev.ferry.schemas.DeadLetterHeaders;
import dev.ferry.schemas.KafkaTopics;
import dev.ferry.schemas.TopicNames;
import io.debezium.embedded.Connect;
import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
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
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the SQLite source connector in the Debezium embedded engine and writes its records to Kafka.
 * A batch is marked processed only after Kafka acknowledged every record of it, so the engine's stored
 * offset (and the changelog trimming that follows it) never runs ahead of what Kafka holds.
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
    /** Kafka's clients, made by the engine thread before its first send, once Kafka is up ({@link #start(CompletableFuture)}). */
    private volatile KafkaClients kafka;
    private volatile CompletableFuture<?> kafkaReady = CompletableFuture.completedFuture(null);
    private final MeterRegistry registry;
    private final Set<String> knownTopics = new HashSet<>();
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "ferry-ingest"));
    private final AtomicLong producedSeq = new AtomicLong(-1);
    private final AtomicLong recordsSent = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    /** Counted down once the engine polls its task or has stopped: before that, it cannot be stopped. */
    private final java.util.concurrent.CountDownLatch settled = new java.util.concurrent.CountDownLatch(1);
    private volatile boolean snapshotDone;
    private volatile boolean resnapshotting;
    private volatile long producedSchemaVersion = -1;
    private DebeziumEngine<ChangeEvent<SourceRecord, SourceRecord>> engine;
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
     * starting (each refused connection would be a warning). Engine thread.
     */
    private KafkaClients kafka() {
        KafkaClients k = kafka;
        if (k != null) {
            return k;
        }
        try {
            kafkaReady.join();
        } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException e) {
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
        Properties props = new Properties();
        props.put("name", "ferry-ingest-" + settings.sourceName());
        props.put("connector.class", SqliteSourceConnector.class.getName());
        props.put("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
        props.put("offset.storage.file.filename", settings.offsetsFile().toAbsolutePath().toString());
        props.put("offset.flush.interval.ms", "1000");
        // One engine thread converts the records: the engine's default (a cached pool) hands every record to an idle
        // thread through a SynchronousQueue, a wake-up per record; one thread draining a queue cost 5 % less CPU in a
        // 1M-row snapshot (docs/benchmarks.md).
        props.put("record.processing.threads", "1");
        props.put(SqliteSourceConfig.SQLITE_PATH, settings.sqlitePath().toAbsolutePath().toString());
        props.put(SqliteSourceConfig.SOURCE_NAME, settings.sourceName());
        props.put(SqliteSourceConfig.TOPIC_PREFIX, settings.topicPrefix());
        props.put(SqliteSourceConfig.TOPIC_PARTITIONS, Integer.toString(settings.topicPartitions()));
        props.putAll(settings.connectorOverrides());
        engine = DebeziumEngine.create(Connect.class)
                .using(props)
                .using((success, message, error) -> {
                    if (!success) {
                        LOG.error("ingest stopped: {}", message, error);
                        failure.compareAndSet(null, error != null ? error : new IllegalStateException(message));
                    }
                    settled.countDown();
                })
                .using(new DebeziumEngine.ConnectorCallback() {
                    @Override
                    public void pollingStarted() {
                        settled.countDown();
                    }
                })
                .notifying(new DebeziumEngine.ChangeConsumer<ChangeEvent<SourceRecord, SourceRecord>>() {
                    @Override
                    public void handleBatch(List<ChangeEvent<SourceRecord, SourceRecord>> batch,
                                            DebeziumEngine.RecordCommitter<ChangeEvent<SourceRecord, SourceRecord>> committer)
                            throws InterruptedException {
                        send(batch, committer);
                    }

                    @Override
                    public boolean supportsTombstoneEvents() {
                        return true;
                    }
                })
                .build();
        executor.execute(engine);
        LOG.info("ingest of {} started (source {}, Kafka {})", settings.sqlitePath(), settings.sourceName(), settings.bootstrapServers());
    }

    /** A batch handed to the producer, with its acknowledgements still to come. */
    private record InFlight(List<ChangeEvent<SourceRecord, SourceRecord>> batch,
                            DebeziumEngine.RecordCommitter<ChangeEvent<SourceRecord, SourceRecord>> committer,
                            List<Future<RecordMetadata>> acks) {
    }

    /** Batches sent, not yet marked processed; oldest first. Engine thread only. */
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();

    /**
     * Sends a batch. A batch is marked processed only once Kafka acknowledged all of it, in order. While the first
     * snapshot is read, one batch may wait for its acknowledgements while the engine reads the next: an interrupted
     * first snapshot starts over whatever offset was stored, so nothing depends on marking it early, and the
     * snapshot's last batch carries the stream offset, which waits for everything before it. Any other batch is
     * marked before this returns, so the stored offset, the changelog trimming and {@link #producedSeq()} follow it
     * at once.
     */
    private void send(List<ChangeEvent<SourceRecord, SourceRecord>> batch,
                      DebeziumEngine.RecordCommitter<ChangeEvent<SourceRecord, SourceRecord>> committer) throws InterruptedException {
        List<Future<RecordMetadata>> acks = new ArrayList<>(batch.size());
        ensureTopics(batch);
        KafkaProducer<byte[], byte[]> producer = kafka().producer();
        boolean initialSnapshot = true;
        // The records of a snapshot batch share one offset map: it is looked into once, not once per record.
        Map<String, ?> lastOffset = null;
        for (ChangeEvent<SourceRecord, SourceRecord> event : batch) {
            SourceRecord r = event.value();
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
        inFlight.addLast(new InFlight(batch, committer, acks));
        while (inFlight.size() > (initialSnapshot ? 1 : 0)) {
            markAcknowledged(inFlight.removeFirst());
        }
    }

    private void markAcknowledged(InFlight sent) throws InterruptedException {
        List<ChangeEvent<SourceRecord, SourceRecord>> batch = sent.batch();
        try {
            for (Future<RecordMetadata> ack : sent.acks()) {
                ack.get();
            }
        } catch (ExecutionException e) {
            // Throwing stops the engine before any offset of this batch is stored: nothing is lost, the batch is read again on restart.
            throw new IllegalStateException("Kafka did not accept a batch of " + batch.size() + " record(s): " + e.getCause().getMessage(), e.getCause());
        }
        try {
            List<SourceRecord> records = new ArrayList<>(batch.size());
            for (ChangeEvent<SourceRecord, SourceRecord> event : batch) {
                records.add(event.value());
            }
            metrics.acknowledged(records);
        } catch (RuntimeException e) {
            // Metrics only describe the data: a fault in them must not stop the data.
            LOG.warn("cannot count a batch of {} record(s) in the metrics: {}", batch.size(), e.getMessage(), e);
        }
        Map<String, ?> lastOffset = null;
        for (ChangeEvent<SourceRecord, SourceRecord> event : batch) {
            sent.committer().markProcessed(event);
            Map<String, ?> offset = event.value().sourceOffset();
            if (offset != lastOffset && SourceOffset.isStream(offset)) {
                snapshotDone = true;
                resnapshotting = SourceOffset.isResnapshot(offset);
                producedSeq.accumulateAndGet(SourceOffset.seq(offset), Math::max);
                producedSchemaVersion = SourceOffset.schemaVersion(offset);
            }
            lastOffset = offset;
        }
        recordsSent.addAndGet(batch.size());
        sent.committer().markBatchFinished();
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
    private void ensureTopics(List<ChangeEvent<SourceRecord, SourceRecord>> batch) {
        Set<String> unknown = new java.util.LinkedHashSet<>();
        String last = null;
        for (ChangeEvent<SourceRecord, SourceRecord> event : batch) {
            String topic = event.value().topic();
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

    /** The error that stopped the engine, if it stopped on one. */
    public Throwable failure() {
        return failure.get();
    }

    /**
     * Stops abruptly, as a crash would: the engine thread is interrupted mid-batch, so records may be in Kafka
     * whose offsets were never stored. A restart reads them again; the writer's upserts absorb the repeat.
     */
    public void kill() {
        executor.shutdownNow();
        close();
    }

    @Override
    public void close() {
        try {
            if (engine != null) {
                // The engine refuses to stop while its task starts (it would leak what the task opened) and would then
                // run on: wait until it polls or has failed.
                if (!settled.await(30, TimeUnit.SECONDS)) {
                    LOG.warn("ingest engine still starting after 30 s; stopping it anyway");
                }
                engine.close();
            }
        } catch (IOException | IllegalStateException e) {
            // IllegalStateException: the engine already shut down, e.g. after kill() or a failure.
            LOG.debug("stopping the ingest engine: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdown();
        try {
            if (!executor.awaitTermination(60, TimeUnit.SECONDS)) {
                LOG.warn("ingest engine did not stop within 60 s");
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
