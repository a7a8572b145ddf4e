package dev.ferry.cli;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The snapshot's progress for a person watching {@code ferry up}, read from the ingest's own meters
 * ({@code ferry_snapshot_rows}, {@code ferry_snapshot_rows_expected}, {@code ferry_snapshot_done}; docs/metrics.md):
 * on a terminal, a progress bar per table as it is read (rows done/total, rate, ETA); otherwise {@link Lines}, one
 * log line per report. Tables are read one after the other, so one bar is live at a time.
 */
final class SnapshotProgressView implements AutoCloseable {

    /** One table's snapshot; {@code expected} is NaN until its read starts (then a count taken apart: approximate). */
    record Table(String name, long rows, double expected, boolean done) {
        boolean reading() {
            return !done && (rows > 0 || !Double.isNaN(expected));
        }
    }

    private static final long REFRESH_MS = 200;

    /** Every table the ingest follows, by name. */
    static List<Table> read(MeterRegistry registry) {
        Map<String, long[]> rows = new TreeMap<>();
        Map<String, Double> expected = new TreeMap<>();
        Map<String, Boolean> done = new TreeMap<>();
        for (Gauge g : registry.find("ferry.snapshot.rows").gauges()) {
            rows.put(g.getId().getTag("table"), new long[] {(long) g.value()});
        }
        for (Gauge g : registry.find("ferry.snapshot.rows.expected").gauges()) {
            expected.put(g.getId().getTag("table"), g.value());
        }
        for (Gauge g : registry.find("ferry.snapshot.done").gauges()) {
            done.put(g.getId().getTag("table"), g.value() == 1);
        }
        List<Table> tables = new ArrayList<>();
        rows.forEach((t, r) -> tables.add(new Table(t, r[0], expected.getOrDefault(t, Double.NaN), done.getOrDefault(t, false))));
        return tables;
    }

    /** Log lines for when no terminal shows bars; remembers the previous line's total for the rate. */
    static final class Lines {
        private long lastRows = -1;
        private long lastNanos;

        /**
         * One line for the log, e.g. {@code 2 of 6 table(s) done, 10500 row(s) read; orders: 4000 of ~8000 row(s) (50%),
         * 1800 rows/s, ETA 2s}. The rate is over the time since the previous line.
         */
        String line(List<Table> tables, long nowNanos) {
            long total = tables.stream().mapToLong(Table::rows).sum();
            double rate = lastRows < 0 || nowNanos <= lastNanos ? Double.NaN : (total - lastRows) * 1e9 / (nowNanos - lastNanos);
            lastRows = total;
            lastNanos = nowNanos;
            StringBuilder s = new StringBuilder().append(tables.stream().filter(Table::done).count()).append(" of ").append(tables.size())
                    .append(" table(s) done, ").append(total).append(" row(s) read");
            for (Table t : tables) {
                if (!t.reading()) {
                    continue;
                }
                s.append("; ").append(t.name()).append(": ").append(t.rows());
                if (!Double.isNaN(t.expected())) {
                    long expected = (long) t.expected();
                    s.append(" of ~").append(expected).append(" row(s)");
                    if (expected > 0) {
                        s.append(" (").append(Math.min(100, t.rows() * 100 / expected)).append("%)");
                    }
                    if (!Double.isNaN(rate) && rate > 0) {
                        s.append(", ").append(Math.round(rate)).append(" rows/s, ETA ")
                                .append(Math.max(0, Math.round((expected - t.rows()) / rate))).append('s');
                    }
                } else {
                    s.append(" row(s)");
                }
            }
            return s.toString();
        }
    }

    private final Thread thread;
    private volatile boolean open = true;

    private SnapshotProgressView(MeterRegistry registry, BooleanSupplier snapshotDone, ProgressBarConsumer consumer) {
        thread = new Thread(() -> drawBars(registry, snapshotDone, consumer), "ferry-snapshot-progress");
        thread.setDaemon(true);
    }

    /**
     * Draws the bars until {@code snapshotDone} or {@link #close()}, on the terminal ({@code consumer} null) or into
     * {@code consumer}.
     */
    static SnapshotProgressView bars(MeterRegistry registry, BooleanSupplier snapshotDone, ProgressBarConsumer consumer) {
        SnapshotProgressView view = new SnapshotProgressView(registry, snapshotDone, consumer);
        view.thread.start();
        return view;
    }

    private void drawBars(MeterRegistry registry, BooleanSupplier snapshotDone, ProgressBarConsumer consumer) {
        Set<String> shown = new HashSet<>();
        ProgressBar bar = null;
        String barTable = null;
        try {
            while (open) {
                boolean finished = snapshotDone.getAsBoolean();
                for (Table t : read(registry)) {
                    if (shown.contains(t.name()) || !(t.reading() || t.done())) {
                        continue;
                    }
                    if (!t.name().equals(barTable)) {
                        if (bar != null) {
                            bar.close();
                        }
                        bar = newBar(t, consumer);
                        barTable = t.name();
                    }
                    if (!Double.isNaN(t.expected())) {
                        bar.maxHint(Math.max((long) t.expected(), t.rows()));
                    }
                    bar.stepTo(t.rows());
                    if (t.done()) {
                        bar.maxHint(t.rows());
                        bar.close();
                        bar = null;
                        barTable = null;
                        shown.add(t.name());
                    }
                }
                if (finished) {
                    break;
                }
                Thread.sleep(REFRESH_MS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (bar != null) {
                bar.close();
            }
        }
    }

    private static ProgressBar newBar(Table t, ProgressBarConsumer consumer) {
        ProgressBarBuilder builder = new ProgressBarBuilder().setTaskName(t.name())
                .setInitialMax(Double.isNaN(t.expected()) ? -1 : (long) t.expected()).setUnit(" rows", 1).showSpeed()
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis((int) REFRESH_MS).setSpeedUnit(java.time.temporal.ChronoUnit.SECONDS);
        if (consumer != null) {
            builder.setConsumer(consumer);
        }
        return builder.build();
    }

    /** Waits up to a second for the last bar to be drawn, then stops. */
    @Override
    public void close() {
        try {
            thread.join(Duration.ofSeconds(1).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        open = false;
        thread.interrupt();
    }
}
