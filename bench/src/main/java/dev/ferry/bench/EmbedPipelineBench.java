package dev.ferry.bench;

import dev.ferry.cli.FerryConfig;
import dev.ferry.cli.Pipeline;
import dev.ferry.cli.SampleDatabase;
import dev.ferry.embed.EmbeddingSpec;
import dev.ferry.embed.model.EmbeddingModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Vectors per second of the whole pipeline (SQLite → Kafka → embed service → PostgreSQL + pgvector, all in one JVM)
 * against the raw model embedding the same texts with the same batch size, in the same run. Texts are distinct, so the
 * content cache does not help the pipeline. See docs/benchmarks.md.
 *
 * <pre>java -cp "bench/target/ferry-bench.jar:bench/target/lib/*" dev.ferry.bench.EmbedPipelineBench --chunks 20000</pre>
 */
public final class EmbedPipelineBench {

    private static final String[] WORDS = ("the a of to and in that is for on with as by at from it this be are was or an which their"
            + " data table row column index vector query search user document chunk text model embedding database replication kafka"
            + " postgres sqlite migration store cache batch stream change event snapshot schema key value time record latency"
            + " throughput service writer reader topic partition offset commit transaction backup restore report revenue customer"
            + " invoice meeting project release deploy server cluster network memory disk file page note summary question answer"
            + " password account settings billing support ticket email calendar team manager engineer design review plan budget")
            .split(" ");

    private EmbedPipelineBench() {
    }

    public static void main(String[] argv) throws Exception {
        int chunks = 20_000;
        int batch = 32;
        int threads = 1;
        String model = "minilm";
        String pgServer = "jdbc:postgresql://127.0.0.1:5432/";
        for (int i = 0; i < argv.length; i++) {
            switch (argv[i]) {
                case "--chunks" -> chunks = Integer.parseInt(argv[++i]);
                case "--batch" -> batch = Integer.parseInt(argv[++i]);
                case "--threads" -> threads = Integer.parseInt(argv[++i]);
                case "--model" -> model = argv[++i];
                case "--pg" -> pgServer = argv[++i];
                case "-h", "--help" -> {
                    System.out.println("EmbedPipelineBench [--chunks N (20000)] [--batch B (32)] [--threads T (1)] [--model minilm|minilm-q]"
                            + " [--pg jdbc:postgresql://127.0.0.1:5432/]");
                    return;
                }
                default -> throw new IllegalArgumentException("unknown option " + argv[i] + " (--help lists them)");
            }
        }
        BenchEnv env = new BenchEnv(pgServer, "postgres");
        Path dir = Files.createTempDirectory("ferry-embed-bench");
        Path sqlite = dir.resolve("kb.db");
        SampleDatabase.create(sqlite, 50, 0, 1);
        List<String> texts = texts(chunks, 42);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + sqlite)) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO document_chunks (chunk_id, user_id, text, source_type) VALUES (?, ?, ?, 'web')")) {
                for (int i = 0; i < texts.size(); i++) {
                    ps.setString(1, "c" + i);
                    ps.setInt(2, 1 + i % 50);
                    ps.setString(3, texts.get(i));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            c.commit();
        }
        System.out.printf(Locale.ROOT, "%d distinct texts, %d-%d words; batch %d, %d thread(s), model %s; %s; %d cores%n", texts.size(), 5, 60,
                batch, threads, model, env.postgresVersion(), Runtime.getRuntime().availableProcessors());

        FerryConfig config = new FerryConfig(List.of(EmbeddingSpec.of("bench", "document_chunks", "text", "embedding_vector", null, model,
                "hnsw", null)), new FerryConfig.Embed(batch, Duration.ofMillis(50), threads, 50_000));

        // The raw model: the same texts, the same batch size, one call per batch after the other.
        double raw;
        try (EmbeddingModel m = config.createModel(model)) {
            m.embed(texts.subList(0, Math.min(batch, texts.size())));
            long started = System.nanoTime();
            for (int from = 0; from < texts.size(); from += batch) {
                m.embed(texts.subList(from, Math.min(texts.size(), from + batch)));
            }
            raw = texts.size() / ((System.nanoTime() - started) / 1e9);
        }
        System.out.printf(Locale.ROOT, "raw model:  %,.1f vectors/s%n", raw);

        String db = BenchEnv.newDatabaseName("ferry_embed_bench");
        env.createDatabase(db);
        try {
            try (Connection pg = DriverManager.getConnection(env.jdbcUrl(db)); Statement st = pg.createStatement()) {
                st.execute("CREATE EXTENSION IF NOT EXISTS vector");
            }
            Pipeline.Options options = new Pipeline.Options(sqlite, env.jdbcUrl(db), dir.resolve("state"), "bench", null, "ferry", "public", 1,
                    false, Map.of());
            try (Pipeline p = new Pipeline(options).withConfig(config);
                 Connection pg = DriverManager.getConnection(env.jdbcUrl(db))) {
                p.start();
                // The model is loaded by start(); the clock runs from the first record to the last vector in PostgreSQL.
                long started = System.nanoTime();
                p.awaitCaughtUp(Duration.ofHours(2));
                double seconds = (System.nanoTime() - started) / 1e9;
                long vectors;
                try (Statement st = pg.createStatement(); ResultSet rs = st.executeQuery(
                        "SELECT count(*) FROM public.document_chunks WHERE embedding_vector IS NOT NULL")) {
                    rs.next();
                    vectors = rs.getLong(1);
                }
                if (vectors != texts.size()) {
                    throw new IllegalStateException("expected " + texts.size() + " vectors in PostgreSQL, found " + vectors);
                }
                double pipeline = vectors / seconds;
                System.out.printf(Locale.ROOT, "pipeline:   %,.1f vectors/s (%d vectors in %.1f s, SQLite -> Kafka -> embed -> PostgreSQL,"
                        + " HNSW index included)%n", pipeline, vectors, seconds);
                System.out.printf(Locale.ROOT, "ratio pipeline / raw model: %.2f%n", pipeline / raw);
            }
        } finally {
            env.dropDatabase(db);
        }
    }

    /** Distinct texts of 5 to 60 words. */
    static List<String> texts(int n, long seed) {
        Random random = new Random(seed);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int words = 5 + random.nextInt(56);
            StringBuilder text = new StringBuilder("Note ").append(i).append(':');
            for (int w = 0; w < words; w++) {
                text.append(' ').append(WORDS[random.nextInt(WORDS.length)]);
            }
            out.add(text.append('.').toString());
        }
        return out;
    }
}
