package dev.ferry.bench;

import dev.ferry.cli.Pipeline;
import dev.ferry.schemas.TopicNames;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * One snapshot by ferry as {@code ferry up} runs it ({@link Pipeline} with the embedded broker), timed from
 * {@code Pipeline.start()} to {@code Progress.caughtUp()} (checked every {@code pollMillis}). The dead letters are read
 * from the broker before the pipeline is closed.
 */
record FerryRun(double seconds, double startedAt, double inKafkaAt, double firstCommitAt, boolean caughtUp, String failure,
                long rowsApplied, long deadLetters, List<DeadLetter> letters, CpuMeter.Reading cpu, double closeSeconds) {

    /** A record of {@code ferry.<source>._dlq}: table, column, reason (headers of the writer). */
    record DeadLetter(String table, String column, String reason) {
    }

    boolean failed() {
        return failure != null;
    }

    static FerryRun run(Path sqlite, String jdbcUrl, Path dataDir, Duration timeout, int pollMillis, boolean readDeadLetters) {
        CpuMeter cpu = CpuMeter.start();
        Pipeline.Options options = Pipeline.Options.of(sqlite, jdbcUrl, dataDir);
        Pipeline pipeline = new Pipeline(options);
        long t0 = System.nanoTime();
        double startedAt = Double.NaN;
        double inKafkaAt = Double.NaN;
        double firstCommitAt = Double.NaN;
        double total = Double.NaN;
        boolean caughtUp = false;
        String failure = null;
        long applied = -1;
        long dead = -1;
        List<DeadLetter> letters = List.of();
        CpuMeter.Reading reading = null;
        double closeSeconds = Double.NaN;
        try {
            pipeline.start();
            startedAt = BenchEnv.seconds(t0);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                pipeline.checkHealthy();
                if (Double.isNaN(inKafkaAt) && pipeline.ingest().snapshotDone()) {
                    inKafkaAt = BenchEnv.seconds(t0);
                }
                if (Double.isNaN(firstCommitAt) && pipeline.writer().rowsApplied() > 0) {
                    firstCommitAt = BenchEnv.seconds(t0);
                }
                Pipeline.Progress progress = pipeline.progress();
                if (progress.caughtUp()) {
                    caughtUp = true;
                    break;
                }
                if (System.nanoTime() > deadline) {
                    failure = "not caught up after " + timeout + ": " + progress;
                    break;
                }
                Thread.sleep(pollMillis);
            }
            total = BenchEnv.seconds(t0);
            reading = cpu.read();
            applied = pipeline.writer().rowsApplied();
            dead = pipeline.writer().deadLetters();
            if (readDeadLetters && dead > 0) {
                letters = readDeadLetters(pipeline.bootstrapServers(), TopicNames.deadLetterTopic(options.topicPrefix(), options.sourceName()));
            }
        } catch (Exception | AssertionError e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            failure = e.getMessage() + (root != e ? " (cause: " + root + ")" : "");
            if (reading == null) {
                reading = cpu.read();
            }
        } finally {
            long c0 = System.nanoTime();
            try {
                pipeline.close();
            } catch (RuntimeException e) {
                failure = failure == null ? "close failed: " + e : failure;
            }
            closeSeconds = BenchEnv.seconds(c0);
        }
        return new FerryRun(total, startedAt, inKafkaAt, firstCommitAt, caughtUp, failure, applied, dead, letters, reading, closeSeconds);
    }

    static List<DeadLetter> readDeadLetters(String bootstrap, String topic) {
        List<DeadLetter> out = new ArrayList<>();
        Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false", ConsumerConfig.CLIENT_ID_CONFIG, "ferry-bench-dlq",
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(32 * 1024 * 1024));
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(Set.of(tp)).get(tp);
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (consumer.position(tp) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    out.add(new DeadLetter(header(r, "ferry.table"), header(r, "ferry.column"), header(r, "ferry.reason")));
                }
            }
        } catch (RuntimeException e) {
            out.add(new DeadLetter(null, null, "(could not read the dead-letter topic " + topic + ": " + e + ")"));
        }
        return out;
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String key) {
        Header h = r.headers().lastHeader(key);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
