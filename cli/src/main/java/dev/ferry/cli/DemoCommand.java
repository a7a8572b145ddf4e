package dev.ferry.cli;

import dev.ferry.embed.EmbeddingSpec;
import dev.ferry.ingest.sqlite.SqlIdentifiers;
import dev.ferry.writer.pg.PgDatabase;
import dev.ferry.writer.pg.PgIdentifiers;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Shows ferry working end to end on a generated knowledgebase database:",
                "generates the SQLite file, runs 'ferry up' (embedded Kafka) into PostgreSQL, embeds document_chunks.text",
                "into embedding_vector vector(384) with the in-process all-MiniLM-L6-v2, keeps writing to SQLite",
                "like a live application, prints rows arriving and the lag falling to zero, then checks the counts."})
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--postgres", paramLabel = "JDBC_URL", defaultValue = ConnectionOptions.DEFAULT_POSTGRES,
            description = "Target PostgreSQL database (default: ${DEFAULT-VALUE}).")
    String postgres;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = ".ferry/demo",
            description = "Directory for the demo's SQLite file and ferry's state; emptied first (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--chunks", paramLabel = "N", defaultValue = "5000", description = "Document chunks to generate (default: ${DEFAULT-VALUE}).")
    int chunks;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "20", description = "How long the application keeps writing (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--target-schema", paramLabel = "SCHEMA", defaultValue = "ferry_demo",
            description = "PostgreSQL schema for the demo's tables; dropped first (default: ${DEFAULT-VALUE}).")
    String targetSchema;

    @Option(names = "--metrics-address", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "Address to serve /metrics and /health on, with --metrics-port (default: ${DEFAULT-VALUE}).")
    String metricsAddress;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = {"Serve /metrics (Prometheus) and /health on this port while the demo runs, as 'ferry up' does",
                    "(default: not served; 0 picks a free port, printed at start). See docs/metrics.md."})
    Integer metricsPort;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (chunks < 1 || seconds < 0) {
            throw new IllegalArgumentException("--chunks must be at least 1 and --seconds at least 0");
        }
        if (metricsPort != null && (metricsPort < 0 || metricsPort > 65535)) {
            throw new IllegalArgumentException("--metrics-port must be between 0 and 65535, not " + metricsPort);
        }
        PrintWriter out = spec.commandLine().getOut();
        resetDirectory(dataDir);
        Path sqlite = dataDir.resolve("knowledgebase.db");
        SampleDatabase.create(sqlite, 50, chunks, 42);
        out.printf("generated %s with %d document chunks%n", sqlite, chunks);
        try (Connection pg = PgDatabase.connect(postgres); Statement st = pg.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + PgIdentifiers.quote(targetSchema) + " CASCADE");
            st.execute("DELETE FROM _ferry.offsets WHERE consumer_group = 'ferry-writer-knowledgebase'");
            st.execute("DELETE FROM _ferry.tables WHERE source = 'knowledgebase'");
        } catch (SQLException e) {
            if (!"42P01".equals(e.getSQLState())) {
                throw e;
            }
        }
        Pipeline.Options options = new Pipeline.Options(sqlite, postgres, dataDir.resolve("state"), "knowledgebase", null, "ferry",
                targetSchema, 1, false, Map.of());
        // The reference app's chunks get their vectors from the in-process all-MiniLM-L6-v2, as a RAG app needs them.
        Pipeline configured = new Pipeline(options).withConfig(new FerryConfig(List.of(EmbeddingSpec.of("demo", "document_chunks", "text",
                "embedding_vector", null, EmbeddingSpec.DEFAULT_MODEL, "hnsw", null)), FerryConfig.Embed.DEFAULTS));
        if (metricsPort != null) {
            configured.withMetrics(metricsAddress, metricsPort);
        }
        try (Pipeline pipeline = configured; Connection app = SampleDatabase.open(sqlite);
             Connection pg = PgDatabase.connect(postgres)) {
            pipeline.start();
            out.printf("ferry up: %s -> %s schema %s (embedded Kafka at %s)%n", sqlite, postgres, targetSchema, pipeline.bootstrapServers());
            if (metricsPort != null) {
                out.printf("metrics on http://%s:%d/metrics, health on /health%n", metricsAddress, pipeline.metricsPort());
            }
            out.flush();
            app.setAutoCommit(false);
            Random random = new Random(7);
            long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
            long step = 0;
            long nextReport = 0;
            while (System.nanoTime() < end) {
                try {
                    SampleDatabase.applicationStep(app, random, step++, 50);
                    app.commit();
                } catch (SQLException e) {
                    // A deferred transaction that read before ferry's changelog trim wrote gets SQLITE_BUSY(_SNAPSHOT)
                    // at once, whatever the busy timeout: an application retries it, and so does the demo.
                    if ((e.getErrorCode() & 0xff) != 5) {
                        throw e;
                    }
                    app.rollback();
                    Thread.sleep(5);
                    continue;
                }
                if (System.nanoTime() >= nextReport) {
                    report(out, pipeline, app, pg, step);
                    nextReport = System.nanoTime() + 1_000_000_000L;
                }
                Thread.sleep(5);
            }
            out.printf("application stopped after %d transactions; waiting for ferry to catch up%n", step);
            Pipeline.Progress done = pipeline.awaitCaughtUp(Duration.ofMinutes(5));
            report(out, pipeline, app, pg, step);
            boolean same = true;
            for (String table : new String[] {"users", "chat_sessions", "chat_messages", "usage_logs", "notion_syncs", "document_chunks"}) {
                long s = count(app, SqlIdentifiers.quote(table));
                long t = count(pg, PgIdentifiers.qualified(targetSchema, table));
                same &= s == t;
                out.printf("  %-16s sqlite %7d  postgres %7d  %s%n", table, s, t, s == t ? "ok" : "DIFFERENT");
            }
            long vectors = count(pg, PgIdentifiers.qualified(targetSchema, "document_chunks") + " WHERE embedding_vector IS NOT NULL");
            out.printf("  document_chunks with a vector(384) embedding: %d (chunks without text have none)%n", vectors);
            out.printf("caught up: lag %d, backlog %d. %s%n", done.writerLag(), done.backlog(),
                    same ? "Every table has the same row count in SQLite and PostgreSQL." : "Row counts differ!");
            return same ? 0 : Ferry.EXIT_FAILURE;
        }
    }

    private void report(PrintWriter out, Pipeline pipeline, Connection app, Connection pg, long step) throws Exception {
        Pipeline.Progress p = pipeline.progress();
        long source = count(app, "document_chunks");
        String target;
        try {
            target = Long.toString(count(pg, PgIdentifiers.qualified(targetSchema, "document_chunks")));
        } catch (SQLException e) {
            target = "-";
        }
        out.printf("  %s | app transactions %6d | document_chunks sqlite %7d postgres %7s | lag: embed %5d, writer %6d records | backlog %6d%n",
                p.snapshotDone() ? "streaming" : "snapshot ", step, source, target, p.embedLag(), p.writerLag(), p.backlog());
        out.flush();
    }

    private static long count(Connection c, String table) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void resetDirectory(Path dir) throws java.io.IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(dir);
    }
}
