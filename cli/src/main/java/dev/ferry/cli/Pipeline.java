package dev.ferry.cli;

import dev.ferry.broker.EmbeddedKafkaBroker;
import dev.ferry.embed.EmbedService;
import dev.ferry.embed.EmbeddingSpec;
import dev.ferry.embed.model.EmbeddingModel;
import dev.ferry.ingest.IngestService;
import dev.ferry.ingest.sqlite.ChangeCapture;
import dev.ferry.ingest.sqlite.SchemaReader;
import dev.ferry.ingest.sqlite.SqliteFile;
import dev.ferry.observability.FerryMetrics;
import dev.ferry.observability.HealthCheck;
import dev.ferry.observability.MetricsServer;
import dev.ferry.writer.LagReader;
import dev.ferry.writer.WriterService;
import dev.ferry.writer.pg.PgDatabase;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything of {@code ferry up} in one JVM: the embedded Kafka broker (unless an external one is given),
 * the ingest service and the writer service. Each part can be stopped and started again on its own,
 * which is how the restart tests interrupt it mid-stream.
 */
public final class Pipeline implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

    /**
     * Options of a pipeline; {@code bootstrapServers} null means the embedded broker in {@code dataDir/kafka}.
     * {@code typeOverrides}: SQLite {@code table.column} → PostgreSQL type, as {@link WriterService.Settings} takes them.
     */
    public record Options(Path sqlite, String jdbcUrl, Path dataDir, String sourceName, String bootstrapServers,
                          String topicPrefix, String targetSchema, int topicPartitions, boolean auditBatches,
                          Map<String, String> connectorOverrides, Map<String, String> typeOverrides) {

        public Options {
            typeOverrides = typeOverrides == null ? Map.of() : Map.copyOf(typeOverrides);
        }

        /** Without type overrides. */
        public Options(Path sqlite, String jdbcUrl, Path dataDir, String sourceName, String bootstrapServers, String topicPrefix,
                       String targetSchema, int topicPartitions, boolean auditBatches, Map<String, String> connectorOverrides) {
            this(sqlite, jdbcUrl, dataDir, sourceName, bootstrapServers, topicPrefix, targetSchema, topicPartitions, auditBatches,
                    connectorOverrides, Map.of());
        }

        public static Options of(Path sqlite, String jdbcUrl, Path dataDir) {
            return new Options(sqlite, jdbcUrl, dataDir, SourceNames.fromFile(sqlite), null, "ferry", "public", 1, false, Map.of(), Map.of());
        }

        public Options withAuditBatches(boolean audit) {
            return new Options(sqlite, jdbcUrl, dataDir, sourceName, bootstrapServers, topicPrefix, targetSchema, topicPartitions, audit,
                    connectorOverrides, typeOverrides);
        }

        public Options withConnector(Map<String, String> overrides) {
            return new Options(sqlite, jdbcUrl, dataDir, sourceName, bootstrapServers, topicPrefix, targetSchema, topicPartitions,
                    auditBatches, overrides, typeOverrides);
        }

        public Options withTypeOverrides(Map<String, String> overrides) {
            return new Options(sqlite, jdbcUrl, dataDir, sourceName, bootstrapServers, topicPrefix, targetSchema, topicPartitions,
                    auditBatches, connectorOverrides, overrides);
        }
    }

    /**
     * Where replication stands. {@code embedLag}: records of the tables with an embedding spec not yet through the embed
     * service (0 without specs).
     */
    public record Progress(boolean snapshotDone, long changelogHighWater, long producedSeq, long schemaVersion,
                           long producedSchemaVersion, long writerLag, long backlog, long embedLag) {
        /** Every change and every schema change made in SQLite so far is in PostgreSQL. */
        public boolean caughtUp() {
            return snapshotDone && producedSeq >= changelogHighWater && producedSchemaVersion >= schemaVersion && writerLag == 0
                    && embedLag == 0;
        }
    }

    private final Options options;
    private EmbeddedKafkaBroker broker;
    private String bootstrapServers;
    // Read by the /health checks on the HTTP threads.
    private volatile IngestService ingest;
    private volatile WriterService writer;
    private Thread writerThread;
    private volatile EmbedService embed;
    private Thread embedThread;
    private FerryConfig config = FerryConfig.EMPTY;
    private boolean reembed;
    /** Loaded once and kept across restarts of the embed service: loading a model takes seconds. */
    private final Map<String, EmbeddingModel> models = new LinkedHashMap<>();
    private Admin admin;
    private Connection sqlite;
    private Connection pg;

    private final FerryMetrics metrics = new FerryMetrics();
    private String metricsAddress;
    private int metricsPort = -1;
    private MetricsServer metricsServer;

    public Pipeline(Options options) {
        this.options = options;
    }

    /**
     * Serves {@code /metrics} and {@code /health} on {@code address:port} once started (port 0: a free port, see
     * {@link #metricsPort()}). Without it the services still record their meters, in {@link #meterRegistry()}.
     */
    public Pipeline withMetrics(String address, int port) {
        this.metricsAddress = address;
        this.metricsPort = port;
        return this;
    }

    /** Embeds the tables the configuration's specs name: the embed service runs between ingest and writer. */
    public Pipeline withConfig(FerryConfig config) {
        this.config = config;
        return this;
    }

    /** Re-embeds every row of the spec tables once, from the beginning of their topics (see {@link EmbedService#reembed()}). */
    public Pipeline withReembed(boolean reembed) {
        this.reembed = reembed;
        return this;
    }

    /** Checks the inputs, then starts broker, writer, embed service and ingest. */
    public Pipeline start() throws SQLException, IOException {
        SqliteFile.check(options.sqlite());
        try (Connection probe = PgDatabase.connect(options.jdbcUrl())) {
            probe.isValid(5);
        }
        Files.createDirectories(options.dataDir());
        if (metricsAddress != null) {
            metricsServer = MetricsServer.start(metricsAddress, metricsPort, metrics.registry(), healthChecks(),
                    Map.of("postgres", ReadinessChecks.postgres(options.jdbcUrl())));
        }
        if (options.bootstrapServers() == null) {
            // The embedded broker takes a second or so to start. Meanwhile the ingest opens SQLite, installs its triggers
            // and reads its first rows; its first batch waits for the broker (docs/benchmarks.md, "JDK 25's AOT cache").
            EmbeddedKafkaBroker.Starting starting = EmbeddedKafkaBroker.startInBackground(options.dataDir().resolve("kafka"));
            bootstrapServers = starting.bootstrapServers();
            try {
                startIngest(starting.started());
                broker = starting.await();
            } catch (IOException | RuntimeException e) {
                stopIngest();
                starting.started().thenAccept(EmbeddedKafkaBroker::close);
                throw e;
            }
        } else {
            bootstrapServers = options.bootstrapServers();
        }
        Files.writeString(options.dataDir().resolve("bootstrap.servers"), bootstrapServers);
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
        startWriter();
        startEmbed();
        if (ingest == null) {
            startIngest();
        }
        return this;
    }

    public void startIngest() throws IOException {
        startIngest(java.util.concurrent.CompletableFuture.completedFuture(null));
    }

    /** Starts the ingest; its first batch waits for {@code kafkaReady}. */
    private void startIngest(java.util.concurrent.CompletableFuture<?> kafkaReady) throws IOException {
        ingest = new IngestService(new IngestService.Settings(options.sqlite(), options.sourceName(), bootstrapServers,
                options.dataDir().resolve("ingest-offsets.dat"), options.topicPrefix(), options.topicPartitions(),
                options.connectorOverrides()), metrics.registry());
        ingest.start(kafkaReady);
    }

    public void stopIngest() {
        if (ingest != null) {
            ingest.close();
            ingest = null;
        }
    }

    /** Crashes the ingest service mid-batch (see {@link IngestService#kill()}). */
    public void killIngest() {
        if (ingest != null) {
            ingest.kill();
            ingest = null;
        }
    }

    /** Crashes the writer: its PostgreSQL connection is cut mid-transaction, then its thread is interrupted. */
    public void killWriter() throws InterruptedException {
        if (writer != null) {
            writer.abortConnection();
            writer.stop();
            writerThread.interrupt();
            writerThread.join(30_000);
            writer.close();
            writer = null;
        }
    }

    public void startWriter() throws SQLException {
        writer = new WriterService(new WriterService.Settings(bootstrapServers, options.jdbcUrl(), options.sourceName(),
                options.topicPrefix(), options.targetSchema(), "ferry-writer-" + options.sourceName(), options.auditBatches(), 5000,
                options.typeOverrides(), embeddedTables()), metrics.registry());
        writerThread = new Thread(writer, "ferry-writer");
        writerThread.start();
    }

    private java.util.Set<String> embeddedTables() {
        return config.embeddedTables();
    }

    /** Starts the embed service when the configuration has embedding specs; loads their models the first time. */
    public void startEmbed() throws SQLException {
        if (config.embeddings().isEmpty()) {
            return;
        }
        for (EmbeddingSpec spec : config.embeddings()) {
            if (!models.containsKey(spec.model())) {
                long started = System.nanoTime();
                models.put(spec.model(), config.createModel(spec.model()));
                LOG.info("model {} loaded in {} ms", spec.model(), (System.nanoTime() - started) / 1_000_000);
            }
        }
        FerryConfig.Embed e = config.embed();
        embed = new EmbedService(new EmbedService.Settings(bootstrapServers, options.jdbcUrl(), options.sourceName(), options.topicPrefix(),
                options.targetSchema(), embedGroup(), config.embeddings(), e.batchSize(), e.maxWait(), e.threads(), e.cacheEntries()),
                models, metrics.registry());
        if (reembed) {
            // Once per pipeline: a later restart of the service (a crash, a test) resumes from its committed offsets.
            embed.reembed();
            reembed = false;
        }
        embedThread = new Thread(embed, "ferry-embed");
        embedThread.start();
    }

    private String embedGroup() {
        return "ferry-embed-" + options.sourceName();
    }

    /** Stops the embed service as a crash would: its last batch is neither written nor committed, or written but not committed. */
    public void stopEmbed() throws InterruptedException {
        if (embed != null) {
            embed.stop();
            embedThread.join(60_000);
            embed.close();
            embed = null;
        }
    }

    public EmbedService embed() {
        return embed;
    }

    public void stopWriter() throws InterruptedException {
        if (writer != null) {
            writer.stop();
            writerThread.join(30_000);
            writer.close();
            writer = null;
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** The port {@code /metrics} and {@code /health} are served on, -1 when they are not. */
    public int metricsPort() {
        return metricsServer == null ? -1 : metricsServer.port();
    }

    /** Where the services record their meters (docs/metrics.md). */
    public MeterRegistry meterRegistry() {
        return metrics.registry();
    }

    /**
     * What {@code /health/live} checks: both services run and have not failed. {@code /health} and {@code /health/ready}
     * also check that PostgreSQL takes a connection.
     */
    private Map<String, HealthCheck> healthChecks() {
        Map<String, HealthCheck> checks = new LinkedHashMap<>();
        checks.put("ingest", () -> {
            IngestService i = ingest;
            if (i == null) {
                throw new IllegalStateException("not running");
            }
            if (i.failure() != null) {
                throw new IllegalStateException("failed: " + ErrorMessages.describe(i.failure()));
            }
        });
        checks.put("writer", () -> {
            WriterService w = writer;
            if (w == null) {
                throw new IllegalStateException("not running");
            }
            if (w.failure() != null) {
                throw new IllegalStateException("failed: " + ErrorMessages.describe(w.failure()));
            }
        });
        if (!config.embeddings().isEmpty()) {
            checks.put("embed", () -> {
                EmbedService e = embed;
                if (e == null) {
                    throw new IllegalStateException("not running");
                }
                if (e.failure() != null) {
                    throw new IllegalStateException("failed: " + ErrorMessages.describe(e.failure()));
                }
            });
        }
        return checks;
    }

    public IngestService ingest() {
        return ingest;
    }

    public WriterService writer() {
        return writer;
    }

    public Progress progress() throws SQLException, InterruptedException {
        if (sqlite == null) {
            sqlite = SqliteFile.open(options.sqlite());
        }
        if (pg == null || pg.isClosed()) {
            pg = PgDatabase.connect(options.jdbcUrl());
        }
        long highWater = ChangeCapture.installed(sqlite) ? ChangeCapture.highWaterMark(sqlite) : 0;
        long produced = ingest == null ? -1 : ingest.producedSeq();
        long backlog = ChangeCapture.installed(sqlite) ? ChangeCapture.backlog(sqlite, produced) : 0;
        // The embed service's lag is read before the writer's: what the embed service writes after this read is counted
        // in the writer's lag, so embedLag == 0 and writerLag == 0 together mean every change is through both.
        long embedLag = config.embeddings().isEmpty() ? 0
                : EmbedService.lag(admin, options.topicPrefix(), options.sourceName(), embeddedTables(), embedGroup());
        Map<TopicPartition, Long> lag;
        try {
            lag = LagReader.lag(admin, pg, options.topicPrefix(), options.sourceName(), "ferry-writer-" + options.sourceName());
        } catch (SQLException e) {
            // Reconnect on the next call: the server may have restarted.
            pg.close();
            pg = null;
            throw e;
        }
        long total = lag.values().stream().mapToLong(Long::longValue).sum();
        boolean snapshotDone = ingest != null && ingest.snapshotDone();
        long schemaVersion = SchemaReader.schemaVersion(sqlite);
        long producedSchemaVersion = ingest == null ? -1 : ingest.producedSchemaVersion();
        return new Progress(snapshotDone, highWater, produced, schemaVersion, producedSchemaVersion, total, backlog, embedLag);
    }

    /** Waits until every change made so far in SQLite is in PostgreSQL; fails fast if a service died. */
    public Progress awaitCaughtUp(Duration timeout) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Progress p;
        while (true) {
            checkHealthy();
            p = progress();
            if (p.caughtUp()) {
                return p;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not caught up after " + timeout + ": " + p);
            }
            Thread.sleep(100);
        }
    }

    public void checkHealthy() {
        if (ingest != null && ingest.failure() != null) {
            throw new IllegalStateException("ingest failed: " + ingest.failure().getMessage(), ingest.failure());
        }
        if (writer != null && writer.failure() != null) {
            throw new IllegalStateException("writer failed: " + writer.failure().getMessage(), writer.failure());
        }
        if (embed != null && embed.failure() != null) {
            throw new IllegalStateException("embed service failed: " + embed.failure().getMessage(), embed.failure());
        }
    }

    @Override
    public void close() {
        long started = System.nanoTime();
        if (metricsServer != null) {
            metricsServer.close();
        }
        stopIngest();
        long ingestStopped = System.nanoTime();
        try {
            stopEmbed();
            stopWriter();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long servicesStopped = System.nanoTime();
        models.values().forEach(EmbeddingModel::close);
        for (AutoCloseable c : new AutoCloseable[] {admin, sqlite, pg, broker}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    LOG.warn("closing {} failed: {}", c.getClass().getSimpleName(), e.getMessage());
                }
            }
        }
        metrics.close();
        LOG.info("stopped in {} ms (ingest {} ms, embed and writer {} ms, broker and connections {} ms)",
                (System.nanoTime() - started) / 1_000_000, (ingestStopped - started) / 1_000_000,
                (servicesStopped - ingestStopped) / 1_000_000, (System.nanoTime() - servicesStopped) / 1_000_000);
    }
}
