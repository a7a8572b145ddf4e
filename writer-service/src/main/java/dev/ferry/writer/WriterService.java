package dev.ferry.writer;

import dev.ferry.schemas.DeadLetterHeaders;
import dev.ferry.schemas.EventCodec;
import dev.ferry.schemas.KafkaTopics;
import dev.ferry.schemas.TopicNames;
import dev.ferry.schemas.avro.ChangeEvent;
import dev.ferry.schemas.avro.KeyColumn;
import dev.ferry.schemas.avro.Op;
import dev.ferry.schemas.avro.RowKey;
import dev.ferry.schemas.avro.TableSchema;
import dev.ferry.writer.WriterMetrics.DeadLetterReason;
import dev.ferry.writer.pg.MetadataStore;
import dev.ferry.writer.pg.PgDatabase;
import dev.ferry.writer.pg.PgIdentifiers;
import dev.ferry.writer.pg.SchemaTranslation;
import dev.ferry.writer.pg.TableApplier;
import dev.ferry.writer.pg.TargetTable;
import dev.ferry.writer.pg.TypeMapping;
import dev.ferry.writer.pg.ValueConversionException;
import dev.ferry.writer.pg.ValueConverter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
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
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes a source's table topics and applies them to PostgreSQL. Each poll is one transaction: rows,
 * DDL from schema events, and the consumer offsets (table {@code _ferry.offsets}), so a crash at any point
 * neither loses nor repeats a change; Kafka's committed offsets are only a copy for monitoring tools.
 * Within a poll the events of one key collapse into the last, which the events (full row images) make exact.
 */
