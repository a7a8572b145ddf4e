package dev.ferry.cli;

import dev.ferry.ingest.sqlite.ChangeCapture;
import dev.ferry.ingest.sqlite.SqliteFile;
import dev.ferry.schemas.DeadLetterHeaders;
import dev.ferry.schemas.EventCodec;
import dev.ferry.schemas.TopicNames;
import dev.ferry.schemas.avro.KeyColumn;
import dev.ferry.schemas.avro.RowKey;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "dlq", mixinStandardHelpOptions = true,
        description = {"Dead letters: rows the writer could not write to PostgreSQL, kept in the topic ferry.<source>._dlq",
                "with the reason, the table, the column and the original record."},
        subcommands = {DlqCommand.ListCommand.class, DlqCommand.RetryCommand.class})
final class DlqCommand implements Runnable {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** A dead letter as the commands show it. */
    record DeadLetter(long offset, Instant time, String table, String column, String reason, List<KeyColumn> key) {
    }

    /** Options and reading shared by list and retry. */
    static final class DlqOptions {
        @Mixin
        ConnectionOptions connection = new ConnectionOptions();

        @Option(names = "--table", paramLabel = "TABLE", description = "Only the dead letters of this SQLite table.")
        String table;

        @Option(names = "--all", description = "Also the dead letters already retried.")
        boolean all;

        String group() {
            return "ferry-dlq-" + connection.source();
        }

        /** The dead letters after the last retry (or all), and the offset after the last one read. */
        Map.Entry<List<DeadLetter>, Long> read(KafkaConsumer<byte[], byte[]> consumer) {
            TopicPartition tp = new TopicPartition(TopicNames.deadLetterTopic("ferry", connection.source()), 0);
            consumer.assign(List.of(tp));
            OffsetAndMetadata committed = consumer.committed(java.util.Set.of(tp)).get(tp);
            if (all || committed == null) {
                consumer.seekToBeginning(List.of(tp));
            } else {
                consumer.seek(tp, committed.offset());
            }
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            List<DeadLetter> letters = new ArrayList<>();
            while (consumer.position(tp) < end) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    DeadLetter letter = decode(r);
                    if (table == null || table.equals(letter.table())) {
                        letters.add(letter);
                    }
                }
            }
            return Map.entry(letters, end);
        }

        KafkaConsumer<byte[], byte[]> consumer() throws java.io.IOException {
            String bootstrap = connection.bootstrapServers;
            if (bootstrap == null) {
                var file = connection.dataDir.resolve("bootstrap.servers");
                if (!Files.exists(file)) {
                    throw new IllegalArgumentException("no Kafka address: pass --bootstrap-servers, or --data-dir of a 'ferry up' that is running");
                }
                bootstrap = Files.readString(file).trim();
            }
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group());
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
            p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(32 * 1024 * 1024));
            return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        }

        private static DeadLetter decode(ConsumerRecord<byte[], byte[]> r) {
            Map<String, String> headers = new LinkedHashMap<>();
            for (Header h : r.headers()) {
                headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8));
            }
            List<KeyColumn> key = r.key() == null ? List.of() : EventCodec.decodeKey(r.key()).getColumns();
            return new DeadLetter(r.offset(), Instant.ofEpochMilli(r.timestamp()), headers.get(DeadLetterHeaders.TABLE),
                    headers.get(DeadLetterHeaders.COLUMN), headers.getOrDefault(DeadLetterHeaders.REASON, "?"), key);
        }
    }

    static String describeKey(List<KeyColumn> key) {
        StringBuilder sb = new StringBuilder();
        for (KeyColumn k : key) {
            Object v = k.getValue();
            String shown = v instanceof ByteBuffer b ? "x'" + HexFormat.of().formatHex(bytes(b)) + "'" : v instanceof String s ? "'" + s + "'" : String.valueOf(v);
            sb.append(sb.length() == 0 ? "" : ", ").append(k.getName()).append('=').append(shown);
        }
        return sb.toString();
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists the dead letters not yet retried (or all with --all): offset, time, table, key, column and reason.")
    static final class ListCommand implements Callable<Integer> {
        @Mixin
        DlqOptions options = new DlqOptions();

        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            try (KafkaConsumer<byte[], byte[]> consumer = options.consumer()) {
                List<DeadLetter> letters = options.read(consumer).getKey();
                for (DeadLetter d : letters) {
                    out.printf("%d\t%s\t%s\t%s\t%s\t%s%n", d.offset(), d.time(), d.table(), describeKey(d.key()),
                            d.column() == null ? "-" : d.column(), d.reason().replaceAll("\\s*\n\\s*", " "));
                }
                out.printf("%d dead letter(s)%s%n", letters.size(), options.all ? "" : " not yet retried");
            }
            return 0;
        }
    }

    @Command(name = "retry", mixinStandardHelpOptions = true,
            description = {"Reads the rows of the dead letters again from SQLite, after you fixed what made them fail",
                    "(a type override, the target table). Each key gets a changelog entry, so the current row goes",
                    "through ferry again in order with the application's changes; 'ferry up' must be running (or started)",
                    "to carry them. A row that fails again becomes a new dead letter."})
    static final class RetryCommand implements Callable<Integer> {
        @Mixin
        DlqOptions options = new DlqOptions();

        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            try (KafkaConsumer<byte[], byte[]> consumer = options.consumer()) {
                Map.Entry<List<DeadLetter>, Long> read = options.read(consumer);
                Map<String, List<List<Object>>> keysByTable = new LinkedHashMap<>();
                int skipped = 0;
                for (DeadLetter d : read.getKey()) {
                    if (d.table() == null || d.key().isEmpty()) {
                        skipped++;
                        continue;
                    }
                    List<Object> key = new ArrayList<>();
                    d.key().forEach(k -> key.add(k.getValue()));
                    keysByTable.computeIfAbsent(d.table(), t -> new ArrayList<>()).add(key);
                }
                int requested = 0;
                try (Connection sqlite = SqliteFile.openForWrites(options.connection.sqlite)) {
                    if (!ChangeCapture.installed(sqlite)) {
                        throw new IllegalStateException("change capture is not installed in " + options.connection.sqlite + ": run ferry up first");
                    }
                    for (var e : keysByTable.entrySet()) {
                        requested += ChangeCapture.requestReread(sqlite, e.getKey(), e.getValue());
                    }
                }
                if (options.table == null) {
                    // Remember how far the retry went, so that list shows only what came after.
                    consumer.commitSync(Map.of(new TopicPartition(TopicNames.deadLetterTopic("ferry", options.connection.source()), 0),
                            new OffsetAndMetadata(read.getValue())));
                }
                out.printf("%d row(s) queued to be read again%s%n", requested,
                        skipped == 0 ? "" : "; " + skipped + " dead letter(s) without table or key were left as they are");
            }
            return 0;
        }
    }
}
