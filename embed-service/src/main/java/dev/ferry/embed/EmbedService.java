package dev.ferry.embed;

import dev.ferry.embed.model.EmbeddingException;
import dev.ferry.embed.model.EmbeddingModel;
import dev.ferry.schemas.DeadLetterHeaders;
import dev.ferry.schemas.EventCodec;
import dev.ferry.schemas.TopicNames;
import dev.ferry.schemas.avro.ChangeEvent;
import dev.ferry.schemas.avro.EmbeddingColumn;
import dev.ferry.schemas.avro.Op;
import dev.ferry.schemas.avro.RowKey;
import dev.ferry.schemas.avro.TableSchema;
import dev.ferry.schemas.KafkaTopics;
import dev.ferry.writer.pg.PgDatabase;
import dev.ferry.writer.pg.PgIdentifiers;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the table topics of the tables that have an {@link EmbeddingSpec}, adds each row's vector, and writes the
 * result to the table's {@code .embedded} topic, which the writer reads instead. Records keep their partition, key,
 * timestamp and order; texts of many records are embedded together, in batches spread over worker threads. Offsets
 * are committed to Kafka only once every output record of a batch is acknowledged, so a crash repeats work (the
 * writer's upserts make a repeat harmless) but loses nothing.
 */
public final class EmbedService implements Runnable, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbedService.class);

    /**
     * @param jdbcUrl      the target database, checked at start (vector dimension, model of stored vectors); null skips the check
     * @param batchSize    texts per model call
     * @param maxWait      longest a record waits for a batch to fill
     * @param threads      model calls running at once
     * @param cacheEntries vectors kept by content hash, so an update that leaves the text alone does not call the model
     */
    public record Settings(String bootstrapServers, String jdbcUrl, String sourceName, String topicPrefix, String targetSchema,
                           String groupId, List<EmbeddingSpec> specs, int batchSize, Duration maxWait, int threads, int cacheEntries) {

        public Settings {
            specs = List.copyOf(specs);
            if (batchSize < 1) {
                throw new IllegalArgumentException("embed batch size must be at least 1, not " + batchSize);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("embed threads must be at least 1, not " + threads);
            }
            Set<String> tables = new HashSet<>();
            for (EmbeddingSpec s : specs) {
                if (!tables.add(s.table())) {
                    throw new IllegalArgumentException("table \"" + s.table() + "\" has two embedding specs; one table takes one");
                }
            }
        }

        public static Settings defaults(String bootstrapServers, String jdbcUrl, String sourceName, List<EmbeddingSpec> specs) {
            return new Settings(bootstrapServers, jdbcUrl, sourceName, "ferry", "public", "ferry-embed-" + sourceName, specs, 32,
                    Duration.ofMillis(50), 1, 50_000);
        }

        public Settings withGroupId(String group) {
            return new Settings(bootstrapServers, jdbcUrl, sourceName, topicPrefix, targetSchema, group, specs, batchSize, maxWait, threads,
                    cacheEntries);
        }
    }

    private final Settings settings;
    private final Map<String, EmbeddingSpec> specs = new HashMap<>();
    private final Map<String, EmbeddingModel> models;
    private final Map<String, TextTemplate> templates = new HashMap<>();
    private final ContentCache cache;
    private final EmbedMetrics metrics;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final KafkaProducer<byte[], byte[]> producer;
    private final Admin admin;
    private final ExecutorService workers;
    private final KafkaClientMetrics consumerMetrics;
    private final KafkaClientMetrics producerMetrics;
    private final String deadLetterTopic;
    private final Set<String> outputTopics = new HashSet<>();
    private final Set<String> truncationLogged = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final List<ConsumerRecord<byte[], byte[]>> pending = new ArrayList<>();
    private long pendingSince;
    private final AtomicLong modelTexts = new AtomicLong();
    private final AtomicLong recordsOut = new AtomicLong();
    private volatile boolean running = true;
    /** Re-embed: each partition, when first assigned, starts from the beginning of its (compacted) topic. */
    private boolean fromBeginning;
    private final Set<TopicPartition> rewound = new HashSet<>();
    private volatile Throwable failure;

    /**
     * @param models the models the specs name, by name; the caller owns (and closes) them
     * @throws IllegalStateException when a spec names a model not given, or the target holds vectors of another shape or model
     */
    public EmbedService(Settings settings, Map<String, EmbeddingModel> models, MeterRegistry registry) throws SQLException {
        this.settings = settings;
        this.models = Map.copyOf(models);
        this.metrics = new EmbedMetrics(registry, settings.sourceName());
        for (EmbeddingSpec spec : settings.specs()) {
            EmbeddingModel model = models.get(spec.model());
            if (model == null) {
                throw new IllegalArgumentException("embedding spec of table \"" + spec.table() + "\" names model '" + spec.model()
                        + "', which is not configured");
            }
            if (spec.chunking() != null && spec.chunking().size() > model.maxChunkTokens()) {
                throw new IllegalArgumentException("embedding spec of table \"" + spec.table() + "\": chunking.size " + spec.chunking().size()
                        + " exceeds what model " + model.id() + " embeds whole (" + model.maxChunkTokens() + " tokens)");
            }
            specs.put(spec.table(), spec);
            if (spec.text() != null) {
                templates.put(spec.table(), spec.template());
            }
            metrics.table(spec.table(), model.id());
        }
        if (settings.jdbcUrl() != null) {
            checkTarget();
        }
        this.cache = new ContentCache(settings.cacheEntries());
        this.deadLetterTopic = TopicNames.deadLetterTopic(settings.topicPrefix(), settings.sourceName());
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers()));
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, settings.groupId());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(32 * 1024 * 1024));
        c.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(64 * 1024 * 1024));
        // A slow model must not cost the group membership: one poll's batch may take minutes on a CPU.
        c.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, Integer.toString(30 * 60 * 1000));
        c.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, "2000");
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "ferry-embed-" + settings.sourceName());
        c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, Integer.toString(KafkaTopics.CONSUMER_FETCH_MAX_WAIT_MS));
        consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // One request in flight: a batch refused right after its topic was created (no leader yet) is retried before any
        // later batch goes out. With several in flight, the later ones can land first and the retry is then refused as
        // out of order for ever (seen with the KRaft broker under load).
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(TopicNames.MAX_RECORD_BYTES));
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "ferry-embed-" + settings.sourceName());
        producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        KafkaTopics.ensure(admin, deadLetterTopic, 1, TopicNames.DEAD_LETTER_TOPIC_CONFIG);
        consumerMetrics = new KafkaClientMetrics(consumer);
        consumerMetrics.bindTo(registry);
        producerMetrics = new KafkaClientMetrics(producer);
        producerMetrics.bindTo(registry);
        workers = Executors.newFixedThreadPool(settings.threads(), r -> {
            Thread t = new Thread(r, "ferry-embed-worker");
            t.setDaemon(true);
            return t;
        });
    }

    /** The topics this service reads: the table topics of the tables with a spec. */
    public static Pattern inputPattern(String prefix, String source, Collection<String> tables) {
        return Pattern.compile(String.join("|", tables.stream().map(t -> Pattern.quote(TopicNames.tableTopic(prefix, source, t))).sorted().toList()));
    }

    @Override
    public void run() {
        consumer.subscribe(inputPattern(settings.topicPrefix(), settings.sourceName(), specs.keySet()), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                // Hand over a clean position: what was read is embedded, written and committed before another instance takes it.
                if (!pending.isEmpty()) {
                    flush();
                }
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                // The committed offsets are the position: every record before them is on the output topics. A re-embed
                // starts each partition once from its beginning: the compacted topic holds every row's last image.
                if (fromBeginning) {
                    List<TopicPartition> rewind = partitions.stream().filter(rewound::add).toList();
                    if (!rewind.isEmpty()) {
                        consumer.seekToBeginning(rewind);
                        LOG.info("re-embedding {} partition(s) from the beginning", rewind.size());
                    }
                }
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> partitions) {
                // Not revoked but lost (this member was dropped from the group): another instance may own them and have
                // written newer records of the same keys already, so writing ours now could put an old row after a newer
                // one. Kafka's default would flush them (it calls onPartitionsRevoked). Drop them uncommitted instead.
                pending.removeIf(r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
            }
        });
        LOG.info("embed service for source {} started: {} table(s) {}, batch {}, {} thread(s)", settings.sourceName(), specs.size(),
                new java.util.TreeSet<>(specs.keySet()), settings.batchSize(), settings.threads());
        try {
            while (running) {
                long waited = pending.isEmpty() ? 0 : (System.nanoTime() - pendingSince) / 1_000_000;
                long timeout = pending.isEmpty() ? 200 : Math.max(0, settings.maxWait().toMillis() - waited);
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(timeout));
                if (pending.isEmpty() && !records.isEmpty()) {
                    pendingSince = System.nanoTime();
                }
                records.forEach(pending::add);
                boolean full = pending.size() >= settings.batchSize() * settings.threads() * 4;
                boolean due = !pending.isEmpty() && (System.nanoTime() - pendingSince) / 1_000_000 >= settings.maxWait().toMillis();
                if (full || due || (!pending.isEmpty() && records.isEmpty())) {
                    flush();
                }
            }
        } catch (WakeupException e) {
            // stop() was called
        } catch (RuntimeException e) {
            LOG.error("embed service stopped: {}", e.getMessage(), e);
            failure = e;
        }
        // Read but not committed: whoever owns these partitions next reads them again. Flushing them from close()'s
        // revocation callback instead would need the worker threads that close() has stopped.
        pending.clear();
        LOG.info("embed service for source {} stopped", settings.sourceName());
    }

    /** One record on its way through: its output, or the text whose vector it waits for. */
    private static final class Item {
        final ConsumerRecord<byte[], byte[]> record;
        byte[] value;
        ChangeEvent event;
        EmbeddingSpec spec;
        ContentCache.Key waitsFor;
        float[] vector;
        String deadLetterReason;
        String deadLetterKind;
        /** Chunking specs: the parent's key, and its chunks (empty for a delete or a text without tokens). */
        RowKey parentKey;
        List<Chunk> chunks;
        ChangeEvent parentEvent;
        /** A chunk table's schema event, sent after the parent's. */
        byte[] chunkSchema;

        Item(ConsumerRecord<byte[], byte[]> record) {
            this.record = record;
            this.value = record.value();
        }
    }

    /** One chunk of a parent's text, with its vector once known. */
    private static final class Chunk {
        final String text;
        ContentCache.Key waitsFor;
        float[] vector;

        Chunk(String text) {
            this.text = text;
        }
    }

    /** Embeds, writes and commits everything pending. */
    private void flush() {
        List<Item> items = new ArrayList<>(pending.size());
        // Texts to embed, per model, each once: equal texts in one batch share a model call.
        Map<String, Map<ContentCache.Key, String>> misses = new LinkedHashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : pending) {
            Item item = new Item(record);
            items.add(item);
            if (record.value() == null) {
                continue;
            }
            switch (EventCodec.kindOf(record.value())) {
                case SCHEMA -> {
                    TableSchema schema = EventCodec.decodeSchema(record.value());
                    EmbeddingSpec spec = specs.get(schema.getTable());
                    if (spec != null && spec.chunking() != null) {
                        item.chunkSchema = EventCodec.encodeSchema(ChunkTable.schema(schema, spec, models.get(spec.model())));
                    } else {
                        item.value = EventCodec.encodeSchema(withVectorColumns(schema));
                    }
                }
                case CHANGE -> prepare(item, EventCodec.decodeChange(record.value()), misses);
                case UNKNOWN -> {
                    // Not ferry's: the writer sets it aside on the dead-letter topic, as it does on any table topic.
                }
            }
        }
        Map<ContentCache.Key, Object> computed = embed(misses);
        List<Future<RecordMetadata>> acks = new ArrayList<>(items.size());
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (Item item : items) {
            if (item.waitsFor != null) {
                Object result = computed.get(item.waitsFor);
                if (result instanceof float[] v) {
                    item.vector = v;
                } else {
                    item.deadLetterKind = "model";
                    item.deadLetterReason = "the model refused the text: " + result;
                }
            }
            if (item.event != null) {
                item.value = EventCodec.encodeChange(withVector(item));
            }
            if (item.deadLetterReason != null) {
                acks.add(producer.send(deadLetter(item)));
                metrics.deadLetters(item.spec.table(), item.deadLetterKind, 1);
            }
            ConsumerRecord<byte[], byte[]> r = item.record;
            String out = outputTopic(r.topic());
            Long timestamp = r.timestamp() < 0 ? null : r.timestamp();
            acks.add(producer.send(new ProducerRecord<>(out, r.partition(), timestamp, r.key(), item.value, r.headers())));
            if (item.chunkSchema != null) {
                acks.add(producer.send(new ProducerRecord<>(out, r.partition(), timestamp,
                        ChunkTable.schemaKey(item.chunkSchema), item.chunkSchema)));
            }
            if (item.chunks != null) {
                for (ProducerRecord<byte[], byte[]> chunk : chunkRecords(item, computed, out, r.partition(), timestamp)) {
                    acks.add(producer.send(chunk));
                }
            }
            offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
        }
        try {
            for (Future<RecordMetadata> ack : acks) {
                ack.get(120, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing embedded records", e);
        } catch (ExecutionException | TimeoutException e) {
            // Offsets are not committed: the records are read, embedded and written again.
            throw new IllegalStateException("cannot write embedded records: " + e.getMessage(), e);
        }
        consumer.commitSync(offsets);
        recordsOut.addAndGet(items.size());
        pending.clear();
    }

    /** Decides where an upserted row's vector comes from: the source column, the cache, or the model (recorded in misses). */
    private void prepare(Item item, ChangeEvent event, Map<String, Map<ContentCache.Key, String>> misses) {
        EmbeddingSpec spec = specs.get(event.getSource().getTable());
        if (spec != null && spec.chunking() != null) {
            prepareChunks(item, event, spec, misses);
            return;
        }
        if (spec == null || event.getOp() == Op.d || event.getAfter() == null) {
            // A delete removes the row and its vector together; nothing to compute.
            return;
        }
        item.event = event;
        item.spec = spec;
        EmbeddingModel model = models.get(spec.model());
        Map<String, Object> after = event.getAfter();
        String table = spec.table();
        if (spec.vectorsFrom() != null && after.get(spec.vectorsFrom()) != null) {
            try {
                item.vector = VectorValues.carried(after.get(spec.vectorsFrom()), model.dimensions());
                metrics.carried(table, 1);
                return;
            } catch (IllegalArgumentException e) {
                item.deadLetterKind = "vector";
                item.deadLetterReason = "column \"" + spec.vectorsFrom() + "\" does not hold a vector of the model's: " + e.getMessage();
                return;
            }
        }
        TextTemplate template = templates.get(table);
        if (template == null) {
            return;
        }
        String text;
        try {
            text = template.render(after);
        } catch (IllegalArgumentException e) {
            item.deadLetterKind = "text";
            item.deadLetterReason = e.getMessage();
            return;
        }
        if (text == null) {
            return;
        }
        text = EmbeddingText.clean(text);
        if (text.isBlank()) {
            // Nothing to mean: a vector of no text would sit near every other empty one and match any query.
            return;
        }
        ContentCache.Key key = ContentCache.key(model.id(), text);
        float[] cached = cache.get(key);
        if (cached != null) {
            item.vector = cached;
            metrics.cacheHits(table, 1);
            return;
        }
        metrics.cacheMisses(table, 1);
        item.waitsFor = key;
        misses.computeIfAbsent(spec.model() + '\0' + table, k -> new LinkedHashMap<>()).put(key, text);
    }

    /** A chunking spec's parent row: its chunks, each from the cache or waiting for the model. The parent goes on unchanged. */
    private void prepareChunks(Item item, ChangeEvent event, EmbeddingSpec spec, Map<String, Map<ContentCache.Key, String>> misses) {
        item.spec = spec;
        item.parentEvent = event;
        item.parentKey = EventCodec.decodeKey(item.record.key());
        item.chunks = new ArrayList<>();
        if (event.getOp() == Op.d || event.getAfter() == null) {
            return;
        }
        String text;
        try {
            text = templates.get(spec.table()).render(event.getAfter());
        } catch (IllegalArgumentException e) {
            item.deadLetterKind = "text";
            item.deadLetterReason = e.getMessage();
            return;
        }
        if (text == null || text.isBlank()) {
            return;
        }
        EmbeddingModel model = models.get(spec.model());
        for (String piece : model.chunks(EmbeddingText.clean(text), spec.chunking().size(), spec.chunking().overlap())) {
            Chunk chunk = new Chunk(piece);
            item.chunks.add(chunk);
            ContentCache.Key key = ContentCache.key(model.id(), piece);
            float[] cached = cache.get(key);
            if (cached != null) {
                chunk.vector = cached;
                metrics.cacheHits(spec.table(), 1);
            } else {
                metrics.cacheMisses(spec.table(), 1);
                chunk.waitsFor = key;
                misses.computeIfAbsent(spec.model() + '\0' + spec.table(), k -> new LinkedHashMap<>()).put(key, piece);
            }
        }
    }

    /** The chunk rows of a parent, then the delete of every chunk past the last (a text that got shorter, or a deleted parent). */
    private List<ProducerRecord<byte[], byte[]>> chunkRecords(Item item, Map<ContentCache.Key, Object> computed, String topic, int partition,
                                                              Long timestamp) {
        EmbeddingSpec spec = item.spec;
        String modelId = models.get(spec.model()).id();
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
        for (int i = 0; i < item.chunks.size(); i++) {
            Chunk chunk = item.chunks.get(i);
            if (chunk.waitsFor != null && computed.get(chunk.waitsFor) instanceof float[] v) {
                chunk.vector = v;
            }
            Map<String, Object> row = ChunkTable.keyImage(item.parentKey, i);
            row.put(ChunkTable.TEXT_COLUMN, chunk.text);
            row.put(spec.column(), chunk.vector == null ? null : VectorValues.toBytes(chunk.vector));
            row.put(spec.modelColumn(), chunk.vector == null ? null : modelId);
            ChangeEvent event = ChunkTable.event(item.parentEvent, spec, item.parentEvent.getOp() == Op.d ? Op.u : item.parentEvent.getOp(),
                    null, row);
            out.add(new ProducerRecord<>(topic, partition, timestamp, EventCodec.encodeKey(ChunkTable.key(item.parentKey, i)),
                    EventCodec.encodeChange(event)));
        }
        int n = item.chunks.size();
        ChangeEvent delete = ChunkTable.event(item.parentEvent, spec, Op.d, ChunkTable.keyImage(item.parentKey, n), null);
        RecordHeaders headers = new RecordHeaders();
        headers.add(EventCodec.RANGE_DELETE_HEADER, new byte[] {1});
        out.add(new ProducerRecord<>(topic, partition, timestamp, EventCodec.encodeKey(ChunkTable.key(item.parentKey, n)),
                EventCodec.encodeChange(delete), headers));
        return out;
    }

    /**
     * Vectors for the texts, in batches over the worker threads: a {@code float[]} per key, or the refusal's message
     * when the model refused that text (a whole batch refused is tried again text by text).
     */
    private Map<ContentCache.Key, Object> embed(Map<String, Map<ContentCache.Key, String>> misses) {
        Map<ContentCache.Key, Object> results = new java.util.concurrent.ConcurrentHashMap<>();
        List<Future<?>> calls = new ArrayList<>();
        for (var entry : misses.entrySet()) {
            String[] modelAndTable = entry.getKey().split("\0", 2);
            EmbeddingModel model = models.get(modelAndTable[0]);
            String table = modelAndTable[1];
            List<Map.Entry<ContentCache.Key, String>> texts = new ArrayList<>(entry.getValue().entrySet());
            for (int from = 0; from < texts.size(); from += settings.batchSize()) {
                List<Map.Entry<ContentCache.Key, String>> batch = texts.subList(from, Math.min(texts.size(), from + settings.batchSize()));
                calls.add(workers.submit(() -> embedBatch(model, table, batch, results)));
            }
        }
        try {
            for (Future<?> call : calls) {
                call.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while embedding", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("embedding failed: " + e.getCause().getMessage(), e.getCause());
        }
        return results;
    }

    private void embedBatch(EmbeddingModel model, String table, List<Map.Entry<ContentCache.Key, String>> batch,
                            Map<ContentCache.Key, Object> results) {
        List<String> texts = batch.stream().map(Map.Entry::getValue).toList();
        // Each token but the two special ones covers at least one character: a shorter text cannot pass the window, and
        // is not tokenized a second time just to count it.
        long truncated = texts.stream().filter(t -> t.length() + 2 > model.maxTokens() && model.tokens(t) > model.maxTokens()).count();
        if (truncated > 0) {
            metrics.truncated(table, truncated);
            if (truncationLogged.add(table)) {
                LOG.warn("table \"{}\": texts longer than the {}-token window of model {} are truncated (counted in"
                        + " ferry_embed_truncated_texts_total; logged once per table)", table, model.maxTokens(), model.id());
            }
        }
        List<float[]> vectors;
        long started = System.nanoTime();
        try {
            vectors = model.embed(texts);
        } catch (IllegalArgumentException | EmbeddingException e) {
            if (e instanceof EmbeddingException failure && failure.transientFailure()) {
                // The model or its server is away: nothing is committed, and a restart embeds the batch again.
                throw new IllegalStateException("model " + model.id() + " failed: " + e.getMessage(), e);
            }
            // One text the model refuses must not hold back the others: try them one by one.
            if (batch.size() == 1) {
                results.put(batch.get(0).getKey(), e.getMessage());
                return;
            }
            for (var one : batch) {
                embedBatch(model, table, List.of(one), results);
            }
            return;
        }
        metrics.batch(model.id(), texts.size(), System.nanoTime() - started);
        if (vectors.size() != texts.size()) {
            throw new IllegalStateException("model " + model.id() + " returned " + vectors.size() + " vectors for " + texts.size() + " texts");
        }
        for (int i = 0; i < vectors.size(); i++) {
            float[] v = vectors.get(i);
            if (v.length != model.dimensions()) {
                throw new IllegalStateException("model " + model.id() + " returned a vector of " + v.length + " dimensions, not "
                        + model.dimensions());
            }
            cache.put(batch.get(i).getKey(), v);
            results.put(batch.get(i).getKey(), v);
        }
        modelTexts.addAndGet(texts.size());
        metrics.vectors(table, model.id(), texts.size());
    }

    private TableSchema withVectorColumns(TableSchema schema) {
        EmbeddingSpec spec = specs.get(schema.getTable());
        if (spec == null) {
            return schema;
        }
        EmbeddingModel model = models.get(spec.model());
        Set<String> columns = new HashSet<>();
        schema.getColumns().forEach(c -> columns.add(c.getName()));
        for (String name : List.of(spec.column(), spec.modelColumn())) {
            if (columns.contains(name)) {
                throw new IllegalStateException("table \"" + schema.getTable() + "\" has a column \"" + name
                        + "\" already: the embedding spec must name another column for the vectors (column / model_column)");
            }
        }
        TextTemplate template = templates.get(schema.getTable());
        if (template != null) {
            for (String c : template.columns()) {
                if (!columns.contains(c)) {
                    LOG.warn("table \"{}\" has no column \"{}\", which its embedding text names: it counts as NULL", schema.getTable(), c);
                }
            }
        }
        TableSchema out = TableSchema.newBuilder(schema).build();
        out.setEmbeddings(List.of(new EmbeddingColumn(spec.column(), spec.modelColumn(), model.dimensions(), model.id(), spec.index())));
        return out;
    }

    private ChangeEvent withVector(Item item) {
        Map<String, Object> after = new HashMap<>(item.event.getAfter());
        after.put(item.spec.column(), item.vector == null ? null : VectorValues.toBytes(item.vector));
        after.put(item.spec.modelColumn(), item.vector == null ? null : models.get(item.spec.model()).id());
        ChangeEvent out = ChangeEvent.newBuilder(item.event).build();
        out.setAfter(after);
        return out;
    }

    private ProducerRecord<byte[], byte[]> deadLetter(Item item) {
        ConsumerRecord<byte[], byte[]> r = item.record;
        LOG.warn("dead letter from {}-{}@{}: {} (the row goes on with a NULL vector)", r.topic(), r.partition(), r.offset(),
                item.deadLetterReason);
        String column = item.deadLetterKind.equals("vector") ? item.spec.vectorsFrom() : item.spec.column();
        Headers headers = DeadLetterHeaders.of(item.deadLetterReason, r.topic(), r.partition(), r.offset(), item.spec.table(), column);
        headers.add("ferry.service", "embed".getBytes(StandardCharsets.UTF_8));
        return new ProducerRecord<>(deadLetterTopic, null, r.key(), r.value(), headers);
    }

    /** The .embedded topic of a table topic, created with as many partitions, so that each record keeps its partition. */
    private String outputTopic(String input) {
        String out = input + TopicNames.EMBEDDED_SUFFIX;
        if (outputTopics.contains(out)) {
            return out;
        }
        try {
            TopicDescription d = admin.describeTopics(List.of(input)).allTopicNames().get(60, TimeUnit.SECONDS).get(input);
            KafkaTopics.ensure(admin, out, d.partitions().size(), Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                    TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(TopicNames.MAX_RECORD_BYTES)));
            KafkaTopics.awaitLeaders(producer, out, Duration.ofSeconds(60));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating " + out, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot describe topic " + input + ": " + e.getMessage(), e);
        }
        outputTopics.add(out);
        return out;
    }

    /**
     * Refuses to start when the target holds vectors this configuration would mix with: a vector column of another
     * dimension, or rows whose vectors another model produced.
     */
    private void checkTarget() throws SQLException {
        try (Connection c = PgDatabase.connect(settings.jdbcUrl())) {
            for (EmbeddingSpec spec : specs.values()) {
                EmbeddingModel model = models.get(spec.model());
                String table = PgIdentifiers.qualified(settings.targetSchema(), spec.table());
                try (PreparedStatement ps = c.prepareStatement("SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
                        + " WHERE attrelid = to_regclass(?) AND attname = ? AND NOT attisdropped")) {
                    ps.setString(1, table);
                    ps.setString(2, PgIdentifiers.pgName(spec.column()));
                    try (ResultSet rs = ps.executeQuery()) {
                        String expected = "vector(" + model.dimensions() + ")";
                        if (rs.next() && !rs.getString(1).equals(expected)) {
                            throw new IllegalStateException("target column " + table + "." + PgIdentifiers.quote(spec.column()) + " is "
                                    + rs.getString(1) + ", but model " + model.id() + " gives " + expected + "; embed into another"
                                    + " column (column: in the spec) or drop this one");
                        }
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(?) AND attname = ?"
                        + " AND NOT attisdropped")) {
                    ps.setString(1, table);
                    ps.setString(2, PgIdentifiers.pgName(spec.modelColumn()));
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            continue;
                        }
                    }
                }
                String mc = PgIdentifiers.quote(PgIdentifiers.pgName(spec.modelColumn()));
                try (PreparedStatement ps = c.prepareStatement("SELECT " + mc + " FROM " + table + " WHERE " + mc + " IS NOT NULL AND "
                        + mc + " <> ? LIMIT 1")) {
                    ps.setString(1, model.id());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            throw new IllegalStateException("target table " + table + " holds vectors of model " + rs.getString(1)
                                    + " in " + PgIdentifiers.quote(spec.column()) + "; this configuration would add vectors of model "
                                    + model.id() + " beside them. Embed into another column, or re-index (docs/operations.md#replay)");
                        }
                    }
                }
            }
        }
    }

    /**
     * Records of the tables' topics not yet through an embed service of {@code group}: log end offsets minus the offsets
     * the group committed (which it commits only once the output is acknowledged).
     */
    public static long lag(Admin admin, String prefix, String source, Collection<String> tables, String group) throws InterruptedException {
        return lagByPartition(admin, inputPattern(prefix, source, tables), group).values().stream().mapToLong(Long::longValue).sum();
    }

    /** Records not yet through the embed service of {@code group}, per partition of the topics matching {@code topics}. */
    public static Map<TopicPartition, Long> lagByPartition(Admin admin, Pattern topics, String group) throws InterruptedException {
        try {
            Set<String> names = new HashSet<>();
            for (String t : admin.listTopics().names().get(30, TimeUnit.SECONDS)) {
                if (topics.matcher(t).matches()) {
                    names.add(t);
                }
            }
            Map<TopicPartition, Long> lag = new HashMap<>();
            if (names.isEmpty()) {
                return lag;
            }
            Map<TopicPartition, Long> ends = KafkaTopics.endOffsets(admin, names);
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                    .get(30, TimeUnit.SECONDS);
            for (var e : ends.entrySet()) {
                OffsetAndMetadata done = committed.get(e.getKey());
                lag.put(e.getKey(), Math.max(0, e.getValue() - (done == null ? 0 : done.offset())));
            }
            return lag;
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read the embed service's offsets from Kafka: " + e.getMessage(), e);
        }
    }

    /**
     * Makes this run re-embed every row of the spec tables (a new model, a new column): each partition starts from the
     * beginning of its topic the first time this instance is assigned it. Call before {@link #run()}.
     */
    public EmbedService reembed() {
        this.fromBeginning = true;
        return this;
    }

    /** Texts the models embedded since start (cache hits and carried vectors not counted). */
    public long modelTexts() {
        return modelTexts.get();
    }

    /** Records written to the output topics since start. */
    public long recordsOut() {
        return recordsOut.get();
    }

    public Throwable failure() {
        return failure;
    }

    /** The tables this service embeds. */
    public Set<String> tables() {
        return specs.keySet();
    }

    /** Stops the loop; {@link #close()} releases the clients once {@link #run()} returned. */
    public void stop() {
        running = false;
        consumer.wakeup();
    }

    @Override
    public void close() {
        workers.shutdownNow();
        metrics.close();
        consumerMetrics.close();
        producerMetrics.close();
        consumer.close(Duration.ofSeconds(5));
        producer.close(Duration.ofSeconds(5));
        admin.close(Duration.ofSeconds(5));
    }
}
