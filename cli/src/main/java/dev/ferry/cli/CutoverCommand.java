package dev.ferry.cli;

import dev.ferry.ingest.sqlite.SchemaReader;
import dev.ferry.ingest.sqlite.SqliteFile;
import dev.ferry.ingest.sqlite.TableInfo;
import dev.ferry.writer.pg.PgDatabase;
import dev.ferry.writer.pg.PgIdentifiers;
import dev.ferry.writer.pg.SchemaTranslation;
import dev.ferry.writer.pg.TargetTable;
import dev.ferry.writer.pg.TypeMapping;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "cutover", mixinStandardHelpOptions = true,
        description = {"The last steps before the application moves to PostgreSQL. Stop the application's writes to SQLite first.",
                "1. Waits until the pipeline is caught up, as 'ferry status' reads it (--timeout); else stops with exit 1.",
                "2. Sets the sequence of every INTEGER PRIMARY KEY column (an identity in PostgreSQL) past the highest id:",
                "   max(id) in PostgreSQL, or SQLite's sqlite_sequence for an AUTOINCREMENT table when that is higher.",
                "3. Validates the NOT VALID foreign keys and CHECK constraints of --target-schema, each on its own.",
                "4. Looks up every table, index, foreign key and CHECK constraint 'ferry schema' gives for the captured tables:",
                "   a missing table fails the cutover; a missing index or constraint is listed (the writer logged why).",
                "Prints what it did and how long each step took. Exit 0 when every step succeeded, 1 otherwise."})
final class CutoverCommand implements Callable<Integer> {

