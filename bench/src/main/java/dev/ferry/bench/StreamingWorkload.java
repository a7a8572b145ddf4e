package dev.ferry.bench;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.Random;
import java.util.concurrent.locks.LockSupport;

/**
 * The application of the streaming phase: from its own thread and connection, commits {@code changes} changes
 * to the benchmark table in transactions of {@code txnSize}, paced at {@code rate} changes/s (0: as fast as
 * SQLite commits). Every row it inserts or updates gets the transaction number in {@code txn} and the wall-clock
 * time in {@code written_at_ms}; the commit time of each transaction (wall clock, µs, taken right after
 * {@code commit()} returned; also the time just before it was called) is kept in memory, as is every change's key, transaction and kind.
 */
final class StreamingWorkload implements Runnable {

    static final byte INSERT = 'c';
    static final byte UPDATE = 'u';
    static final byte DELETE = 'd';

    private final Path sqlite;
    private final int changes;
    private final int txnSize;
    private final double rate;
    private final Random random;

    // Per change.
    final int[] changeId;
    final int[] changeTxn;
    final byte[] changeOp;
    // Per transaction, 1-based (index 0 unused: snapshot rows carry txn 0).
    final long[] commitUs;
    // Per transaction: wall clock (µs) just before commit() was called. The commit becomes visible to readers
    // somewhere between this and commitUs.
    final long[] commitCallUs;
    final int txns;
    // Per key: the transaction that deleted it, or 0. Deleted keys are never inserted again.
    final int[] deletedBy;

    private final int[] live;
    private final int[] pos;
    private int liveCount;
    private int nextId;

    volatile int changesDone;
    volatile long startNanos;
    volatile long endNanos;
    volatile Throwable failure;
    int inserts;
    int updates;
    int deletes;

    StreamingWorkload(Path sqlite, long initialRows, int changes, int txnSize, double rate, long seed) {
        this.sqlite = sqlite;
        this.changes = changes;
        this.txnSize = txnSize;
        this.rate = rate;
        this.random = new Random(seed);
        this.changeId = new int[changes];
        this.changeTxn = new int[changes];
        this.changeOp = new byte[changes];
        this.txns = (changes + txnSize - 1) / txnSize;
        this.commitUs = new long[txns + 1];
        this.commitCallUs = new long[txns + 1];
        int maxId = Math.toIntExact(initialRows + changes + 1);
        this.deletedBy = new int[maxId + 1];
        this.live = new int[maxId + 1];
        this.pos = new int[maxId + 1];
        for (int id = 1; id <= initialRows; id++) {
            live[liveCount] = id;
            pos[id] = liveCount++;
        }
        nextId = Math.toIntExact(initialRows + 1);
    }

    static long nowMicros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    @Override
    public void run() {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + sqlite.toAbsolutePath())) {
            try (Statement st = c.createStatement()) {
                st.execute("PRAGMA busy_timeout = 30000");
            }
            c.setAutoCommit(false);
            try (PreparedStatement insert = c.prepareStatement(SourceGenerator.INSERT);
                 PreparedStatement update = c.prepareStatement("UPDATE " + SourceGenerator.TABLE
                         + " SET score = ?, qty = ?, note = ?, txn = ?, written_at_ms = ? WHERE id = ?");
                 PreparedStatement delete = c.prepareStatement("DELETE FROM " + SourceGenerator.TABLE + " WHERE id = ?")) {
                long intervalNanos = rate > 0 ? (long) (txnSize * 1e9 / rate) : 0;
                startNanos = System.nanoTime();
                int n = 0;
                for (int txn = 1; txn <= txns; txn++) {
                    if (intervalNanos > 0) {
                        long due = startNanos + (txn - 1) * intervalNanos;
                        long wait;
                        while ((wait = due - System.nanoTime()) > 0) {
                            LockSupport.parkNanos(wait);
                        }
                    }
                    long writtenAtMs = System.currentTimeMillis();
                    for (int k = 0; k < txnSize && n < changes; k++, n++) {
                        int dice = random.nextInt(10);
                        byte op = liveCount == 0 ? INSERT : dice < 3 ? INSERT : dice < 8 ? UPDATE : DELETE;
                        int id;
                        switch (op) {
                            case INSERT -> {
                                id = nextId++;
                                SourceGenerator.bindRow(insert, random, id, txn, writtenAtMs);
                                insert.executeUpdate();
                                live[liveCount] = id;
                                pos[id] = liveCount++;
                                inserts++;
                            }
                            case UPDATE -> {
                                id = live[random.nextInt(liveCount)];
                                update.setDouble(1, random.nextDouble() * 1000.0);
                                update.setLong(2, random.nextInt(1_000_000));
                                if (random.nextInt(10) < 3) {
                                    update.setNull(3, java.sql.Types.VARCHAR);
                                } else {
                                    update.setString(3, "upd " + Long.toString(random.nextLong() & Long.MAX_VALUE, 36));
                                }
                                update.setLong(4, txn);
                                update.setLong(5, writtenAtMs);
                                update.setLong(6, id);
                                update.executeUpdate();
                                updates++;
                            }
                            default -> {
                                id = live[random.nextInt(liveCount)];
                                delete.setLong(1, id);
                                delete.executeUpdate();
                                int p = pos[id];
                                int last = live[--liveCount];
                                live[p] = last;
                                pos[last] = p;
                                deletedBy[id] = txn;
                                deletes++;
                            }
                        }
                        changeId[n] = id;
                        changeTxn[n] = txn;
                        changeOp[n] = op;
                    }
                    commitCallUs[txn] = nowMicros();
                    c.commit();
                    commitUs[txn] = nowMicros();
                    changesDone = n;
                }
                endNanos = System.nanoTime();
            }
        } catch (Throwable t) {
            failure = t;
        }
    }

    int liveRows() {
        return liveCount;
    }

}
