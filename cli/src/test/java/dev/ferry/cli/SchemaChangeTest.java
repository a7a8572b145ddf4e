package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.ingest.sqlite.ChangeCapture;
import dev.ferry.testkit.KafkaAndPostgres;
import dev.ferry.testkit.SqliteTestDatabase;
import dev.ferry.testkit.TableComparison;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The application changes its schema while ferry runs, or while it is stopped: the target follows, row by row. */
class SchemaChangeTest {

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();

    @TempDir
    Path dir;

    private Pipeline pipeline(SqliteTestDatabase db, String source) {
        return new Pipeline(new Pipeline.Options(db.path(), infra.pg().jdbcUrl(), dir.resolve("state"), source, infra.broker().bootstrapServers(),
                "ferry", source, 1, false, Map.of()));
    }

    private SqliteTestDatabase notes() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "notes.db",
                "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT)");
        db.insert("INSERT INTO notes VALUES (?, ?, ?)", IntStream.range(0, 500).mapToObj(i -> new Object[] {i, "note " + i, "body " + i}).toList());
        return db;
    }

    @Test
    void anAddedColumnWithADefaultReachesTheRowsThatExistedBefore() throws Exception {
        SqliteTestDatabase db = notes();
        try (Pipeline p = pipeline(db, "addcol")) {
            p.start().awaitCaughtUp(Duration.ofMinutes(2));
            db.execute("ALTER TABLE notes ADD COLUMN stars INTEGER NOT NULL DEFAULT 3",
                    "INSERT INTO notes (id, title, stars) VALUES (1000, 'new', 5)", "UPDATE notes SET stars = 4 WHERE id = 7");
            p.awaitCaughtUp(Duration.ofMinutes(2));
            TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), "addcol");
            assertEquals(3L, single("SELECT stars FROM addcol.notes WHERE id = 1"), "an old row has the default, as SQLite shows it");
        }
    }

    @Test
    void aTableCreatedWhileRunningArrivesWithTheRowsWrittenBeforeItsTriggers() throws Exception {
        SqliteTestDatabase db = notes();
        try (Pipeline p = pipeline(db, "newtable")) {
            p.start().awaitCaughtUp(Duration.ofMinutes(2));
            db.execute("CREATE TABLE tags (note_id INTEGER, tag TEXT, PRIMARY KEY (note_id, tag))",
                    "INSERT INTO tags SELECT id, 'tag' || (id % 5) FROM notes");
            p.awaitCaughtUp(Duration.ofMinutes(2));
            db.execute("DELETE FROM tags WHERE note_id < 10", "INSERT INTO tags VALUES (1, 'late')");
            p.awaitCaughtUp(Duration.ofMinutes(2));
            TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), "newtable");
            assertEquals(491L, single("SELECT count(*) FROM newtable.tags"));
        }
    }

    @Test
    void aTableRebuiltByAMigrationAndARenamedColumnAreFollowed() throws Exception {
        SqliteTestDatabase db = notes();
        try (Pipeline p = pipeline(db, "rebuild")) {
            p.start().awaitCaughtUp(Duration.ofMinutes(2));
            // SQLite's documented way to change a table's definition: build a new one, copy, drop, rename.
            db.execute("BEGIN",
                    "CREATE TABLE notes_new (id INTEGER PRIMARY KEY, title TEXT NOT NULL, words INTEGER)",
                    "INSERT INTO notes_new SELECT id, upper(title), length(body) FROM notes",
                    "DROP TABLE notes",
                    "ALTER TABLE notes_new RENAME TO notes",
                    "COMMIT");
            p.awaitCaughtUp(Duration.ofMinutes(2));
            db.execute("INSERT INTO notes VALUES (2000, 'after rebuild', 2)", "DELETE FROM notes WHERE id = 3",
                    "ALTER TABLE notes RENAME COLUMN words TO word_count", "UPDATE notes SET word_count = 99 WHERE id = 4");
            p.awaitCaughtUp(Duration.ofMinutes(2));
            TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), "rebuild");
        }
    }

    @Test
    void schemaChangesMadeWhileFerryWasStoppedAreFollowedOnRestart() throws Exception {
        SqliteTestDatabase db = notes();
        try (Pipeline p = pipeline(db, "offline")) {
            p.start().awaitCaughtUp(Duration.ofMinutes(2));
        }
        db.execute("ALTER TABLE notes ADD COLUMN color TEXT DEFAULT 'blue'",
                "CREATE TABLE later (k TEXT PRIMARY KEY, v REAL)", "INSERT INTO later VALUES ('a', 1.5), ('b', NULL)",
                "UPDATE notes SET body = 'edited offline' WHERE id < 50");
        try (Pipeline p = pipeline(db, "offline")) {
            p.start().awaitCaughtUp(Duration.ofMinutes(2));
            TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), "offline");
        }
    }

    @Test
    void uninstallingThenStartingAgainOnTheSameDataDirTakesANewSnapshot() throws Exception {
        SqliteTestDatabase db = notes();
        try (Pipeline p = pipeline(db, "reinstall")) {
            p.start().awaitCaughtUp(Duration.ofMinutes(2));
            db.execute("UPDATE notes SET title = 'seen' WHERE id < 100");
            p.awaitCaughtUp(Duration.ofMinutes(2));
        }
        try (Connection c = db.connect()) {
            ChangeCapture.uninstall(c);
        }
        db.execute("UPDATE notes SET title = 'unseen by triggers' WHERE id >= 100", "DELETE FROM notes WHERE id >= 400");
        try (Pipeline p = pipeline(db, "reinstall")) {
            p.start().awaitCaughtUp(Duration.ofMinutes(2));
            db.execute("INSERT INTO notes VALUES (5000, 'after', NULL)");
            p.awaitCaughtUp(Duration.ofMinutes(2));
            // Deletes made while no capture was installed cannot be seen by any trigger: the target keeps them.
            try (Connection c = infra.pg().connect(); Statement st = c.createStatement()) {
                st.execute("DELETE FROM reinstall.notes WHERE id >= 400 AND id < 500");
            }
            TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), "reinstall");
        }
    }

    private static long single(String sql) throws Exception {
        try (Connection c = infra.pg().connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