    @Mixin
    ConnectionOptions connection = new ConnectionOptions();

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "How long to wait for the pipeline to be caught up (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (timeoutSeconds < 0) {
            throw new IllegalArgumentException("--timeout must be 0 or more seconds, not " + timeoutSeconds);
        }
        PrintWriter out = spec.commandLine().getOut();
        long started = System.nanoTime();
        boolean ok = true;
        int missing = 0;

        long t0 = System.nanoTime();
        StatusCommand.Snapshot status = awaitCaughtUp();
        if (!StatusCommand.CAUGHT_UP.equals(status.state())) {
            out.printf("caught up: NO after %s: state %s%s%n", seconds(t0), status.state(), waiting(status));
            out.println("cutover not done: nothing was changed");
            out.flush();
            return Ferry.EXIT_FAILURE;
        }
        out.printf("caught up: yes (%s)%n", seconds(t0));

        try (Connection pg = PgDatabase.connect(connection.postgres, "ferry-cutover")) {
            t0 = System.nanoTime();
            List<String> sequenceLines = new ArrayList<>();
            ok &= setSequences(pg, sequenceLines);
            out.printf("sequences: %d column(s) (%s)%n", sequenceLines.size(), seconds(t0));
            sequenceLines.forEach(l -> out.println("  " + l));

            t0 = System.nanoTime();
            List<String> constraintLines = new ArrayList<>();
            ok &= validateConstraints(pg, constraintLines);
            out.printf("constraints validated: %d (%s)%n", constraintLines.size(), seconds(t0));
            constraintLines.forEach(l -> out.println("  " + l));

            t0 = System.nanoTime();
            SchemaCheck check = checkSchema(pg);
            ok &= check.missingTables() == 0;
            out.printf("schema: %d table(s), %d index(es), %d foreign key(s), %d check(s) in PostgreSQL; missing: %d (%s)%n",
                    check.tables(), check.indexes(), check.foreignKeys(), check.checks(), check.missing().size(), seconds(t0));
            check.missing().forEach(l -> out.println("  " + l));
            missing = check.missing().size();
        }
        out.printf("cutover %s in %s%n", !ok ? "FAILED (see above)" : missing == 0 ? "done"
                : "done, " + missing + " index(es) or constraint(s) missing in PostgreSQL (see above)", seconds(started));
        out.flush();
        return ok ? 0 : Ferry.EXIT_FAILURE;
    }

    /** Reads the status as {@code ferry status} does, every half second, until caught up or the timeout. */
    private StatusCommand.Snapshot awaitCaughtUp() throws Exception {
        StatusCommand status = new StatusCommand();
        status.connection = connection;
        status.spec = spec;
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        // Progress while waiting: a bar of the changes still to apply on a terminal, a line every 5 s otherwise.
        me.tongfei.progressbar.ProgressBar bar = null;
        long first = -1;
        long nextLine = 0;
        try {
            while (true) {
                StatusCommand.Snapshot s = status.read();
                if (StatusCommand.CAUGHT_UP.equals(s.state()) || System.nanoTime() >= deadline) {
                    return s;
                }
                long remaining = remaining(s);
                if (first < 0) {
                    first = Math.max(1, remaining);
                    if (System.console() != null) {
                        bar = new me.tongfei.progressbar.ProgressBarBuilder().setTaskName("catching up").setInitialMax(first)
                                .setUnit(" changes", 1).showSpeed().build();
                    }
                }
                if (bar != null) {
                    bar.maxHint(Math.max(first, remaining));
                    bar.stepTo(Math.max(0, first - remaining));
                } else if (System.nanoTime() >= nextLine) {
                    spec.commandLine().getOut().printf("waiting: %d change(s) not yet in PostgreSQL%s%n", remaining, waiting(s));
                    spec.commandLine().getOut().flush();
                    nextLine = System.nanoTime() + 5_000_000_000L;
                }
                Thread.sleep(500);
            }
        } finally {
            if (bar != null) {
                bar.close();
            }
        }
    }

    /** Changes captured but not yet in PostgreSQL: changelog backlog plus lag, over the captured tables. */
    private static long remaining(StatusCommand.Snapshot s) {
        return s.tables().stream().mapToLong(t -> (t.backlog() == null ? 0 : t.backlog()) + (t.lagRecords() == null ? 0 : t.lagRecords())).sum();
    }

    private static String waiting(StatusCommand.Snapshot s) {
        List<String> tables = s.tables().stream().filter(t -> !StatusCommand.CAUGHT_UP.equals(t.state())
                && !StatusCommand.NOT_CAPTURED.equals(t.state())).map(t -> t.table() + " (" + t.state() + ")").toList();
        return tables.isEmpty() ? "" : "; waiting: " + String.join(", ", tables);
    }

    /**
     * Each captured table whose key is SQLite's rowid alias: its target column gets an identity if it has none (a table
     * created by an older ferry), then the identity's sequence is set so that the next id PostgreSQL hands out is above
     * every id SQLite used: max(id), or sqlite_sequence when higher (AUTOINCREMENT never reuses an id, even deleted).
     */
    private boolean setSequences(Connection pg, List<String> lines) throws SQLException {
        List<TableInfo> tables;
        try (Connection sqlite = SqliteFile.open(connection.sqlite)) {
            tables = SchemaReader.readTables(sqlite, null);
            boolean ok = true;
            for (TableInfo table : tables) {
                TargetTable target = TargetTable.of(connection.targetSchema, table.schemaEvent(connection.source(), true), TypeMapping.DEFAULT);
                String column = target.identityColumn();
                if (column == null || !PgDatabase.relationExists(pg, target.qualifiedName())) {
                    continue;
                }
                String where = target.qualifiedName() + "." + PgIdentifiers.quote(column);
                try {
                    long next = setSequence(pg, target, column, sqliteSequence(sqlite, table.name()));
                    lines.add(where + ": next id " + next);
                } catch (SQLException e) {
                    ok = false;
                    lines.add(where + ": FAILED: " + e.getMessage());
                }
            }
            return ok;
        }
    }

    /** Returns the next id the sequence will hand out. */
    private static long setSequence(Connection pg, TargetTable target, String column, long sqliteSequence) throws SQLException {
        String table = target.qualifiedName();
        String quoted = PgIdentifiers.quote(column);
        try (Statement st = pg.createStatement()) {
            String sequence = serialSequence(pg, table, column);
            if (sequence == null) {
                st.execute("ALTER TABLE " + table + " ALTER COLUMN " + quoted + " ADD GENERATED BY DEFAULT AS IDENTITY");
                sequence = serialSequence(pg, table, column);
            }
            long max;
            try (ResultSet rs = st.executeQuery("SELECT coalesce(max(" + quoted + "), 0) FROM " + table)) {
                rs.next();
                max = rs.getLong(1);
            }
            long last = Math.max(max, sqliteSequence);
            try (PreparedStatement ps = pg.prepareStatement("SELECT setval(?::regclass, ?, ?)")) {
                ps.setString(1, sequence);
                // setval(s, n, true): the next value is n + 1; with nothing used yet, setval(s, 1, false): the next is 1.
                ps.setLong(2, Math.max(last, 1));
                ps.setBoolean(3, last >= 1);
                ps.executeQuery().close();
            }
            return last >= 1 ? last + 1 : 1;
        }
    }

    private static String serialSequence(Connection pg, String qualifiedTable, String column) throws SQLException {
        try (PreparedStatement ps = pg.prepareStatement("SELECT pg_get_serial_sequence(?, ?)")) {
            ps.setString(1, qualifiedTable);
            // The column name is taken literally (not parsed as SQL), unlike the table name.
            ps.setString(2, PgIdentifiers.pgName(column));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** SQLite's AUTOINCREMENT counter of the table: the highest id it ever handed out; 0 without one. */
    private static long sqliteSequence(Connection sqlite, String table) throws SQLException {
        try (PreparedStatement ps = sqlite.prepareStatement("SELECT seq FROM sqlite_sequence WHERE name = ?")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        } catch (SQLException e) {
            if (e.getMessage() != null && e.getMessage().contains("no such table")) {
                // sqlite_sequence exists once a table with AUTOINCREMENT exists.
                return 0;
            }
            throw e;
        }
    }

    /** What {@link #checkSchema} found: counts of what is there, and a line for each thing missing. */
    private record SchemaCheck(int tables, int indexes, int foreignKeys, int checks, int missingTables, List<String> missing) {
    }

    /**
     * Looks up, for every table ferry captures, what {@code ferry schema} translates it to: the table, its indexes, its
     * foreign keys and CHECK constraints. The writer creates the latter three after each table's snapshot and reports, not
     * stops on, one PostgreSQL refuses (a too-long index entry, a parent table that never came): this is where such a gap
     * shows before the application moves. Defaults and settings are not looked up.
     */
    private SchemaCheck checkSchema(Connection pg) throws SQLException {
        List<TableInfo> tables;
        try (Connection sqlite = SqliteFile.open(connection.sqlite)) {
            java.util.Set<String> captured = StatusCommand.capturedTables(sqlite);
            tables = SchemaReader.readTables(sqlite, null).stream().filter(t -> captured.contains(t.name())).toList();
        }
        int tablesThere = 0;
        int indexes = 0;
        int foreignKeys = 0;
        int checks = 0;
        int missingTables = 0;
        List<String> missing = new ArrayList<>();
        for (TableInfo table : tables) {
            SchemaTranslation t = SchemaTranslation.of(connection.targetSchema, table.schemaEvent(connection.source(), true),
                    TypeMapping.DEFAULT, false, true);
            String qualified = t.table().qualifiedName();
            if (!PgDatabase.relationExists(pg, qualified)) {
                missingTables++;
                missing.add("table " + qualified + ": not in PostgreSQL (FAILED: its rows are not there)");
                continue;
            }
            tablesThere++;
            for (SchemaTranslation.Statement s : t.indexes()) {
                if (s.kind() != SchemaTranslation.Kind.INDEX) {
                    continue;
                }
                if (PgDatabase.relationExists(pg, PgIdentifiers.qualified(connection.targetSchema, s.name()))) {
                    indexes++;
                } else {
                    missing.add("index " + PgIdentifiers.quote(s.name()) + " of " + qualified + ": not in PostgreSQL");
                }
            }
            for (SchemaTranslation.Statement s : t.foreignKeys()) {
                if (PgDatabase.constraintExists(pg, qualified, PgIdentifiers.pgName(s.constraint()))) {
                    foreignKeys++;
                } else {
                    missing.add("foreign key " + PgIdentifiers.quote(s.name()) + " of " + qualified + ": not in PostgreSQL"
                            + (s.requires() != null && !PgDatabase.relationExists(pg, s.requires())
                            ? " (its parent table " + s.requires() + " is not there)" : ""));
                }
            }
            for (SchemaTranslation.Statement s : t.checks()) {
                if (PgDatabase.constraintExists(pg, qualified, PgIdentifiers.pgName(s.constraint()))) {
                    checks++;
                } else {
                    missing.add("check " + PgIdentifiers.quote(s.name()) + " of " + qualified + ": not in PostgreSQL");
                }
            }
        }
        return new SchemaCheck(tablesThere, indexes, foreignKeys, checks, missingTables, missing);
    }

    /** VALIDATE CONSTRAINT for every constraint of the target schema created NOT VALID; a failure does not stop the others. */
    private boolean validateConstraints(Connection pg, List<String> lines) throws SQLException {
        record Pending(String table, String name, String kind) {
        }
        List<Pending> pending = new ArrayList<>();
        try (PreparedStatement ps = pg.prepareStatement("SELECT c.conrelid::regclass::text, c.conname, c.contype FROM pg_constraint c"
                + " JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = ? AND NOT c.convalidated ORDER BY 1, 2")) {
            ps.setString(1, connection.targetSchema);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    pending.add(new Pending(rs.getString(1), rs.getString(2), "f".equals(rs.getString(3)) ? "foreign key" : "check"));
                }
            }
        }
        boolean ok = true;
        for (Pending p : pending) {
            long t0 = System.nanoTime();
            try (Statement st = pg.createStatement()) {
                st.execute("ALTER TABLE " + p.table() + " VALIDATE CONSTRAINT " + PgIdentifiers.quote(p.name()));
                lines.add(p.kind() + " " + p.table() + "." + PgIdentifiers.quote(p.name()) + ": valid (" + seconds(t0) + ")");
            } catch (SQLException e) {
                ok = false;
                lines.add(p.kind() + " " + p.table() + "." + PgIdentifiers.quote(p.name()) + ": FAILED: " + e.getMessage());
            }
        }
        return ok;
    }

    private static String seconds(long fromNanos) {
        return String.format(java.util.Locale.ROOT, "%.2f s", (System.nanoTime() - fromNanos) / 1e9);
    }
}
