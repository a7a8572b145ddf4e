package dev.ferry.bench;

import dev.ferry.bench.Catalogs.NameMatch;
import dev.ferry.bench.Catalogs.PgColumn;
import dev.ferry.bench.Catalogs.PgSchema;
import dev.ferry.bench.Catalogs.PgTable;
import dev.ferry.bench.Catalogs.SqliteColumn;
import dev.ferry.bench.Catalogs.SqliteSchema;
import dev.ferry.bench.Catalogs.SqliteTable;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Loads each SQLite fixture twice, with pgloader and with ferry ({@code Pipeline}, embedded broker, until caught up),
 * into two fresh PostgreSQL databases, and reports in Markdown, table by table and column by column, where the two
 * differ: names, the PostgreSQL type each tool chose, NOT NULL, defaults, keys, indexes, foreign keys, row counts, and
 * values (each column cast to text, rows matched by primary key, or by rowid order for tables without one).
 *
 * <p>Differences are findings, not failures: the exit status is 0 when every run completed, 1 when a tool failed
 * unexpectedly (ferry did not catch up, or pgloader did not run), 2 on a usage error. A file pgloader refuses
 * (it says FATAL) is reported and not compared; ferry still loads it, for its own columns.
 */
public final class PgloaderComparison {

    record Args(Path fixtures, List<Path> files, Path out, boolean keep, String pgServer, String pgUser, String pgloader,
                Duration timeout, Path workDir, boolean ferryOnSkipped, int examples) {

        static Args parse(String[] argv) {
            Path fixtures = null;
            List<Path> files = new ArrayList<>();
            Path out = null;
            boolean keep = false;
            String pg = "jdbc:postgresql://127.0.0.1:5432/";
            String user = "postgres";
            String pgloader = "/usr/bin/pgloader";
            Duration timeout = Duration.ofMinutes(10);
            Path work = null;
            boolean ferryOnSkipped = true;
            int examples = 3;
            for (int i = 0; i < argv.length; i++) {
                String a = argv[i];
                switch (a) {
                    case "--fixtures" -> fixtures = Path.of(argv[++i]);
                    case "--file" -> files.add(Path.of(argv[++i]));
                    case "--out" -> out = Path.of(argv[++i]);
                    case "--keep" -> keep = true;
                    case "--pg" -> pg = argv[++i];
                    case "--pg-user" -> user = argv[++i];
                    case "--pgloader" -> pgloader = argv[++i];
                    case "--timeout-minutes" -> timeout = Duration.ofMinutes(Long.parseLong(argv[++i]));
                    case "--work-dir" -> work = Path.of(argv[++i]);
                    case "--no-ferry-on-skipped" -> ferryOnSkipped = false;
                    case "--examples" -> examples = Integer.parseInt(argv[++i]);
                    case "-h", "--help" -> {
                        System.out.println("""
                                usage: PgloaderComparison [options] [FILE...]
                                  --fixtures DIR          every *.db / *.sqlite under DIR, recursively
                                                          (default: ../shared/fixtures relative to the repository root)
                                  --file FILE             only this file (repeatable; so are plain FILE arguments)
                                  --out FILE              also write the Markdown report to FILE
                                  --keep                  keep the PostgreSQL databases and the scratch dir
                                  --pg URL                PostgreSQL server (default jdbc:postgresql://127.0.0.1:5432/)
                                  --pg-user USER          (default postgres)
                                  --pgloader PATH         (default /usr/bin/pgloader)
                                  --timeout-minutes T     per tool and file (default 10)
                                  --work-dir DIR          scratch dir (default: a new temp dir)
                                  --no-ferry-on-skipped   do not run ferry on files pgloader refuses
                                  --examples N            differing values shown per column (default 3)""");
                        System.exit(0);
                    }
                    default -> {
                        if (a.startsWith("--")) {
                            throw new IllegalArgumentException("unknown option " + a + " (try --help)");
                        }
                        files.add(Path.of(a));
                    }
                }
            }
            if (fixtures == null) {
                fixtures = BenchEnv.repoRoot().resolve("../shared/fixtures").normalize();
            }
            return new Args(fixtures, files, out, keep, pg, user, pgloader, timeout, work, ferryOnSkipped, examples);
        }
    }

    private static final String SCHEMA = "public";
    private static final String DASH = "—";

    private final Args args;
    private final BenchEnv env;
    private final List<String> toolFailures = new ArrayList<>();
    private final List<String[]> summaryRows = new ArrayList<>();
    /** (SQLite declared type, pgloader type, ferry type) → columns, fixtures. */
    private final Map<List<String>, long[]> typePairs = new TreeMap<>((a, b) -> String.join("\u0001", a).compareTo(String.join("\u0001", b)));
    private final Map<List<String>, LinkedHashSet<String>> typePairFixtures = new LinkedHashMap<>();

    private PgloaderComparison(Args args) {
        this.args = args;
        this.env = new BenchEnv(args.pgServer(), args.pgUser());
    }