public final class WriterService implements Runnable, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WriterService.class);

    /**
     * What the writer needs to run. {@code typeOverrides} maps {@code table.column} (SQLite names; quoted as
     * {@code "my.table"."col"} when a name holds a dot) to a PostgreSQL type name, see {@link TypeMapping#withOverrides}.
     */
    public record Settings(String bootstrapServers, String jdbcUrl, String sourceName, String topicPrefix,
                           String targetSchema, String groupId, boolean auditBatches, int maxPollRecords,
                           Map<String, String> typeOverrides, java.util.Set<String> embeddedTables) {

        /**
         * @param embeddedTables SQLite tables the embed service enriches with vectors: the writer reads them from their
         *                       {@code .embedded} topic instead of the table topic
         */
        public Settings {
            typeOverrides = typeOverrides == null ? Map.of() : Map.copyOf(typeOverrides);
            embeddedTables = embeddedTables == null ? java.util.Set.of() : java.util.Set.copyOf(embeddedTables);
        }

        public Settings(String bootstrapServers, String jdbcUrl, String sourceName, String topicPrefix, String targetSchema, String groupId,
                        boolean auditBatches, int maxPollRecords, Map<String, String> typeOverrides) {
            this(bootstrapServers, jdbcUrl, sourceName, topicPrefix, targetSchema, groupId, auditBatches, maxPollRecords, typeOverrides,
                    java.util.Set.of());
        }

        public Settings withEmbeddedTables(java.util.Set<String> tables) {
            return new Settings(bootstrapServers, jdbcUrl, sourceName, topicPrefix, targetSchema, groupId, auditBatches, maxPollRecords,
                    typeOverrides, tables);
        }

        /** The topics this writer reads. */
        public java.util.regex.Pattern topicPattern() {
            return TopicNames.writerTopicPattern(topicPrefix, sourceName, embeddedTables);
        }

        public static Settings defaults(String bootstrapServers, String jdbcUrl, String sourceName) {
            return new Settings(bootstrapServers, jdbcUrl, sourceName, "ferry", "public", "ferry-writer-" + sourceName, false, 5000, Map.of());
        }

        public Settings withAuditBatches(boolean audit) {
            return new Settings(bootstrapServers, jdbcUrl, sourceName, topicPrefix, targetSchema, groupId, audit, maxPollRecords, typeOverrides,
                    embeddedTables);
        }

        public Settings withTypeOverrides(Map<String, String> overrides) {
            return new Settings(bootstrapServers, jdbcUrl, sourceName, topicPrefix, targetSchema, groupId, auditBatches, maxPollRecords, overrides,
                    embeddedTables);
        }
    }

    private final Settings settings;
    private final TypeMapping types;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final KafkaProducer<byte[], byte[]> deadLetterProducer;
    private final String deadLetterTopic;
    private final AtomicLong rowsApplied = new AtomicLong();
    private final AtomicLong deadLetters = new AtomicLong();
    private volatile boolean running = true;
    private volatile Throwable failure;
    private final java.util.Set<TopicPartition> unpositioned = new java.util.HashSet<>();
    /**
     * Per assigned partition, its offset in {@code _ferry.offsets} as this writer last read or wrote it
     * ({@link MetadataStore#NONE}: no row). A commit moves it only from this value, so a writer that lost a partition
     * to another member of the group (scale-out) while applying a poll cannot commit that poll: see {@link #apply}.
     */
    private final Map<TopicPartition, Long> stored = new HashMap<>();
    private Connection connection;
    private Map<String, TableApplier> appliers = new HashMap<>();
    /** The last translation per source table, to retry foreign keys that waited for their parent. */
    private final Map<String, SchemaTranslation> translations = new HashMap<>();
    /** True when the session skips foreign-key checks (session_replication_role = replica), so keys can exist. */
    private boolean foreignKeysAllowed;
    private int nextApplierId;
    private final WriterMetrics metrics;
    private final KafkaClientMetrics consumerMetrics;
    private final KafkaClientMetrics deadLetterMetrics;

    /** @throws IllegalArgumentException when a type override is malformed, before anything is opened */
    public WriterService(Settings settings) throws SQLException {
        this(settings, new SimpleMeterRegistry());
    }

    /** A writer that records its meters (docs/metrics.md) and its Kafka clients' metrics in {@code registry}. */
    public WriterService(Settings settings, MeterRegistry registry) throws SQLException {
        this.settings = settings;
        this.metrics = new WriterMetrics(registry, settings.sourceName(), settings.groupId(), settings.topicPrefix(), settings.embeddedTables());
        this.types = TypeMapping.withOverrides(settings.typeOverrides());
        this.deadLetterTopic = TopicNames.deadLetterTopic(settings.topicPrefix(), settings.sourceName());
        connection = openDatabase();
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, settings.groupId());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(settings.maxPollRecords()));
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(32 * 1024 * 1024));
        c.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(64 * 1024 * 1024));
        // New tables become new topics while running: look for them every half second, not every 5 minutes (at the
        // start of a snapshot the writer waited up to 2 s for its first topic).
        c.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, "500");
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "ferry-writer-" + settings.sourceName());
        c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, Integer.toString(KafkaTopics.CONSUMER_FETCH_MAX_WAIT_MS));
        consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(TopicNames.MAX_RECORD_BYTES));
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "ferry-writer-dlq-" + settings.sourceName());
        deadLetterProducer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        createDeadLetterTopic();
        consumerMetrics = new KafkaClientMetrics(consumer);
        consumerMetrics.bindTo(registry);
        deadLetterMetrics = new KafkaClientMetrics(deadLetterProducer);
        deadLetterMetrics.bindTo(registry);
    }

    @Override
    public void run() {
        consumer.subscribe(settings.topicPattern(), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                // Called only inside poll(), when no poll is being applied: everything of these partitions this writer
                // applied is committed with its offsets, and the next owner resumes from them.
                metrics.revoked(partitions);
                stored.keySet().removeAll(partitions);
                unpositioned.removeAll(partitions);
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                try {
                    seekToStoredOffsets(partitions);
                    adoptStoredSchemas();
                } catch (IllegalStateException e) {
                    // Reading nothing is safe; reading from a guessed position is not. The loop reconnects, then seeks.
                    LOG.warn("{}; pausing {} partition(s) until PostgreSQL is back", e.getMessage(), partitions.size());
                    consumer.pause(partitions);
                    unpositioned.addAll(partitions);
                }
            }
        });
        LOG.info("writer for source {} started: {} -> {}{}", settings.sourceName(), settings.bootstrapServers(), settings.jdbcUrl(),
                settings.typeOverrides().isEmpty() ? "" : ", type overrides " + new java.util.TreeMap<>(settings.typeOverrides()));
        appliers.keySet().forEach(metrics::table);
        long backoffMs = 500;
        while (running) {
            try {
                if (!unpositioned.isEmpty() && !reconnect()) {
                    sleep(backoffMs);
                    backoffMs = Math.min(backoffMs * 2, 10_000);
                    continue;
                }
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                metrics.polled(records, consumer);
                if (!records.isEmpty()) {
                    long started = System.nanoTime();
                    if (apply(records)) {
                        metrics.applied(records, consumer, System.nanoTime() - started);
                    }
                }
                backoffMs = 500;
            } catch (WakeupException e) {
                break;
            } catch (SQLException e) {
                if (!running) {
                    break;
                }
                LOG.warn("PostgreSQL failed ({}); reconnecting in {} ms and resuming from the stored offsets", e.getMessage(), backoffMs);
                sleep(backoffMs);
                backoffMs = Math.min(backoffMs * 2, 10_000);
                reconnect();
            } catch (RuntimeException e) {
                LOG.error("writer stopped: {}", e.getMessage(), e);
                failure = e;
                break;
            }
        }
        LOG.info("writer for source {} stopped", settings.sourceName());
    }

    /**
     * Applies one poll in one transaction; false when it was rolled back and the assigned partitions were put back at
     * their stored offsets instead: another writer of the group committed some of these records first (the
     * partition moved while this poll was applied), or PostgreSQL ended the transaction (deadlock, serialization
     * failure) so that it can be tried again.
     */
    private boolean apply(ConsumerRecords<byte[], byte[]> records) throws SQLException {
        try {
            applyOnce(records, false);
            return true;
        } catch (OffsetConflict e) {
            rollbackQuietly();
            LOG.warn("{}: another writer of group {} committed them first; this poll is rolled back and the partitions resume"
                    + " from the stored offsets", e.getMessage(), settings.groupId());
            resumeFromStoredOffsets();
            return false;
        } catch (SQLException e) {
            rollbackQuietly();
            if (PgDatabase.isConnectionLost(e, connection)) {
                throw e;
            }
            if (isTransactionRollback(e)) {
                LOG.warn("PostgreSQL rolled back a poll ({}); trying again from the stored offsets", e.getMessage());
                resumeFromStoredOffsets();
                return false;
            }
            // A statement failed on some row: do the batch again row by row, setting aside the rows PostgreSQL refuses.
            // A refused COPY into a fresh table means rows were there already (a snapshot read again): upsert from now on.
            appliers.replaceAll((t, a) -> a.notFresh());
            LOG.warn("a batch failed ({}); applying it row by row to isolate the bad rows", e.getMessage());
            try {
                applyOnce(records, true);
                return true;
            } catch (OffsetConflict again) {
                rollbackQuietly();
                LOG.warn("{}: another writer of group {} committed them first; resuming from the stored offsets", again.getMessage(),
                        settings.groupId());
                resumeFromStoredOffsets();
                return false;
            } catch (SQLException again) {
                rollbackQuietly();
                if (PgDatabase.isConnectionLost(again, connection)) {
                    throw again;
                }
                if (isTransactionRollback(again)) {
                    LOG.warn("PostgreSQL rolled back a poll ({}); trying again from the stored offsets", again.getMessage());
                    resumeFromStoredOffsets();
                    return false;
                }
                // Not a row and not the connection: retrying cannot help, so stop and say why.
                throw new IllegalStateException("PostgreSQL refused a batch even row by row: " + again.getMessage(), again);
            }
        }
    }

    private void applyOnce(ConsumerRecords<byte[], byte[]> records, boolean rowByRow) throws SQLException {
        Map<String, TableApplier> working = new HashMap<>(appliers);
        Map<TopicPartition, Long> first = new LinkedHashMap<>();
        Map<TopicPartition, Long> next = new LinkedHashMap<>();
        Map<String, PendingRows> pending = new LinkedHashMap<>();
        List<DeadLetter> rejected = new ArrayList<>();
        WriterMetrics.Tally tally = new WriterMetrics.Tally();
        long applied = 0;
        for (TopicPartition tp : records.partitions()) {
            for (ConsumerRecord<byte[], byte[]> record : records.records(tp)) {
                first.putIfAbsent(tp, record.offset());
                next.put(tp, record.offset() + 1);
                if (record.value() == null) {
                    continue;
                }
                switch (EventCodec.kindOf(record.value())) {
                    case SCHEMA -> {
                        TableSchema schema = EventCodec.decodeSchema(record.value());
                        PendingRows rows = pending.remove(schema.getTable());
                        if (rows != null) {
                            applied += rows.flush(connection, rowByRow, rejected);
                            rows.settle(working);
                        }
                        working.put(schema.getTable(), applySchema(schema, working.get(schema.getTable()), working));
                        metrics.table(schema.getTable());
                    }
                    case CHANGE -> {
                        ChangeEvent event = EventCodec.decodeChange(record.value());
                        String table = event.getSource().getTable();
                        TableApplier applier = working.get(table);
                        if (applier == null) {
                            rejected.add(deadLetter(record, table, null, DeadLetterReason.NO_SCHEMA,
                                    "no schema event was seen for table \"" + table + "\""));
                            continue;
                        }
                        PendingRows rows = pending.get(table);
                        if (rows == null) {
                            rows = new PendingRows(applier, tally, records.count());
                            pending.put(table, rows);
                        }
                        rows.add(record, event, rejected);
                    }
                    case UNKNOWN -> rejected.add(deadLetter(record, null, null, DeadLetterReason.UNKNOWN_PAYLOAD,
                            "payload is not a ferry event (unknown Avro fingerprint)"));
                }
            }
        }
        for (PendingRows rows : pending.values()) {
            applied += rows.flush(connection, rowByRow, rejected);
            rows.settle(working);
        }
        // Offsets before the dead letters: once the offset rows are ours (locked until the commit), no other writer can
        // commit these records, and a poll that is not ours sends no dead letter.
        java.util.Set<TopicPartition> taken = MetadataStore.advanceOffsets(connection, settings.groupId(), stored, next,
                settings.auditBatches() ? first : null);
        if (!taken.isEmpty()) {
            throw new OffsetConflict("stored offsets of " + taken + " moved past this writer's");
        }
        sendDeadLetters(rejected);
        connection.commit();
        stored.putAll(next);
        appliers = working;
        rowsApplied.addAndGet(applied);
        rejected.forEach(d -> tally.deadLetter(d.table(), d.reason()));
        metrics.committed(tally);
        Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
        next.forEach((tp, offset) -> commit.put(tp, new OffsetAndMetadata(offset)));
        consumer.commitAsync(commit, null);
    }

    private TableApplier applySchema(TableSchema schema, TableApplier previous, Map<String, TableApplier> working) throws SQLException {
        MetadataStore.lockDdl(connection);
        boolean citext = SchemaTranslation.wantsCitext(schema, types) && createCitext(schema.getTable());
        SchemaTranslation translation = SchemaTranslation.of(settings.targetSchema(), schema, types, citext, foreignKeysAllowed);
        TargetTable table = translation.table();
        for (String key : types.unmatched(schema.getTable(), schema.getColumns().stream().map(c -> c.getName()).toList())) {
            LOG.warn("type override '{}' names no column of table \"{}\"; it has no effect", key, schema.getTable());
        }
        TableApplier applier;
        try (Statement st = connection.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS " + PgIdentifiers.quote(settings.targetSchema()));
            boolean existed = PgDatabase.relationExists(connection, table.qualifiedName());
            createTable(st, table);
            boolean fresh = !schema.getSnapshotDone() && (!existed || (previous != null && previous.fresh()));
            applier = new TableApplier(table, nextApplierId++, fresh);
            for (String ddl : table.alignSql(previous == null ? null : previous.table())) {
                st.execute(ddl);
            }
            applier.dropStaging(connection);
            MetadataStore.saveSchema(connection, settings.targetSchema(), schema);
        } catch (SQLException e) {
            if (PgDatabase.isConnectionLost(e, connection) || isTransactionRollback(e)) {
                throw e;
            }
            throw new SchemaException("cannot create or alter " + table.qualifiedName() + " for SQLite table \"" + schema.getTable()
                    + "\": " + e.getMessage(), e);
        }
        LOG.info("table {} ready ({} column(s), schema version {})", table.qualifiedName(), table.columns().size(), schema.getSchemaVersion());
        translations.put(schema.getTable(), translation);
        runTolerant(translation.table(), translation.defaults());
        if (schema.getSnapshotDone()) {
            // Indexes and constraints after the bulk load, not maintained row by row during it; IF NOT EXISTS or a
            // lookup makes this a no-op for a table that has them already (a restart, a later schema change).
            runTolerant(translation.table(), translation.afterSnapshot());
            // Foreign keys of other tables that waited for this one.
            for (var e : translations.entrySet()) {
                if (!e.getKey().equals(schema.getTable()) && working.containsKey(e.getKey())) {
                    runTolerant(e.getValue().table(), e.getValue().foreignKeys().stream()
                            .filter(fk -> schema.getTable().equals(fk.refTable())).toList());
                }
            }
        }
        return applier;
    }

    /** CREATE TABLE; should PostgreSQL refuse one of the translated defaults, the table is created without defaults. */
    private void createTable(Statement st, TargetTable table) throws SQLException {
        if (table.columns().stream().noneMatch(c -> c.defaultSql() != null)) {
            st.execute(table.createSql());
            return;
        }
        Savepoint savepoint = connection.setSavepoint();
        try {
            st.execute(table.createSql());
            connection.releaseSavepoint(savepoint);
        } catch (SQLException e) {
            if (PgDatabase.isConnectionLost(e, connection)) {
                throw e;
            }
            connection.rollback(savepoint);
            LOG.warn("table {} created without its defaults: PostgreSQL refused them ({}): {}", table.qualifiedName(), e.getMessage(),
                    table.createSql());
            st.execute(table.withoutDefaults().createSql());
        }
    }

    /**
     * Runs statements whose failure must not stop replication: each in a savepoint; a refusal is logged with the table
     * and the SQL, and the next statement runs. A constraint the table has already, or whose other table is missing,
     * is skipped (the missing table's own schema event tries again).
     */
    private void runTolerant(TargetTable table, List<SchemaTranslation.Statement> statements) throws SQLException {
        for (SchemaTranslation.Statement s : statements) {
            if (s.constraint() != null && PgDatabase.constraintExists(connection, table.qualifiedName(), s.constraint())) {
                continue;
            }
            if (s.requires() != null && !PgDatabase.relationExists(connection, s.requires())) {
                // Usual during a snapshot (the tables' topics are read in no set order): INFO. One whose parent never
                // comes is listed by `ferry cutover`.
                LOG.info("{} {} of {} waits: table {} does not exist yet; tried again when its schema arrives", s.kind().label(),
                        s.name(), table.qualifiedName(), s.requires());
                continue;
            }
            Savepoint savepoint = connection.setSavepoint();
            long started = System.nanoTime();
            try (Statement st = connection.createStatement()) {
                st.execute(s.sql());
                connection.releaseSavepoint(savepoint);
                LOG.info("{} {} of {} created in {} ms: {}", s.kind().label(), s.name(), table.qualifiedName(),
                        (System.nanoTime() - started) / 1_000_000, s.sql());
            } catch (SQLException e) {
                if (PgDatabase.isConnectionLost(e, connection)) {
                    throw e;
                }
                connection.rollback(savepoint);
                LOG.warn("{} {} of table {} not created, replication goes on: {} ({})", s.kind().label(), s.name(), table.qualifiedName(),
                        e.getMessage(), s.sql());
            }
        }
    }

    /** Creates the citext extension if it is missing; false (with a warning) when PostgreSQL refuses. */
    private boolean createCitext(String table) throws SQLException {
        Savepoint savepoint = connection.setSavepoint();
        try (Statement st = connection.createStatement()) {
            st.execute("CREATE EXTENSION IF NOT EXISTS citext");
            connection.releaseSavepoint(savepoint);
            return true;
        } catch (SQLException e) {
            if (PgDatabase.isConnectionLost(e, connection)) {
                throw e;
            }
            connection.rollback(savepoint);
            LOG.warn("table \"{}\" has COLLATE NOCASE columns but the citext extension cannot be created ({}): they become text,"
                    + " compared case-sensitively", table, e.getMessage());
            return false;
        }
    }

    /** SQLSTATE class 40: PostgreSQL rolled the transaction back (deadlock, serialization failure); trying again can succeed. */
    private static boolean isTransactionRollback(SQLException e) {
        return e.getSQLState() != null && e.getSQLState().startsWith("40");
    }

    /** Another writer of the group committed records of this poll first: the poll must not be committed. */
    private static final class OffsetConflict extends RuntimeException {
        OffsetConflict(String message) {
            super(message);
        }
    }

    /** A table PostgreSQL will not create or alter as asked: no row of it can be written, so the writer stops and says why. */
    static final class SchemaException extends RuntimeException {
        SchemaException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * A record key as a map key: its bytes, hashed once. (A ByteBuffer hashes all its bytes at every look-up, and each
     * record took three.)
     */
    private static final class RecordKey {
        private final byte[] bytes;
        private final int hash;

        RecordKey(byte[] bytes) {
            this.bytes = bytes;
            this.hash = java.util.Arrays.hashCode(bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof RecordKey k && k.hash == hash && java.util.Arrays.equals(k.bytes, bytes);
        }
    }

    /** A row (or key) to apply, with the record it came from, for a dead letter. */
    private record Pending(Object[] values, ConsumerRecord<byte[], byte[]> record) {
    }

    /** The rows of one table in a poll, last event per key. */
    private final class PendingRows {
        private final TableApplier applier;
        private final WriterMetrics.Tally tally;
        /** SQLite commit times of the streaming (not snapshot) events added, for the end-to-end latency. */
        private final List<Streamed> streamed = new ArrayList<>();
        private final java.util.Set<RecordKey> refused = new java.util.HashSet<>();
        private final Map<RecordKey, Pending> upserts;
        private final Map<RecordKey, Pending> deletes = new LinkedHashMap<>();
        /** Range deletes (EventCodec.RANGE_DELETE_HEADER) by key prefix, the last one per prefix; applied after the upserts. */
        private final Map<RecordKey, Pending> rangeDeletes = new LinkedHashMap<>();
        private boolean onlySnapshot = true;

        /** A table stays fresh only while it receives nothing but snapshot rows. */
        void settle(Map<String, TableApplier> working) {
            if (!onlySnapshot || !deletes.isEmpty() || !rangeDeletes.isEmpty()) {
                working.computeIfPresent(applier.table().sourceTable(), (t, a) -> a.notFresh());
            }
        }

        /** {@code expectedRows}: the poll's record count, so that the map of a one-table poll never grows. */
        PendingRows(TableApplier applier, WriterMetrics.Tally tally, int expectedRows) {
            this.applier = applier;
            this.tally = tally;
            this.upserts = new LinkedHashMap<>((int) Math.min(expectedRows * 4L / 3 + 1, 1 << 17));
        }

        void add(ConsumerRecord<byte[], byte[]> record, ChangeEvent event, List<DeadLetter> rejected) {
            RecordKey key = new RecordKey(record.key());
            TargetTable table = applier.table();
            String column = null;
            try {
                if (event.getOp() == Op.d) {
                    RowKey rowKey = EventCodec.decodeKey(record.key());
                    Object[] values = new Object[rowKey.getColumns().size()];
                    for (int i = 0; i < values.length; i++) {
                        KeyColumn k = rowKey.getColumns().get(i);
                        column = k.getName();
                        int index = table.indexOf(column);
                        if (index < 0) {
                            throw new ValueConversionException(column, "key column \"" + column + "\" is not in the target table");
                        }
                        values[i] = ValueConverter.convert(table.columns().get(index).type(), column, k.getValue());
                    }
                    if (record.headers().lastHeader(EventCodec.RANGE_DELETE_HEADER) != null) {
                        // Upserts of this poll for keys in the range are older (the range delete follows them) or
                        // newer with their own range delete after them: applying ranges after upserts is right for both.
                        RowKey prefix = new RowKey(rowKey.getColumns().subList(0, rowKey.getColumns().size() - 1));
                        rangeDeletes.put(new RecordKey(EventCodec.encodeKey(prefix)), new Pending(values, record));
                    } else {
                        upserts.remove(key);
                        deletes.put(key, new Pending(values, record));
                    }
                } else {
                    Map<String, Object> image = event.getAfter();
                    List<TargetTable.TargetColumn> columns = table.columns();
                    Object[] row = new Object[columns.size()];
                    for (int i = 0; i < row.length; i++) {
                        TargetTable.TargetColumn c = columns.get(i);
                        column = c.name();
                        row[i] = ValueConverter.convert(c.type(), column, image.get(column));
                    }
                    if (!deletes.isEmpty()) {
                        deletes.remove(key);
                    }
                    upserts.put(key, new Pending(row, record));
                }
                if (!event.getSource().getSnapshot()) {
                    streamed.add(new Streamed(key, event.getSource().getTsMs()));
                    onlySnapshot = false;
                }
            } catch (ValueConversionException e) {
                rejected.add(deadLetter(record, table.sourceTable(), e.column(), DeadLetterReason.VALUE, e.getMessage()));
            }
        }

        private List<Object[]> values(Map<RecordKey, Pending> pending) {
            List<Object[]> values = new ArrayList<>(pending.size());
            for (Pending p : pending.values()) {
                values.add(p.values());
            }
            return values;
        }

        long flush(Connection connection, boolean rowByRow, List<DeadLetter> rejected) throws SQLException {
            if (!rowByRow) {
                applier.delete(connection, values(deletes));
                if (applier.fresh() && onlySnapshot && deletes.isEmpty() && rangeDeletes.isEmpty()) {
                    applier.insertFresh(connection, values(upserts));
                } else {
                    applier.upsert(connection, values(upserts));
                }
                long rangeDeleted = applier.deleteRange(connection, values(rangeDeletes));
                return tallied(deletes.size() + rangeDeleted, upserts.size());
            }
            long deleted = 0;
            for (var e : deletes.entrySet()) {
                deleted += applyOne(connection, e.getKey(), e.getValue(), () -> applier.delete(connection, List.<Object[]>of(e.getValue().values())),
                        rejected);
            }
            long upserted = 0;
            for (var e : upserts.entrySet()) {
                upserted += applyOne(connection, e.getKey(), e.getValue(), () -> applier.upsert(connection, List.<Object[]>of(e.getValue().values())),
                        rejected);
            }
            for (var e : rangeDeletes.entrySet()) {
                long[] n = new long[1];
                if (applyOne(connection, e.getKey(), e.getValue(),
                        () -> n[0] = applier.deleteRange(connection, List.<Object[]>of(e.getValue().values())), rejected) > 0) {
                    deleted += n[0];
                }
            }
            return tallied(deleted, upserted);
        }

        private long tallied(long deleted, long upserted) {
            String table = applier.table().sourceTable();
            tally.rows(table, "delete", deleted);
            tally.rows(table, "upsert", upserted);
            for (Streamed s : streamed) {
                if (!refused.contains(s.key())) {
                    tally.streamed(s.commitTsMs());
                }
            }
            return deleted + upserted;
        }

        private int applyOne(Connection connection, RecordKey key, Pending pending, SqlAction action, List<DeadLetter> rejected)
                throws SQLException {
            Savepoint savepoint = connection.setSavepoint();
            try {
                action.run();
                connection.releaseSavepoint(savepoint);
                return 1;
            } catch (SQLException e) {
                if (PgDatabase.isConnectionLost(e, connection)) {
                    throw e;
                }
                connection.rollback(savepoint);
                refused.add(key);
                rejected.add(deadLetter(pending.record(), applier.table().sourceTable(), null, DeadLetterReason.REFUSED,
                        "PostgreSQL refused the row: " + e.getMessage()));
                return 0;
            }
        }
    }

    @FunctionalInterface
    private interface SqlAction {
        void run() throws SQLException;
    }

    private record Streamed(RecordKey key, long commitTsMs) {
    }

    /** A record for the dead-letter topic, with its table and kind for the metrics. */
    private record DeadLetter(ProducerRecord<byte[], byte[]> record, String table, DeadLetterReason reason) {
    }

    private DeadLetter deadLetter(ConsumerRecord<byte[], byte[]> record, String table, String column, DeadLetterReason kind,
                                  String reason) {
        LOG.warn("dead letter from {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), reason);
        var headers = DeadLetterHeaders.of(reason, record.topic(), record.partition(), record.offset(), table, column);
        return new DeadLetter(new ProducerRecord<>(deadLetterTopic, null, record.key(), record.value(), headers), table, kind);
    }

    private void sendDeadLetters(List<DeadLetter> rejected) throws SQLException {
        if (rejected.isEmpty()) {
            return;
        }
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        rejected.forEach(r -> acks.add(deadLetterProducer.send(r.record())));
        try {
            for (Future<RecordMetadata> ack : acks) {
                ack.get(60, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing dead letters", e);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            // The offsets are not committed: the batch is read again and nothing is lost.
            throw new IllegalStateException("cannot write dead letters to " + deadLetterTopic + ": " + e.getMessage(), e);
        }
        deadLetters.addAndGet(rejected.size());
    }

    /**
     * Takes the table shapes other writers of the group stored in {@code _ferry.tables}. A partition that comes from
     * another writer resumes after the schema events that writer applied: without this, its rows would find no
     * table (dead letters) or an older shape (values of new columns dropped). A stored shape replaces a known one
     * only when it has a column the known one lacks, since a lagging writer may have stored an older shape last.
     */
    private void adoptStoredSchemas() {
        try {
            Map<String, TableSchema> saved = MetadataStore.schemas(connection, settings.sourceName());
            connection.commit();
            for (TableSchema schema : saved.values()) {
                TargetTable table = TargetTable.of(settings.targetSchema(), schema, types);
                TableApplier known = appliers.get(schema.getTable());
                if (known == null || !known.table().columns().stream().map(TargetTable.TargetColumn::name).toList()
                        .containsAll(table.columns().stream().map(TargetTable.TargetColumn::name).toList())) {
                    appliers.put(schema.getTable(), new TableApplier(table, nextApplierId++));
                    metrics.table(schema.getTable());
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the table shapes from PostgreSQL: " + e.getMessage(), e);
        }
    }

    /** Puts every assigned partition back at its stored offset after a rolled-back poll; a lost connection is the caller's to handle. */
    private void resumeFromStoredOffsets() throws SQLException {
        try {
            seekToStoredOffsets(consumer.assignment());
        } catch (IllegalStateException e) {
            if (e.getCause() instanceof SQLException sql) {
                throw sql;
            }
            throw e;
        }
    }

    private void seekToStoredOffsets(Collection<TopicPartition> partitions) {
        try {
            Map<TopicPartition, Long> saved = MetadataStore.offsets(connection, settings.groupId());
            connection.commit();
            List<TopicPartition> fresh = new ArrayList<>();
            for (TopicPartition tp : partitions) {
                Long offset = saved.get(tp);
                if (offset != null) {
                    consumer.seek(tp, offset);
                    stored.put(tp, offset);
                } else {
                    fresh.add(tp);
                    stored.put(tp, MetadataStore.NONE);
                }
            }
            if (!fresh.isEmpty()) {
                consumer.seekToBeginning(fresh);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the writer's offsets from PostgreSQL: " + e.getMessage(), e);
        }
    }

    private Connection openDatabase() throws SQLException {
        Connection c = PgDatabase.connect(settings.jdbcUrl(), "ferry-writer");
        c.setAutoCommit(false);
        foreignKeysAllowed = replicaRole(c);
        MetadataStore.create(c);
        Map<String, TableApplier> loaded = new HashMap<>();
        for (TableSchema schema : MetadataStore.schemas(c, settings.sourceName()).values()) {
            loaded.put(schema.getTable(), new TableApplier(TargetTable.of(settings.targetSchema(), schema, types), nextApplierId++));
        }
        c.commit();
        appliers = loaded;
        return c;
    }

    /**
     * Sets session_replication_role = replica, as PostgreSQL's own logical replication does: foreign keys (and user
     * triggers) do not fire for the writer's rows, so a child row may arrive before its parent, as tables travel on
     * separate topics. False, with a warning, when the role may not set it: foreign keys are then not created.
     */
    private static boolean replicaRole(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("SET session_replication_role = replica");
            c.commit();
            return true;
        } catch (SQLException e) {
            if (PgDatabase.isConnectionLost(e, c)) {
                throw e;
            }
            c.rollback();
            LOG.warn("cannot set session_replication_role = replica ({}): foreign keys are not created during replication", e.getMessage());
            return false;
        }
    }

    /** Opens a new connection and puts every assigned partition back at its stored offset; false while PostgreSQL is away. */
    private boolean reconnect() {
        try {
            connection.close();
        } catch (SQLException ignored) {
            // the connection is already broken
        }
        try {
            connection = openDatabase();
            seekToStoredOffsets(consumer.assignment());
            unpositioned.retainAll(consumer.assignment());
            consumer.resume(unpositioned);
            unpositioned.clear();
            LOG.info("reconnected to PostgreSQL; resumed from the stored offsets");
            return true;
        } catch (SQLException | IllegalStateException e) {
            LOG.warn("PostgreSQL still unreachable: {}", e.getMessage());
            return false;
        }
    }

    private void rollbackQuietly() {
        try {
            connection.rollback();
        } catch (SQLException e) {
            LOG.debug("rollback failed: {}", e.getMessage());
        }
    }

    private void createDeadLetterTopic() {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers()))) {
            KafkaTopics.ensure(admin, deadLetterTopic, 1, TopicNames.DEAD_LETTER_TOPIC_CONFIG);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public long rowsApplied() {
        return rowsApplied.get();
    }

    public long deadLetters() {
        return deadLetters.get();
    }

    public Throwable failure() {
        return failure;
    }

    /** Cuts the PostgreSQL connection at once, as a crash or a database restart would; an open transaction is lost. */
    public void abortConnection() {
        try {
            connection.abort(Runnable::run);
        } catch (SQLException e) {
            LOG.debug("abort failed: {}", e.getMessage());
        }
    }

    /** Stops the loop; {@link #close()} releases the clients once {@link #run()} returned. */
    public void stop() {
        running = false;
        consumer.wakeup();
    }

    @Override
    public void close() {
        metrics.close();
        consumerMetrics.close();
        deadLetterMetrics.close();
        consumer.close(Duration.ofSeconds(5));
        deadLetterProducer.close(Duration.ofSeconds(5));
        try {
            connection.close();
        } catch (SQLException e) {
            LOG.debug("closing the PostgreSQL connection failed: {}", e.getMessage());
        }
    }
}
