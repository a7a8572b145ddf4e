package dev.ferry.testkit;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Plays a live application writing to its SQLite file from its own thread: each step is one transaction
 * running a test-supplied mutation with a seeded random source, until stopped or a step count is reached.
 */
public final class AppWriter implements AutoCloseable {

    /** One application transaction. */
    @FunctionalInterface
    public interface Step {
        void run(Connection connection, Random random, long step) throws SQLException;
    }

    private final Thread thread;
    private final AtomicLong steps = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean running = true;

    public AppWriter(Path sqlite, long seed, long maxSteps, long pauseMicros, Step step) {
        thread = new Thread(() -> {
            Random random = new Random(seed);
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + sqlite.toAbsolutePath())) {
                try (Statement st = c.createStatement()) {
                    st.execute("PRAGMA busy_timeout = 30000");
                }
                c.setAutoCommit(false);
                while (running && steps.get() < maxSteps) {
                    step.run(c, random, steps.get());
                    c.commit();
                    steps.incrementAndGet();
                    if (pauseMicros > 0) {
                        Thread.sleep(pauseMicros / 1000, (int) (pauseMicros % 1000) * 1000);
                    }
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "app-writer");
        thread.setDaemon(true);
    }

    public AppWriter start() {
        thread.start();
        return this;
    }

    public long steps() {
        return steps.get();
    }

    /** Waits for the writer to finish its steps (or stops it at the deadline) and rethrows its failure. */
    public void join(long timeoutMs) throws InterruptedException {
        thread.join(timeoutMs);
        running = false;
        thread.join();
        Throwable t = failure.get();
        if (t != null) {
            throw new IllegalStateException("the application writer failed after " + steps.get() + " step(s): " + t, t);
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join();
    }
}