    public static void main(String[] argv) {
        int status;
        try {
            status = new PgloaderComparison(Args.parse(argv)).run();
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            status = 2;
        } catch (Exception e) {
            e.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    private int run() throws Exception {
        List<Path> files = args.files().isEmpty() ? findFixtures(args.fixtures()) : args.files();
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no *.db or *.sqlite file under " + args.fixtures());
        }
        Path work = args.workDir() != null ? Files.createDirectories(args.workDir()) : Files.createTempDirectory("ferry-pgloader-cmp-");
        String started = BenchEnv.now();
        long t0 = System.nanoTime();
        StringBuilder body = new StringBuilder();
        try {
            int i = 0;
            for (Path file : files) {
                i++;
                log("[%d/%d] %s", i, files.size(), display(file));
                try {
                    body.append(compareOne(file, work.resolve(String.format("%02d", i))));
                } catch (Exception e) {
                    toolFailures.add(display(file) + ": the comparison itself failed: " + e);
                    body.append("\n## `").append(display(file)).append("`\n\nThe comparison failed: `").append(e).append("`\n");
                    e.printStackTrace();
                }
            }
        } finally {
            if (args.keep()) {
                log("kept the scratch dir %s", work);
            } else {
                BenchEnv.deleteRecursively(work);
            }
        }
        StringBuilder md = new StringBuilder();
        md.append("# ferry vs pgloader: schemas and values on the SQLite fixtures\n\n");
        md.append("- run: ").append(started).append(String.format(", %.0f s in all%n", BenchEnv.seconds(t0)));
        md.append("- command: `java -cp \"bench/target/ferry-bench.jar:bench/target/lib/*\" dev.ferry.bench.PgloaderComparison");
        md.append(args.files().isEmpty() ? " --fixtures " + args.fixtures() : args.files().stream().map(p -> " " + p).collect(Collectors.joining()));
        md.append("`\n");
        md.append("- machine: ").append(env.machine()).append('\n');
        md.append("- pgloader: ").append(BenchEnv.pgloaderVersion(args.pgloader())).append(", default options (`pgloader FILE URL`)\n");
        md.append("- ferry: ").append(BenchEnv.gitState()).append("; jars: ").append(BenchEnv.codeVersions()).append('\n');
        md.append("- values are compared as `column::text` in sessions with `TimeZone=UTC`; rows are matched by the SQLite primary key"
                + " (its text on each side), or by rowid order (ferry's `_ferry_rowid`, pgloader's physical order) for tables without one\n\n");
        md.append("## Summary\n\n");
        md.append("| fixture | SQLite tables / rows | pgloader | ferry | rows pgloader / ferry | columns typed differently | columns with differing values | names pgloader changed |\n");
        md.append("| --- | --- | --- | --- | --- | ---: | ---: | ---: |\n");
        for (String[] r : summaryRows) {
            md.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        md.append("\n## Type choices over all fixtures\n\n");
        md.append("Columns of the files pgloader loaded, grouped by the declared SQLite type (upper-cased) and the types chosen.\n\n");
        md.append("| SQLite declared type | pgloader | ferry | columns | fixtures |\n| --- | --- | --- | ---: | --- |\n");
        typePairs.forEach((k, v) -> md.append("| ").append(k.get(0).isEmpty() ? "(none)" : "`" + k.get(0) + "`").append(" | `").append(k.get(1))
                .append("` | `").append(k.get(2)).append("`").append(k.get(1).equals(k.get(2)) ? "" : " ≠").append(" | ").append(v[0])
                .append(" | ").append(String.join(", ", typePairFixtures.get(k))).append(" |\n"));
        if (!toolFailures.isEmpty()) {
            md.append("\n## Tool failures\n\n");
            toolFailures.forEach(f -> md.append("- ").append(f).append('\n'));
        }
        md.append(body);
        String report = md.toString();
        System.out.print(report);
        System.out.flush();
        if (args.out() != null) {
            if (args.out().toAbsolutePath().getParent() != null) {
                Files.createDirectories(args.out().toAbsolutePath().getParent());
            }
            Files.writeString(args.out(), report, StandardCharsets.UTF_8);
            log("report written to %s", args.out());
        }
        if (!toolFailures.isEmpty()) {
            log("tool failures:");
            toolFailures.forEach(f -> log("  %s", f));
        }
        return toolFailures.isEmpty() ? 0 : 1;
    }

    static List<Path> findFixtures(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--fixtures: no directory " + dir);
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return n.endsWith(".db") || n.endsWith(".sqlite");
            }).sorted().toList();
        }
    }

    private String display(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        Path fixtures = args.fixtures().toAbsolutePath().normalize();
        return abs.startsWith(fixtures) ? fixtures.relativize(abs).toString() : file.toString();
    }

    // ------------------------------------------------------------------------------------------------ one fixture

    private String compareOne(Path fixture, Path dir) throws Exception {
        String name = display(fixture);
        Path pglCopy = BenchEnv.copyWritable(fixture, dir.resolve("pgloader").resolve(fixture.getFileName().toString()));
        Path ferryCopy = BenchEnv.copyWritable(fixture, dir.resolve("ferry").resolve(fixture.getFileName().toString()));
        SqliteSchema source;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + pglCopy.toAbsolutePath())) {
            source = Catalogs.readSqlite(c);
        }
        String dbP = BenchEnv.newDatabaseName("fcmp") + "_pgloader";
        String dbF = BenchEnv.newDatabaseName("fcmp") + "_ferry";
        StringBuilder md = new StringBuilder();
        md.append("\n## `").append(name).append("`\n\n");
        md.append(String.format("SQLite: %d table(s), %,d row(s)%s%s.%n", source.tables().size(), source.rows(),
                source.views().isEmpty() ? "" : ", view(s) " + String.join(", ", source.views()),
                source.triggers().isEmpty() ? "" : ", trigger(s) " + String.join(", ", source.triggers())));
        List<String> notes = new ArrayList<>();
        env.createDatabase(dbP);
        env.createDatabase(dbF);
        try {
            // ---- pgloader
            log("  pgloader -> %s", dbP);
            PgloaderRun pgl = PgloaderRun.run(args.pgloader(), dir.resolve("pgloader-root"), pglCopy, env.pgloaderUrl(dbP),
                    dir.resolve("pgloader.log"), args.timeout());
            if (pgl.sourceUriRefused()) {
                String safe = fixture.getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_");
                Path renamed = BenchEnv.copyWritable(fixture, dir.resolve("pgloader-renamed").resolve(safe));
                notes.add("pgloader refused the file name (" + (pgl.fatals().isEmpty() ? "it printed only its version and exited with 0"
                        : "`" + pgl.fatals().get(0).replace(dir.toString(), "$WORK") + "`") + "); it was run again on a copy named `" + safe + "`");
                pgl = PgloaderRun.run(args.pgloader(), dir.resolve("pgloader-root"), renamed, env.pgloaderUrl(dbP),
                        dir.resolve("pgloader-2.log"), args.timeout());
            }
            boolean pglOk = !pgl.failed();
            if (!pglOk && pgl.fatals().isEmpty() && !pgl.timedOut() && pgl.exitCode() == 0 && !readPg(dbP).tables().isEmpty()) {
                notes.add("pgloader's output has no summary report, but its database has tables: compared anyway");
                pglOk = true;
            }
            if (pgl.timedOut() || (pgl.exitCode() != 0 && pgl.fatals().isEmpty())) {
                toolFailures.add(name + ": pgloader " + pgl.failure());
            }
            md.append(String.format("- pgloader: `%s`: %.1f s wall, %.1f s CPU; ", pgl.commandLine().replace(dir.toString(), "$WORK"),
                    pgl.wallSeconds(), pgl.cpuSeconds()));
            if (pglOk) {
                md.append(String.format("loaded %,d row(s), %d error(s) in its summary%n", pgl.totalRows(), Math.max(0, pgl.totalErrors())));
            } else {
                md.append("**could not load the file**: `").append(cell(pgl.failure(), 300)).append("`\n");
            }
            // ---- ferry
            FerryRun ferry = null;
            if (pglOk || args.ferryOnSkipped()) {
                log("  ferry -> %s", dbF);
                ferry = FerryRun.run(ferryCopy, env.jdbcUrl(dbF), dir.resolve("ferry-data"), args.timeout(), 100, true);
                if (ferry.failed()) {
                    toolFailures.add(name + ": ferry " + ferry.failure());
                    md.append("- ferry: **failed**: `").append(cell(ferry.failure(), 400)).append("`\n");
                } else {
                    md.append(String.format("- ferry: `Pipeline` start → caught up in %.1f s (broker start %.1f s), %,d row(s) written,"
                            + " %,d dead letter(s)%n", ferry.seconds(), ferry.startedAt(), ferry.rowsApplied(), ferry.deadLetters()));
                }
            } else {
                md.append("- ferry: not run (pgloader could not load the file)\n");
            }
            notes.forEach(n -> md.append("- note: ").append(n).append('\n'));

            PgSchema pgS = pglOk ? readPg(dbP) : null;
            PgSchema ferryS = ferry != null ? readPg(dbF) : null;
            md.append(render(name, source, pgS, ferryS, pgl, ferry, pglCopy, dbP, dbF));
        } finally {
            if (args.keep()) {
                log("  kept databases %s and %s", dbP, dbF);
                md.append("- kept: databases `").append(dbP).append("` (pgloader) and `").append(dbF).append("` (ferry)\n");
            } else {
                env.dropDatabase(dbP);
                env.dropDatabase(dbF);
            }
        }
        return md.toString();
    }

    private PgSchema readPg(String db) throws SQLException {
        try (Connection c = DriverManager.getConnection(env.jdbcUrl(db))) {
            return Catalogs.readPg(c, SCHEMA);
        }
    }

    // ------------------------------------------------------------------------------------------------ report

    private String render(String fixture, SqliteSchema source, PgSchema pgS, PgSchema ferryS, PgloaderRun pgl, FerryRun ferry,
                          Path sqliteFile, String dbP, String dbF) throws SQLException {
        StringBuilder md = new StringBuilder();
        Map<String, Long> deadByTable = new TreeMap<>();
        if (ferry != null) {
            for (FerryRun.DeadLetter d : ferry.letters()) {
                deadByTable.merge(String.valueOf(d.table()), 1L, Long::sum);
            }
        }
        int typeDiffs = 0;
        int valueDiffColumns = 0;
        int renamed = 0;
        long rowsP = 0;
        long rowsF = 0;
        // ---- tables
        md.append("\n### Tables\n\n");
        md.append("| SQLite table | rows | pgloader table | rows (errors) | ferry table | rows (dead letters) | key: SQLite / pgloader / ferry |"
                + " indexes S / P / F | foreign keys S / P / F |\n");
        md.append("| --- | ---: | --- | ---: | --- | ---: | --- | --- | --- |\n");
        Map<String, PgTable> pgFor = new LinkedHashMap<>();
        Map<String, PgTable> ferryFor = new LinkedHashMap<>();
        List<String> details = new ArrayList<>();
        for (SqliteTable t : source.tables()) {
            NameMatch mp = pgS == null ? null : Catalogs.match(t.name(), pgS.tables().keySet());
            NameMatch mf = ferryS == null ? null : Catalogs.match(t.name(), ferryS.tables().keySet());
            PgTable tp = mp == null ? null : pgS.tables().get(mp.name());
            PgTable tf = mf == null ? null : ferryS.tables().get(mf.name());
            if (tp != null) {
                pgFor.put(t.name(), tp);
                rowsP += Math.max(0, tp.rows());
                if (!mp.same()) {
                    renamed++;
                }
            }
            if (tf != null) {
                ferryFor.put(t.name(), tf);
                rowsF += Math.max(0, tf.rows());
            }
            long[] ps = pgS == null ? null : pgl.summaryOf(tp != null ? tp.name() : t.name());
            long sIdx = t.indexes().stream().filter(i -> !i.contains("primary key")).count();
            md.append("| `").append(t.name()).append('`').append(t.withoutRowid() ? " (WITHOUT ROWID)" : "")
                    .append(" | ").append(String.format("%,d", t.rows()))
                    .append(" | ").append(tableName(mp, pgS != null)).append(" | ").append(tp == null ? DASH : String.format("%,d", tp.rows()))
                    .append(ps != null && ps[0] > 0 ? " (" + ps[0] + " errors)" : "")
                    .append(" | ").append(tableName(mf, ferryS != null)).append(" | ").append(tf == null ? DASH : String.format("%,d", tf.rows()))
                    .append(deadByTable.containsKey(t.name()) ? " (" + deadByTable.get(t.name()) + " dead)" : "")
                    .append(" | ").append(keyText(t.pk(), t.withoutRowid() ? null : "rowid")).append(" / ")
                    .append(tp == null ? DASH : keyText(tp.pk(), "none")).append(" / ").append(tf == null ? DASH : keyText(tf.pk(), "none"))
                    .append(" | ").append(sIdx).append(" / ").append(tp == null ? DASH : indexCount(tp)).append(" / ")
                    .append(tf == null ? DASH : indexCount(tf))
                    .append(" | ").append(t.foreignKeys().size()).append(" / ").append(tp == null ? DASH : tp.foreignKeys().size())
                    .append(" / ").append(tf == null ? DASH : tf.foreignKeys().size()).append(" |\n");
            if (tp != null && (!tp.indexes().isEmpty() || !tp.foreignKeys().isEmpty() || !tp.uniques().isEmpty() || !tp.checks().isEmpty())) {
                details.add("`" + t.name() + "` in pgloader's database: " + Stream.of(
                                tp.indexes().stream().map(i -> "index " + i), tp.uniques().stream().map(u -> "constraint " + u),
                                tp.foreignKeys().stream().map(f -> "constraint " + f), tp.checks().stream().map(c -> "constraint " + c))
                        .flatMap(s -> s).map(s -> "`" + s + "`").collect(Collectors.joining("; ")));
            }
            if (tf != null && (!tf.indexes().isEmpty() || !tf.foreignKeys().isEmpty() || !tf.uniques().isEmpty() || !tf.checks().isEmpty())) {
                details.add("`" + t.name() + "` in ferry's database: " + Stream.of(
                                tf.indexes().stream().map(i -> "index " + i), tf.uniques().stream().map(u -> "constraint " + u),
                                tf.foreignKeys().stream().map(f -> "constraint " + f), tf.checks().stream().map(c -> "constraint " + c))
                        .flatMap(s -> s).map(s -> "`" + s + "`").collect(Collectors.joining("; ")));
            }
            if (!t.indexes().isEmpty() || !t.foreignKeys().isEmpty()) {
                details.add("`" + t.name() + "` in SQLite: " + Stream.concat(t.indexes().stream().map(i -> "index " + i),
                        t.foreignKeys().stream().map(f -> "foreign key " + f)).map(s -> "`" + s + "`").collect(Collectors.joining("; ")));
            }
        }
        for (PgSchema s : new PgSchema[] {pgS, ferryS}) {
            if (s == null) {
                continue;
            }
            String who = s == pgS ? "pgloader" : "ferry";
            List<String> extra = s.tables().keySet().stream().filter(n -> !(s == pgS ? pgFor : ferryFor).values().stream()
                    .map(PgTable::name).toList().contains(n)).toList();
            if (!extra.isEmpty()) {
                details.add(who + " created table(s) that match no SQLite table: " + extra.stream().map(n -> "`" + n + "`").collect(Collectors.joining(", ")));
            }
            if (!s.views().isEmpty()) {
                details.add(who + " created view(s): " + String.join(", ", s.views()));
            } else if (!source.views().isEmpty()) {
                details.add(who + " created no views (SQLite has " + source.views().size() + ")");
            }
            if (!s.otherSchemas().isEmpty()) {
                details.add(who + "'s database also has schema(s) " + String.join(", ", s.otherSchemas()));
            }
            if (!s.sequences().isEmpty()) {
                details.add(who + " created sequence(s) " + s.sequences().stream().map(q -> "`" + q + "`").collect(Collectors.joining(", ")));
            }
        }
        if (!details.isEmpty()) {
            md.append('\n');
            details.forEach(d -> md.append("- ").append(d).append('\n'));
        }
        // ---- columns
        md.append("\n### Columns\n\n");
        md.append("| column | SQLite declared | pgloader | ferry | NOT NULL S / P / F | default: SQLite / pgloader / ferry | values differing |\n");
        md.append("| --- | --- | --- | --- | --- | --- | --- |\n");
        List<String> valueSections = new ArrayList<>();
        try (Connection sqlite = DriverManager.getConnection("jdbc:sqlite:" + sqliteFile.toAbsolutePath());
             Connection cp = pgS == null ? null : session(dbP);
             Connection cf = ferryS == null ? null : session(dbF)) {
            for (SqliteTable t : source.tables()) {
                PgTable tp = pgFor.get(t.name());
                PgTable tf = ferryFor.get(t.name());
                ValueComparison vc = tp != null && tf != null ? compareValues(t, tp, tf, cp, cf, sqlite) : null;
                for (SqliteColumn c : t.columns()) {
                    NameMatch mp = tp == null ? null : Catalogs.match(c.name(), tp.columnNames());
                    NameMatch mf = tf == null ? null : Catalogs.match(c.name(), tf.columnNames());
                    PgColumn pc = mp == null ? null : tp.column(mp.name());
                    PgColumn fc = mf == null ? null : tf.column(mf.name());
                    if (pc != null && mp != null && !mp.same()) {
                        renamed++;
                    }
                    boolean typeDiff = pc != null && fc != null && !pc.type().equals(fc.type());
                    if (typeDiff) {
                        typeDiffs++;
                    }
                    if (pc != null && fc != null) {
                        List<String> k = List.of(c.declared().toUpperCase(Locale.ROOT), pc.type(), fc.type());
                        typePairs.computeIfAbsent(k, x -> new long[1])[0]++;
                        typePairFixtures.computeIfAbsent(k, x -> new LinkedHashSet<>()).add(fixture.replaceAll("^.*/", ""));
                    }
                    ColumnDiff diff = vc == null ? null : vc.diffs().get(c.name());
                    String values = vc == null ? DASH : diff == null ? (vc.columns().contains(c.name()) ? "0" : DASH)
                            : String.format("**%,d** of %,d", diff.differing(), vc.matched());
                    if (diff != null) {
                        valueDiffColumns++;
                    }
                    md.append("| `").append(t.name()).append('.').append(c.name()).append('`')
                            .append(" | ").append(c.declared().isEmpty() ? "(none)" : "`" + c.declared() + "`")
                            .append(" | ").append(columnType(pc, mp, tp != null)).append(" | ").append(columnType(fc, mf, tf != null))
                            .append(typeDiff ? " ≠" : "")
                            .append(" | ").append(yn(c.notNull() || c.pk() > 0 && t.pk().size() == 1 && isIntegerPk(c, t))).append(" / ")
                            .append(pc == null ? DASH : yn(pc.notNull())).append(" / ").append(fc == null ? DASH : yn(fc.notNull()))
                            .append(" | ").append(def(c.dflt())).append(" / ").append(pc == null ? DASH : pgDefault(pc)).append(" / ")
                            .append(fc == null ? DASH : pgDefault(fc))
                            .append(" | ").append(values).append(" |\n");
                }
                if (tf != null) {
                    for (PgColumn fc : tf.columns()) {
                        if (t.column(fc.name()) == null && Catalogs.match(fc.name(), t.columns().stream().map(SqliteColumn::name).toList()) == null) {
                            md.append("| `").append(t.name()).append('.').append(fc.name()).append("` | (not in SQLite) | ")
                                    .append(DASH).append(" | `").append(fc.type()).append("` (ferry adds it) | ").append(DASH).append(" / ")
                                    .append(DASH).append(" / ").append(yn(fc.notNull())).append(" | | |\n");
                        }
                    }
                }
                if (tp != null) {
                    for (PgColumn pc : tp.columns()) {
                        if (Catalogs.match(pc.name(), t.columns().stream().map(SqliteColumn::name).toList()) == null) {
                            md.append("| `").append(t.name()).append('.').append(pc.name()).append("` | (not in SQLite) | `")
                                    .append(pc.type()).append("` (pgloader adds it) | ").append(DASH).append(" | ").append(DASH)
                                    .append(" / ").append(yn(pc.notNull())).append(" / ").append(DASH).append(" | | |\n");
                        }
                    }
                }
                if (vc != null) {
                    valueSections.add(renderValues(t, vc));
                }
            }
        }
        if (pgS != null && ferryS != null) {
            for (SqliteTable t : source.tables()) {
                if (pgFor.get(t.name()) == null || ferryFor.get(t.name()) == null) {
                    valueSections.add("- `" + t.name() + "`: not compared, the table is missing in "
                            + (pgFor.get(t.name()) == null ? "pgloader's" : "ferry's") + " database\n");
                }
            }
        }
        String values = valueSections.stream().filter(s -> !s.isEmpty()).collect(Collectors.joining());
        md.append("\n### Values\n\n");
        if (pgS == null || ferryS == null) {
            md.append("Not compared: only one tool loaded the file.\n");
        } else if (values.isEmpty()) {
            md.append("Every row of every table is on both sides, and every value is the same text on both sides.\n");
        } else {
            md.append(values);
        }
        if (ferry != null && !ferry.letters().isEmpty()) {
            md.append("\n### ferry's dead letters\n\n| table | column | reason | rows |\n| --- | --- | --- | ---: |\n");
            Map<List<String>, Long> grouped = new LinkedHashMap<>();
            for (FerryRun.DeadLetter d : ferry.letters()) {
                grouped.merge(List.of(String.valueOf(d.table()), String.valueOf(d.column()), cell(d.reason(), 220)), 1L, Long::sum);
            }
            grouped.forEach((k, n) -> md.append("| `").append(k.get(0)).append("` | ").append(k.get(1).equals("null") ? DASH : "`" + k.get(1) + "`")
                    .append(" | ").append(k.get(2)).append(" | ").append(n).append(" |\n"));
        }
        if (!pgl.errors().isEmpty()) {
            md.append("\n### pgloader's errors (").append(pgl.errors().size() > 6 ? "first 6 of " + pgl.errors().size() : "all").append(")\n\n");
            pgl.errors().stream().distinct().limit(6).forEach(e -> md.append("- `").append(cell(e, 300).replace("`", "'")).append("`\n"));
        }
        String pglCell = pgS == null ? "**refused**: " + cell(pgl.failure(), 90)
                : String.format("%.1f s%s", pgl.wallSeconds(), pgl.totalErrors() > 0 ? ", " + pgl.totalErrors() + " error(s)" : "");
        String ferryCell = ferry == null ? "not run" : ferry.failed() ? "**failed**: " + cell(ferry.failure(), 90)
                : String.format("%.1f s%s", ferry.seconds(), ferry.deadLetters() > 0 ? ", " + ferry.deadLetters() + " dead letter(s)" : "");
        summaryRows.add(new String[] {"`" + fixture + "`", String.format("%d / %,d", source.tables().size(), source.rows()), pglCell, ferryCell,
                (pgS == null ? DASH : String.format("%,d", rowsP)) + " / " + (ferryS == null ? DASH : String.format("%,d", rowsF)),
                pgS == null || ferryS == null ? DASH : Integer.toString(typeDiffs),
                pgS == null || ferryS == null ? DASH : Integer.toString(valueDiffColumns), pgS == null ? DASH : Integer.toString(renamed)});
        return md.toString();
    }

    private static boolean isIntegerPk(SqliteColumn c, SqliteTable t) {
        return !t.withoutRowid() && c.declared().equalsIgnoreCase("INTEGER");
    }

    private static String renderValues(SqliteTable t, ValueComparison vc) {
        StringBuilder md = new StringBuilder();
        if (vc.onlyPgloader() > 0 || vc.onlyFerry() > 0 || vc.note() != null) {
            md.append("- `").append(t.name()).append("`: rows matched by ").append(vc.method()).append(": ")
                    .append(String.format("%,d", vc.matched())).append(" on both sides");
            if (vc.onlyPgloader() > 0) {
                md.append(String.format(", %,d only in pgloader's (e.g. %s)", vc.onlyPgloader(), String.join("; ", vc.onlyPgloaderKeys())));
            }
            if (vc.onlyFerry() > 0) {
                md.append(String.format(", %,d only in ferry's (e.g. %s)", vc.onlyFerry(), String.join("; ", vc.onlyFerryKeys())));
            }
            if (vc.note() != null) {
                md.append(". ").append(vc.note());
            }
            md.append('\n');
        }
        for (ColumnDiff d : vc.diffs().values()) {
            md.append("- `").append(t.name()).append('.').append(d.column()).append("` (pgloader `").append(d.pgloaderType())
                    .append("`, ferry `").append(d.ferryType()).append("`): ").append(String.format("%,d of %,d rows differ", d.differing(), vc.matched()));
            md.append(" (").append(d.kinds().entrySet().stream().map(e -> e.getValue() + " " + e.getKey()).collect(Collectors.joining(", "))).append(")\n\n");
            md.append("  | key | SQLite | pgloader | ferry |\n  | --- | --- | --- | --- |\n");
            for (String[] ex : d.examples()) {
                md.append("  | ").append(code(ex[0])).append(" | ").append(code(ex[1])).append(" | ").append(ex[2] == null ? "NULL" : code(ex[2]))
                        .append(" | ").append(ex[3] == null ? "NULL" : code(ex[3])).append(" |\n");
            }
            md.append('\n');
        }
        return md.toString();
    }

    // ------------------------------------------------------------------------------------------------ values

    record ColumnDiff(String column, String pgloaderType, String ferryType, long differing, Map<String, Long> kinds, List<String[]> examples) {
    }

    record ValueComparison(String method, long matched, long onlyPgloader, long onlyFerry, List<String> onlyPgloaderKeys,
                           List<String> onlyFerryKeys, Map<String, ColumnDiff> diffs, List<String> columns, String note) {
    }

    /** A side's rows: key text → the values of the compared columns as text. */
    private record Rows(LinkedHashMap<String, String[]> rows, Map<String, String[]> keyParts) {
    }

    private ValueComparison compareValues(SqliteTable t, PgTable tp, PgTable tf, Connection cp, Connection cf, Connection sqlite) throws SQLException {
        List<SqliteColumn> cols = new ArrayList<>();
        List<String> pCols = new ArrayList<>();
        List<String> fCols = new ArrayList<>();
        for (SqliteColumn c : t.columns()) {
            NameMatch mp = Catalogs.match(c.name(), tp.columnNames());
            NameMatch mf = Catalogs.match(c.name(), tf.columnNames());
            if (mp != null && mf != null) {
                cols.add(c);
                pCols.add(mp.name());
                fCols.add(mf.name());
            }
        }
        // the key: SQLite's primary key where both sides have its columns, else rowid order
        List<String> pKey = new ArrayList<>();
        List<String> fKey = new ArrayList<>();
        List<String> keyTypes = new ArrayList<>();
        boolean byKey = !t.pk().isEmpty();
        for (String k : t.pk()) {
            NameMatch mp = Catalogs.match(k, tp.columnNames());
            NameMatch mf = Catalogs.match(k, tf.columnNames());
            if (mp == null || mf == null) {
                byKey = false;
                break;
            }
            pKey.add(mp.name());
            fKey.add(mf.name());
            keyTypes.add(tf.column(mf.name()).typeName());
        }
        String note = null;
        Rows p;
        Rows f;
        String method;
        if (byKey) {
            method = "primary key (" + String.join(", ", t.pk()) + ")";
            p = fetch(cp, tp.name(), pKey, pCols, order(pKey));
            f = fetch(cf, tf.name(), fKey, fCols, order(fKey));
            for (int i = 0; i < pKey.size(); i++) {
                String a = tp.column(pKey.get(i)).type();
                String b = tf.column(fKey.get(i)).type();
                if (!a.equals(b)) {
                    note = "The key column `" + t.pk().get(i) + "` is `" + a + "` in pgloader's and `" + b + "` in ferry's table: keys match only where"
                            + " both render the same text.";
                }
            }
        } else {
            method = "rowid order (pgloader: physical order; ferry: `_ferry_rowid`)";
            p = fetch(cp, tp.name(), List.of(), pCols, "t0.ctid");
            f = fetch(cf, tf.name(), List.of(), fCols, tf.column("_ferry_rowid") != null ? "t0.\"_ferry_rowid\"" : "t0.ctid");
            if (p.rows().size() != f.rows().size()) {
                note = "The row counts differ, so rows after the first missing one are misaligned: the value differences below are not reliable.";
            }
        }
        long matched = 0;
        List<String> onlyP = new ArrayList<>();
        List<String> onlyF = new ArrayList<>();
        Map<String, ColumnDiff> diffs = new LinkedHashMap<>();
        Map<Integer, Map<String, Long>> kinds = new TreeMap<>();
        Map<Integer, List<String[]>> examples = new TreeMap<>();
        Map<Integer, Long> counts = new TreeMap<>();
        for (Map.Entry<String, String[]> e : p.rows().entrySet()) {
            String[] fv = f.rows().get(e.getKey());
            if (fv == null) {
                onlyP.add(e.getKey());
                continue;
            }
            matched++;
            String[] pv = e.getValue();
            for (int i = 0; i < cols.size(); i++) {
                if (!Objects.equals(pv[i], fv[i])) {
                    counts.merge(i, 1L, Long::sum);
                    kinds.computeIfAbsent(i, x -> new TreeMap<>()).merge(kind(pv[i], fv[i]), 1L, Long::sum);
                    List<String[]> ex = examples.computeIfAbsent(i, x -> new ArrayList<>());
                    if (ex.size() < args.examples()) {
                        String[] parts = byKey ? p.keyParts().get(e.getKey()) : null;
                        String keyShown = byKey ? String.join(", ", parts) : "row " + (Long.parseLong(e.getKey()) + 1);
                        String src = byKey ? sqliteValue(sqlite, t, cols.get(i).name(), parts, keyTypes) : sqliteValueAt(sqlite, t, cols.get(i).name(), Long.parseLong(e.getKey()));
                        ex.add(new String[] {cell(keyShown, 40), src, clip(pv[i]), clip(fv[i])});
                    }
                }
            }
        }
        for (String k : f.rows().keySet()) {
            if (!p.rows().containsKey(k)) {
                onlyF.add(k);
            }
        }
        for (Map.Entry<Integer, Long> e : counts.entrySet()) {
            int i = e.getKey();
            diffs.put(cols.get(i).name(), new ColumnDiff(cols.get(i).name(), tp.column(pCols.get(i)).type(), tf.column(fCols.get(i)).type(),
                    e.getValue(), kinds.get(i), examples.get(i)));
        }
        return new ValueComparison(method, matched, onlyP.size(), onlyF.size(), shownKeys(onlyP, p.keyParts()), shownKeys(onlyF, f.keyParts()),
                diffs, cols.stream().map(SqliteColumn::name).toList(), note);
    }

    private List<String> shownKeys(List<String> keys, Map<String, String[]> parts) {
        return keys.stream().limit(args.examples()).map(k -> parts.containsKey(k) ? "`" + cell(String.join(", ", parts.get(k)), 40) + "`"
                : "row " + (Long.parseLong(k) + 1)).toList();
    }

    private static String order(List<String> key) {
        return key.stream().map(k -> "t0." + Catalogs.quote(k)).collect(Collectors.joining(", "));
    }

    private Connection session(String db) throws SQLException {
        Connection c = DriverManager.getConnection(env.jdbcUrl(db));
        try (Statement st = c.createStatement()) {
            st.execute("SET TimeZone = 'UTC'");
            st.execute("SET DateStyle = 'ISO, YMD'");
            st.execute("SET IntervalStyle = 'postgres'");
            st.execute("SET extra_float_digits = 1");
            st.execute("SET bytea_output = 'hex'");
        }
        c.setAutoCommit(false);
        return c;
    }

    /** All rows: key (the key columns' text joined, or the row's position when {@code keyCols} is empty) → values as text. */
    private static Rows fetch(Connection c, String table, List<String> keyCols, List<String> cols, String orderBy) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT ");
        List<String> exprs = new ArrayList<>();
        keyCols.forEach(k -> exprs.add(Catalogs.quote(k) + "::text"));
        cols.forEach(k -> exprs.add(Catalogs.quote(k) + "::text"));
        if (exprs.isEmpty()) {
            exprs.add("1");
        }
        // ORDER BY on the table's columns (t0.), not on the output columns of the same names, which are text
        sql.append(String.join(", ", exprs)).append(" FROM ").append(Catalogs.quote(SCHEMA)).append('.').append(Catalogs.quote(table))
                .append(" AS t0 ORDER BY ").append(orderBy);
        LinkedHashMap<String, String[]> rows = new LinkedHashMap<>();
        Map<String, String[]> parts = new LinkedHashMap<>();
        try (Statement st = c.createStatement()) {
            st.setFetchSize(2_000);
            try (ResultSet rs = st.executeQuery(sql.toString())) {
                long n = 0;
                while (rs.next()) {
                    String key;
                    if (keyCols.isEmpty()) {
                        key = Long.toString(n);
                    } else {
                        String[] kp = new String[keyCols.size()];
                        for (int i = 0; i < kp.length; i++) {
                            String v = rs.getString(i + 1);
                            kp[i] = v == null ? "NULL" : v;
                        }
                        key = String.join("\u0001", kp);
                        parts.put(key, kp);
                    }
                    String[] vals = new String[cols.size()];
                    for (int i = 0; i < vals.length; i++) {
                        vals[i] = rs.getString(keyCols.size() + i + 1);
                    }
                    rows.put(key, vals);
                    n++;
                }
            }
        }
        c.commit();
        return new Rows(rows, parts);
    }

    /** The SQLite value of a column in the row with this key, as {@code typeof: quote(value)}. */
    private static String sqliteValue(Connection sqlite, SqliteTable t, String column, String[] key, List<String> keyTypes) {
        StringBuilder sql = new StringBuilder("SELECT typeof(").append(Catalogs.quote(column)).append("), quote(").append(Catalogs.quote(column))
                .append(") FROM ").append(Catalogs.quote(t.name())).append(" WHERE ");
        for (int i = 0; i < t.pk().size(); i++) {
            sql.append(i > 0 ? " AND " : "").append(Catalogs.quote(t.pk().get(i))).append(" = ?");
        }
        try (PreparedStatement ps = sqlite.prepareStatement(sql.toString())) {
            for (int i = 0; i < key.length; i++) {
                if (keyTypes.get(i).equals("bytea") && key[i].startsWith("\\x")) {
                    ps.setBytes(i + 1, HexFormat.of().parseHex(key[i].substring(2)));
                } else {
                    ps.setString(i + 1, key[i]);
                }
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) + ": " + clip(rs.getString(2)) : "(not found by key)";
            }
        } catch (SQLException e) {
            return "(" + e.getMessage() + ")";
        }
    }

    private static String sqliteValueAt(Connection sqlite, SqliteTable t, String column, long position) {
        String sql = "SELECT typeof(" + Catalogs.quote(column) + "), quote(" + Catalogs.quote(column) + ") FROM " + Catalogs.quote(t.name())
                + " ORDER BY rowid LIMIT 1 OFFSET " + position;
        try (Statement st = sqlite.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) + ": " + clip(rs.getString(2)) : "(no such row)";
        } catch (SQLException e) {
            return "(" + e.getMessage() + ")";
        }
    }

    private static final Pattern TS = Pattern.compile("^(\\d{4}-\\d\\d-\\d\\d)(?:[ T](\\d\\d:\\d\\d(?::\\d\\d(?:\\.\\d+)?)?))?(?:\\s*(Z|[+-]\\d\\d(?::?\\d\\d)?))?$");

    /** What kind of difference: one side NULL, the same number or instant written differently, close numbers, or different. */
    static String kind(String a, String b) {
        if (a == null || b == null) {
            return a == null ? "NULL in pgloader's" : "NULL in ferry's";
        }
        BigDecimal x = number(a);
        BigDecimal y = number(b);
        if (x != null && y != null) {
            if (x.compareTo(y) == 0) {
                return "same number, other text";
            }
            double dx = x.doubleValue();
            double dy = y.doubleValue();
            if (Math.abs(dx - dy) <= 1e-6 * Math.max(Math.abs(dx), Math.abs(dy))) {
                return "numbers within 1e-6 (rounding)";
            }
            return "different numbers";
        }
        java.time.Instant ix = instant(a);
        java.time.Instant iy = instant(b);
        if (ix != null && iy != null) {
            return ix.equals(iy) ? "same instant, other text" : "different instants";
        }
        if (a.equalsIgnoreCase(b)) {
            return "differ only in case";
        }
        if (a.trim().equals(b.trim())) {
            return "differ only in surrounding spaces";
        }
        return "different";
    }

    static BigDecimal number(String s) {
        try {
            return new BigDecimal(s.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static java.time.Instant instant(String s) {
        Matcher m = TS.matcher(s.trim());
        if (!m.matches()) {
            return null;
        }
        try {
            LocalDate d = LocalDate.parse(m.group(1));
            LocalDateTime dt = m.group(2) == null ? d.atStartOfDay()
                    : LocalDateTime.parse(m.group(1) + "T" + (m.group(2).length() == 5 ? m.group(2) + ":00" : m.group(2)));
            ZoneOffset off = ZoneOffset.UTC;
            if (m.group(3) != null && !m.group(3).equals("Z")) {
                String o = m.group(3).replace(":", "");
                off = ZoneOffset.ofHoursMinutes(Integer.parseInt(o.substring(0, 3)), o.length() > 3 ? Integer.parseInt(o.charAt(0) + o.substring(3)) : 0);
            }
            return dt.toInstant(off);
        } catch (RuntimeException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------------------------------------ formatting

    private static String tableName(NameMatch m, boolean loaded) {
        if (!loaded) {
            return DASH;
        }
        if (m == null) {
            return "**missing**";
        }
        return "`" + m.name() + "`" + (m.same() ? "" : " (" + m.how() + ")");
    }

    private static String columnType(PgColumn c, NameMatch m, boolean tableLoaded) {
        if (!tableLoaded) {
            return DASH;
        }
        if (c == null) {
            return "**missing**";
        }
        return "`" + c.type() + "`" + (c.identity() != null ? " " + c.identity() : "") + (m.same() ? "" : " as `" + c.name() + "` (" + m.how() + ")");
    }

    private static String keyText(List<String> key, String none) {
        return key.isEmpty() ? (none == null ? DASH : none) : key.stream().map(k -> "`" + k + "`").collect(Collectors.joining(", "));
    }

    private static String indexCount(PgTable t) {
        long unique = t.indexes().stream().filter(i -> i.startsWith("unique")).count() + t.uniques().size();
        return (t.indexes().size() + t.uniques().size()) + (unique > 0 ? " (" + unique + " unique)" : "");
    }

    private static String yn(boolean b) {
        return b ? "yes" : "no";
    }

    private static String def(String d) {
        return d == null ? DASH : code(d);
    }

    private static String pgDefault(PgColumn c) {
        return c.dflt() == null ? DASH : code(c.dflt());
    }

    private static String clip(String s) {
        if (s == null) {
            return null;
        }
        return s.length() <= 60 ? s : s.substring(0, 57) + "…(" + s.length() + " chars)";
    }

    /** A Markdown table cell: no pipes or line breaks, at most {@code max} characters. */
    static String cell(String s, int max) {
        if (s == null) {
            return "";
        }
        String t = s.replace("\r", "").replace("\n", " ⏎ ").replace("|", "\\|");
        return t.length() <= max ? t : t.substring(0, max - 1) + "…";
    }

    private static String code(String s) {
        if (s == null) {
            return "NULL";
        }
        String t = cell(s, 200);
        if (t.isEmpty()) {
            return "`''`";
        }
        return t.contains("`") ? "`` " + t + " ``" : "`" + t + "`";
    }

    private static void log(String format, Object... a) {
        System.err.println("[pgloader-comparison] " + String.format(format, a));
    }
}
