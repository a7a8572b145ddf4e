package dev.ferry.ingest.sqlite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ferry's checks of the file must not take away the locks its open connections hold. POSIX drops every lock a process
 * has on a file when the process closes any descriptor of it: a header read by Java did that, and the application's
 * next last close (another process) then checkpointed and deleted the WAL that ferry's connections still used.
 */
class SqliteFileTest {

    @TempDir
    Path dir;

    /**
     * The application: another process, with another SQLite than ferry's, that opens the file, writes a row and closes
     * it. Python's sqlite3 module, as many applications are; sqlite-jdbc's own build did not delete the WAL on its last
     * close here, so a Java child would not show the fault.
     */
    private void app(Path file, String body) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder("python3", "-c", "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\n"
                    + "c.execute('INSERT INTO notes (body) VALUES (?)', (sys.argv[2],))\nc.commit()\nc.close()", file.toString(), body)
                    .inheritIO().start();
        } catch (java.io.IOException e) {
            Assumptions.abort("needs python3 for the application's process: " + e.getMessage());
            return;
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the application process did not finish");
        assertEquals(0, p.exitValue(), "the application process failed");
    }

    private static long count(Connection c) throws Exception {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM notes")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void checkingTheFileKeepsTheLocksOfFerrysOpenConnections() throws Exception {
        Path file = dir.resolve("app.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
            st.execute("PRAGMA journal_mode=WAL");
            st.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
        }
        Path wal = Path.of(file + "-wal");
        try (Connection ferry = SqliteFile.openForWrites(file)) {
            assertEquals(0, count(ferry));
            SqliteFile.check(file); // what every later open of ferry's does first
            app(file, "first");
            assertTrue(Files.exists(wal), "the application's last close deleted the WAL that ferry's connection still uses");
            assertEquals(1, count(ferry), "ferry sees the application's row");
            try (Statement st = ferry.createStatement()) {
                st.execute("INSERT INTO notes (body) VALUES ('ferry')");
            }
            app(file, "second");
            assertEquals(3, count(ferry));
        }
        try (Connection after = DriverManager.getConnection("jdbc:sqlite:" + file)) {
            assertEquals(3, count(after), "every row, ferry's write included, is in the file");
        }
    }
}
