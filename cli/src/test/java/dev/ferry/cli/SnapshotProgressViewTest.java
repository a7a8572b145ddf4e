package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.testkit.KafkaAndPostgres;
import dev.ferry.testkit.SqliteTestDatabase;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The snapshot progress shown by {@code ferry up}: bars on a terminal, log lines otherwise, from the ingest's meters. */
class SnapshotProgressViewTest {

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();

    @TempDir
    Path dir;

    @Test
    void aBarPerTableEndsAtTheRowsTheSnapshotRead() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "bars.db", "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)",
                "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
        db.insert("INSERT INTO orders VALUES (?, ?)", IntStream.range(0, 20_000).mapToObj(i -> new Object[] {i, "item " + i}).toList());
        db.insert("INSERT INTO users VALUES (?, ?)", IntStream.range(0, 37).mapToObj(i -> new Object[] {i, "user " + i}).toList());
        List<String> drawn = new CopyOnWriteArrayList<>();
        Pipeline.Options options = new Pipeline.Options(db.path(), infra.pg().jdbcUrl(), dir.resolve("state"), "bars",
                infra.broker().bootstrapServers(), "ferry", "bars", 1, false, Map.of());
        try (Pipeline pipeline = new Pipeline(options)) {
            pipeline.start();
            try (SnapshotProgressView view = SnapshotProgressView.bars(pipeline.meterRegistry(),
                    () -> pipeline.ingest() != null && pipeline.ingest().snapshotDone(), new DelegatingProgressBarConsumer(drawn::add, 120))) {
                pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            }
            List<SnapshotProgressView.Table> tables = SnapshotProgressView.read(pipeline.meterRegistry());
            assertEquals(List.of(new SnapshotProgressView.Table("orders", 20_000, 20_000, true), new SnapshotProgressView.Table("users", 37, 37, true)),
                    tables);
        }
        String last = "";
        for (String table : new String[] {"orders", "users"}) {
            String total = table.equals("orders") ? "20000/20000" : "37/37";
            // The last line drawn of the table: a snapshot faster than the 200 ms refresh is first drawn whole at 0:00:00,
            // before the bar has a rate or a percentage.
            last = drawn.stream().filter(l -> l.startsWith(table) && l.contains(total)).reduce((a, b) -> b).orElse(null);
            assertTrue(last != null, table + " ends with a full bar " + total + ": " + drawn);
            assertTrue(last.contains("100%") && last.contains("rows/s"), last);
        }
    }

    @Test
    void withoutATerminalALogLineGivesRowsOfTotalRateAndEta() {
        MeterRegistry registry = new SimpleMeterRegistry();
        AtomicLong orders = new AtomicLong(2_000);
        gauges(registry, "users", () -> 50, 50, 1);
        gauges(registry, "orders", orders::get, 8_000, 0);
        gauges(registry, "notes", () -> 0, Double.NaN, 0);
        SnapshotProgressView.Lines lines = new SnapshotProgressView.Lines();
        assertEquals("1 of 3 table(s) done, 2050 row(s) read; orders: 2000 of ~8000 row(s) (25%)",
                lines.line(SnapshotProgressView.read(registry), 0));
        orders.set(4_000);
        assertEquals("1 of 3 table(s) done, 4050 row(s) read; orders: 4000 of ~8000 row(s) (50%), 2000 rows/s, ETA 2s",
                lines.line(SnapshotProgressView.read(registry), 1_000_000_000L));
    }

    private static void gauges(MeterRegistry registry, String table, java.util.function.LongSupplier rows, double expected, int done) {
        Gauge.builder("ferry.snapshot.rows", rows::getAsLong).tag("source", "s").tag("table", table).register(registry);
        Gauge.builder("ferry.snapshot.rows.expected", () -> expected).tag("source", "s").tag("table", table).register(registry);
        Gauge.builder("ferry.snapshot.done", () -> done).tag("source", "s").tag("table", table).register(registry);
    }
}
