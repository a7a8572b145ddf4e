package dev.ferry.cli;

import dev.ferry.writer.pg.TypeMapping;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "up", mixinStandardHelpOptions = true,
        description = {"Replicates a live SQLite file into PostgreSQL until stopped (Ctrl-C).",
                "Installs change capture in the SQLite file, snapshots every table, then streams every change.",
                "Runs an embedded single-node Kafka broker unless --bootstrap-servers is given."})
final class UpCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(UpCommand.class);

    @Mixin
    ConnectionOptions connection = new ConnectionOptions();

    @Option(names = "--partitions", paramLabel = "N", defaultValue = "1", description = "Partitions per table topic (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--tables", paramLabel = "REGEX", description = "Capture only the tables whose whole name matches this regular expression.")
    String tables;

    @Option(names = "--type-override", paramLabel = "TABLE.COLUMN=TYPE",
            description = {"PostgreSQL type for one column instead of the one its declared type maps to; repeatable.",
                    "TYPE is one of: bigint, double precision, numeric, text, bytea, boolean, date, timestamptz, time, jsonb, uuid.",
                    "Names match SQLite's, ignoring ASCII case; quote a name that holds a dot: '\"my.table\".col=jsonb'.",
                    "Applies when ferry creates the column (see docs/type-mapping.md)."})
    List<String> typeOverrides = new ArrayList<>();

    @Option(names = "--config", paramLabel = "FILE",
            description = {"ferry's configuration file (YAML): embedding specs and embed service tuning.",
                    "Keys and an example: docs/configuration.md#configuration-file."})
    java.nio.file.Path configFile;

    @Option(names = "--reembed",
            description = {"Embed every row of the tables with an embedding spec again, from the beginning of their topics",
                    "(after changing a spec's model or column; see docs/operations.md#re-embedding). Once per start."})
    boolean reembed;

    @Option(names = "--report-interval", paramLabel = "SECONDS", defaultValue = "10",
            description = "How often to log progress (default: ${DEFAULT-VALUE}).")
    int reportInterval;

    @Option(names = "--metrics-address", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "Address to serve /metrics (Prometheus) and /health on (default: ${DEFAULT-VALUE}; 0.0.0.0 for every interface).")
    String metricsAddress;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "9464",
            description = {"Port to serve /metrics and /health on (default: ${DEFAULT-VALUE}; 0 picks a free port, logged at start).",
                    "The metrics are described in docs/metrics.md."})
    int metricsPort;

    @Option(names = "--until-caught-up",
            description = {"Stop (exit 0) as soon as every change made in SQLite so far is in PostgreSQL: the snapshot, the changes",
                    "made while it ran, and the indexes built after it. A one-shot copy; start again without it to keep streaming."})
    boolean untilCaughtUp;

    @Override
    public Integer call() throws Exception {
        Pipeline.Options options = Options.validated(connection, partitions, tables, typeOverrides, false);
        FerryConfig config = configFile == null ? FerryConfig.EMPTY : FerryConfig.load(configFile);
        if (metricsPort < 0 || metricsPort > 65535) {
            throw new IllegalArgumentException("--metrics-port must be between 0 and 65535, not " + metricsPort);
        }
        CountDownLatch stopRequested = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        // Ctrl-C: ask the main thread to stop, and hold the JVM until the pipeline closed in order.
        Thread hook = new Thread(() -> {
            stopRequested.countDown();
            try {
                stopped.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "ferry-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try (Pipeline pipeline = new Pipeline(options).withConfig(config).withReembed(reembed).withMetrics(metricsAddress, metricsPort)) {
            long started = System.nanoTime();
            pipeline.start();
            LOG.info("ferry up: {} -> {} (Kafka {}); Ctrl-C to stop", options.sqlite(), options.jdbcUrl(), pipeline.bootstrapServers());
            LOG.info("metrics on http://{}:{}/metrics, health on /health", metricsAddress, pipeline.metricsPort());
            // On a terminal the snapshot shows as progress bars; otherwise its numbers join the report lines.
            SnapshotProgressView snapshot = System.console() != null
                    ? SnapshotProgressView.bars(pipeline.meterRegistry(), () -> pipeline.ingest() != null && pipeline.ingest().snapshotDone(), null)
                    : null;
            SnapshotProgressView.Lines lines = new SnapshotProgressView.Lines();
            long reportEveryMs = Math.max(1, reportInterval) * 1000L;
            long nextReport = System.nanoTime() + reportEveryMs * 1_000_000L;
            try {
                // With --until-caught-up the loop also looks at the progress every 100 ms, as `ferry cutover` does.
                while (!stopRequested.await(untilCaughtUp ? 100 : reportEveryMs, TimeUnit.MILLISECONDS)) {
                    pipeline.checkHealthy();
                    if (untilCaughtUp && caughtUp(pipeline)) {
                        LOG.info("caught up {} ms after the start: every change made in SQLite so far is in PostgreSQL; stopping"
                                + " (--until-caught-up)", (System.nanoTime() - started) / 1_000_000);
                        break;
                    }
                    if (System.nanoTime() >= nextReport) {
                        report(pipeline, snapshot == null ? lines : null);
                        nextReport = System.nanoTime() + reportEveryMs * 1_000_000L;
                    }
                }
            } finally {
                if (snapshot != null) {
                    snapshot.close();
                }
            }
            LOG.info("stopping");
        } finally {
            stopped.countDown();
        }
        return 0;
    }

    private static boolean caughtUp(Pipeline pipeline) {
        if (pipeline.ingest() == null || !pipeline.ingest().snapshotDone()) {
            // Not before the snapshot is in Kafka: progress() asks SQLite, Kafka and PostgreSQL, ten times a second.
            return false;
        }
        try {
            return pipeline.progress().caughtUp();
        } catch (Exception e) {
            LOG.debug("cannot read progress: {}", ErrorMessages.describe(e));
            return false;
        }
    }

    private static void report(Pipeline pipeline, SnapshotProgressView.Lines snapshotLines) {
        try {
            Pipeline.Progress p = pipeline.progress();
            LOG.info("{}: changelog backlog {}, writer lag {} record(s), embed lag {} record(s){}", p.snapshotDone() ? "streaming" : "snapshot",
                    p.backlog(), p.writerLag(), p.embedLag(), p.caughtUp() ? ", caught up" : "");
            if (!p.snapshotDone() && snapshotLines != null) {
                LOG.info("snapshot: {}", snapshotLines.line(SnapshotProgressView.read(pipeline.meterRegistry()), System.nanoTime()));
            }
        } catch (Exception e) {
            // Progress is only a report: the services ride out an outage on their own.
            LOG.warn("cannot read progress: {}", ErrorMessages.describe(e));
        }
    }

    /** Turns options into pipeline options, naming the option at fault when one is wrong. */
    static final class Options {
        private Options() {
        }

        static Pipeline.Options validated(ConnectionOptions c, int partitions, String tables, List<String> typeOverrides, boolean audit) {
            String source = sourceName(c.source());
            return new Pipeline.Options(c.sqlite, c.postgres, c.dataDir, source, c.bootstrapServers, "ferry", c.targetSchema,
                    partitions(partitions), audit, connector(tables), typeOverrides(typeOverrides));
        }

        static String sourceName(String source) {
            if (!source.matches("[A-Za-z0-9-][A-Za-z0-9_-]*")) {
                throw new IllegalArgumentException("--source-name '" + source + "' must use only letters, digits, '_' and '-'");
            }
            return source;
        }

        static int partitions(int partitions) {
            if (partitions < 1 || partitions > 1024) {
                throw new IllegalArgumentException("--partitions must be between 1 and 1024, not " + partitions);
            }
            return partitions;
        }

        /** The connector options that {@code --tables} sets. */
        static Map<String, String> connector(String tables) {
            Map<String, String> connector = new HashMap<>();
            if (tables != null) {
                try {
                    java.util.regex.Pattern.compile(tables);
                } catch (java.util.regex.PatternSyntaxException e) {
                    throw new IllegalArgumentException("--tables '" + tables + "' is not a valid regular expression: " + e.getDescription());
                }
                connector.put("tables.include", tables);
            }
            return connector;
        }

        /** {@code TABLE.COLUMN=TYPE} options as a map; split at the last '=', since a type name holds none. */
        static Map<String, String> typeOverrides(List<String> options) {
            Map<String, String> overrides = new LinkedHashMap<>();
            for (String option : options) {
                int eq = option.lastIndexOf('=');
                if (eq < 0) {
                    throw new IllegalArgumentException("--type-override '" + option + "' must be TABLE.COLUMN=TYPE");
                }
                if (overrides.put(option.substring(0, eq), option.substring(eq + 1)) != null) {
                    throw new IllegalArgumentException("--type-override '" + option.substring(0, eq) + "' is given twice");
                }
            }
            try {
                TypeMapping.withOverrides(overrides);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--type-override: " + e.getMessage(), e);
            }
            return overrides;
        }
    }
}
