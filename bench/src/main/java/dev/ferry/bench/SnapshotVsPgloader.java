package dev.ferry.bench;

import dev.ferry.bench.Catalogs.NameMatch;
import dev.ferry.bench.Catalogs.PgSchema;
import dev.ferry.bench.Catalogs.SqliteSchema;
import dev.ferry.bench.Catalogs.SqliteTable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Snapshot throughput of ferry against pgloader, in the same run, on the same PostgreSQL: the largest fixture (by rows)
 * and a generated table of mixed types ({@link SourceGenerator#generateMixed}). Each tool loads each file into a fresh
 * database, alternating (pgloader, ferry, pgloader, ferry, ...):
 *
 * <ul>
 *   <li>pgloader: the wall clock of the whole command as a user runs it ({@code pgloader FILE URL}), from process start
 *       to exit; it includes SBCL's start, the schema, the COPY, and building indexes and keys after the data.</li>
 *   <li>ferry, by default: the wall clock of the whole command as a user runs it, {@code ./ferry up --sqlite FILE --postgres URL
 *       --until-caught-up}, from process start to exit: the JVM's start, the embedded broker, the snapshot through Kafka,
 *       the indexes after it, and the orderly stop. One untimed run on a small file comes first, so that the launcher's
 *       build check and class archive (docs/operations.md#start-up) are done, as after {@code ./ferry demo}.</li>
 *   <li>ferry with {@code --ferry-in-jvm}: {@code Pipeline.start()} (broker start included) until {@code Progress.caughtUp()},
 *       checked every 100 ms, in this JVM, as {@link ReplicationBench} measures it, with the CPU of each thread.</li>
 * </ul>
 *
 * Each run gets its own copy of the SQLite file and its own database (and for ferry a new data dir); a {@code CHECKPOINT}
 * precedes each run. Every run is checked: each table's row count on the PostgreSQL side equals SQLite's.
 */
public final class SnapshotVsPgloader {

    record Args(long rows, long seed, int runs, Path fixtures, Path fixture, boolean skipFixture, boolean skipGenerated, Path out,
                boolean keep, Path workDir, String pgServer, String pgUser, String pgloader, Duration timeout, Path generateOnly,
                boolean ferryInJvm, Path launcher) {

        static Args parse(String[] argv) {
            long rows = 1_000_000;
            long seed = 42;
            int runs = 2;
            Path fixtures = null;
            Path fixture = null;
            boolean skipFixture = false;
            boolean skipGenerated = false;
            Path out = null;
            boolean keep = false;
            Path work = null;
            String pg = "jdbc:postgresql://127.0.0.1:5432/";
            String user = "postgres";
            String pgloader = "/usr/bin/pgloader";
            Duration timeout = Duration.ofMinutes(60);
            Path generateOnly = null;
            boolean ferryInJvm = false;
            Path launcher = null;
            for (int i = 0; i < argv.length; i++) {
                String a = argv[i];
                switch (a) {
                    case "--rows" -> rows = Long.parseLong(argv[++i].replace("_", ""));
                    case "--seed" -> seed = Long.parseLong(argv[++i]);
                    case "--runs" -> runs = Integer.parseInt(argv[++i]);
                    case "--fixtures" -> fixtures = Path.of(argv[++i]);
                    case "--fixture" -> fixture = Path.of(argv[++i]);
                    case "--no-fixture" -> skipFixture = true;
                    case "--no-generated" -> skipGenerated = true;
                    case "--out" -> out = Path.of(argv[++i]);
                    case "--keep" -> keep = true;
                    case "--work-dir" -> work = Path.of(argv[++i]);
                    case "--pg" -> pg = argv[++i];
                    case "--pg-user" -> user = argv[++i];
                    case "--pgloader" -> pgloader = argv[++i];
                    case "--timeout-minutes" -> timeout = Duration.ofMinutes(Long.parseLong(argv[++i]));
                    case "--generate-only" -> generateOnly = Path.of(argv[++i]);
                    case "--ferry-in-jvm" -> ferryInJvm = true;
                    case "--launcher" -> launcher = Path.of(argv[++i]);
                    case "-h", "--help" -> {
                        System.out.println("""
                                usage: SnapshotVsPgloader [options]
                                  --rows N              rows of the generated table (default 1000000)
                                  --seed S              random seed of the generated table (default 42)
                                  --runs R              runs per tool and file, alternating pgloader/ferry (default 2)
                                  --fixtures DIR        where to find the largest fixture (default ../shared/fixtures from the repo root)
                                  --fixture FILE        this file instead of the largest fixture
                                  --no-fixture          only the generated table
                                  --no-generated        only the fixture
                                  --out FILE            also write the Markdown report to FILE
                                  --keep                keep the databases and the scratch dir
                                  --work-dir DIR        scratch dir (default: a new temp dir)
                                  --pg URL              PostgreSQL server (default jdbc:postgresql://127.0.0.1:5432/)
                                  --pg-user USER        (default postgres)
                                  --pgloader PATH       (default /usr/bin/pgloader)
                                  --timeout-minutes T   per run (default 60)
                                  --generate-only FILE  only write the generated SQLite file (--rows, --seed) and exit
                                  --launcher PATH       ferry's launcher (default: ./ferry of the repository)
                                  --ferry-in-jvm        run ferry's pipeline in this JVM (CPU per thread) instead of the launcher""");
                        System.exit(0);
                    }
                    default -> throw new IllegalArgumentException("unknown option " + a + " (try --help)");
                }
            }
            if (fixtures == null) {
                fixtures = BenchEnv.repoRoot().resolve("../shared/fixtures").normalize();
            }
            if (launcher == null) {
                launcher = BenchEnv.repoRoot().resolve("ferry");
            }
            if (runs < 1 || rows < 1) {
                throw new IllegalArgumentException("--runs and --rows must be positive");
            }
            return new Args(rows, seed, runs, fixtures, fixture, skipFixture, skipGenerated, out, keep, work, pg, user, pgloader, timeout,
                    generateOnly, ferryInJvm, launcher);
        }
    }

    /** One timed run. */
    record Run(String tool, int n, double seconds, long rows, double toolCpu, double postgresCpu, double otherCpu, String check,
               boolean ok, String detail) {
        double rate() {
            return rows / seconds;
        }
    }

    private final Args args;
    private final BenchEnv env;
    private final List<String> problems = new ArrayList<>();

    private SnapshotVsPgloader(Args args) {
        this.args = args;
        this.env = new BenchEnv(args.pgServer(), args.pgUser());
    }

    public static void main(String[] argv) {
        int status;
        try {
            Args args = Args.parse(argv);
            if (args.generateOnly() != null) {
                long t0 = System.nanoTime();
                SourceGenerator.generateMixed(args.generateOnly(), args.rows(), args.seed());
                System.out.printf("wrote %s: %,d rows in %.1f s, %.1f MB%n", args.generateOnly(), args.rows(), BenchEnv.seconds(t0),
                        Files.size(args.generateOnly()) / 1e6);
                System.exit(0);
            }
            status = new SnapshotVsPgloader(args).run();
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
        Path work = args.workDir() != null ? Files.createDirectories(args.workDir()) : Files.createTempDirectory("ferry-snapshot-vs-pgloader-");
        StringBuilder md = new StringBuilder();
        md.append("# Snapshot: ferry vs pgloader\n\n");
        md.append("- run: ").append(BenchEnv.now()).append('\n');
        md.append("- command: `java -cp \"bench/target/ferry-bench.jar:bench/target/lib/*\" dev.ferry.bench.SnapshotVsPgloader --rows ")
                .append(args.rows()).append(" --runs ").append(args.runs())
                .append(args.skipFixture() ? " --no-fixture" : "").append(args.skipGenerated() ? " --no-generated" : "")
                .append(args.ferryInJvm() ? " --ferry-in-jvm" : "").append("`\n");
        md.append("- ferry runs as: ").append(args.ferryInJvm()
                ? "its pipeline in the bench's JVM, from `Pipeline.start()` until caught up (JVM start and stop not timed)"
                : "`" + args.launcher() + " up --sqlite FILE --postgres URL --data-dir DIR --metrics-port 0 --until-caught-up`, timed from"
                  + " process start to exit").append('\n');
        md.append("- machine: ").append(env.machine()).append('\n');
        md.append("- pgloader: ").append(BenchEnv.pgloaderVersion(args.pgloader())).append('\n');
        md.append("- ferry: ").append(BenchEnv.gitState()).append("; jars: ").append(BenchEnv.codeVersions()).append('\n');
        log("%s", md.toString().trim());
        try {
            if (!args.ferryInJvm()) {
                md.append("- warm-up (not timed): ").append(warmUp(work.resolve("warm-up"))).append('\n');
            }
            if (!args.skipFixture()) {
                Path fixture = args.fixture() != null ? args.fixture() : largestFixture(work.resolve("probe"));
                Path master = BenchEnv.copyWritable(fixture, work.resolve("fixture").resolve(fixture.getFileName().toString()));
                md.append(dataset("largest fixture: `" + displayFixture(fixture) + "`", master, work.resolve("fixture-runs")));
            }
            if (!args.skipGenerated()) {
                Path master = work.resolve("generated").resolve("bench_mixed.db");
                Files.createDirectories(master.getParent());
                long g0 = System.nanoTime();
                log("generating %,d rows ...", args.rows());
                SourceGenerator.generateMixed(master, args.rows(), args.seed());
                String gen = String.format("generated in %.1f s (not timed), %.1f MB", BenchEnv.seconds(g0), Files.size(master) / 1e6);
                log("%s", gen);
                md.append(dataset(String.format("generated table `%s`, %,d rows (%s): `%s`", SourceGenerator.MIXED_TABLE, args.rows(), gen,
                        SourceGenerator.MIXED_DDL), master, work.resolve("generated-runs")));
            }
        } finally {
            if (args.keep()) {
                log("kept the scratch dir %s", work);
            } else {
                BenchEnv.deleteRecursively(work);
            }
        }
        if (!problems.isEmpty()) {
            md.append("\n## Problems\n\n");
            problems.forEach(p -> md.append("- ").append(p).append('\n'));
        }
        String report = md.toString();
        System.out.print(report);
        System.out.flush();
        if (args.out() != null) {
            Files.writeString(args.out(), report, StandardCharsets.UTF_8);
            log("report written to %s", args.out());
        }
        return problems.isEmpty() ? 0 : 1;
    }

    private String displayFixture(Path fixture) {
        Path abs = fixture.toAbsolutePath().normalize();
        Path dir = args.fixtures().toAbsolutePath().normalize();
        return abs.startsWith(dir) ? dir.relativize(abs).toString() : fixture.toString();
    }

    /** The fixture with the most rows (over all its tables); the first by path on a tie. */
    private Path largestFixture(Path probeDir) throws Exception {
        Path best = null;
        long bestRows = -1;
        for (Path f : PgloaderComparison.findFixtures(args.fixtures())) {
            Path copy = BenchEnv.copyWritable(f, probeDir.resolve(f.getFileName().toString()));
            long rows;
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + copy.toAbsolutePath())) {
                rows = Catalogs.readSqlite(c).rows();
            }
            if (rows > bestRows) {
                best = f;
                bestRows = rows;
            }
        }
        BenchEnv.deleteRecursively(probeDir);
        if (best == null) {
            throw new IllegalArgumentException("no fixture under " + args.fixtures());
        }
        log("largest fixture: %s (%,d rows)", best, bestRows);
        return best;
    }

    private String dataset(String title, Path master, Path dir) throws Exception {
        SqliteSchema source;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + master.toAbsolutePath())) {
            source = Catalogs.readSqlite(c);
        }
        long rows = source.rows();
        log("=== %s: %d table(s), %,d rows, %.1f MB", master.getFileName(), source.tables().size(), rows, Files.size(master) / 1e6);
        List<Run> runs = new ArrayList<>();
        for (int n = 1; n <= args.runs(); n++) {
            for (String tool : new String[] {"pgloader", "ferry"}) {
                Path runDir = dir.resolve(tool + "-" + n);
                Path copy = BenchEnv.copyWritable(master, runDir.resolve(master.getFileName().toString()));
                String db = BenchEnv.newDatabaseName("fsnap") + "_" + tool;
                env.createDatabase(db);
                env.admin("CHECKPOINT");
                Run run;
                try {
                    run = tool.equals("pgloader") ? pgloaderRun(n, copy, db, runDir, source) : ferryRun(n, copy, db, runDir, source);
                } finally {
                    if (!args.keep()) {
                        env.dropDatabase(db);
                        BenchEnv.deleteRecursively(runDir);
                    }
                }
                log("  %s run %d: %.2f s, %,.0f rows/s; CPU %s %.1f s, PostgreSQL %.1f s, other processes %.1f s; %s", tool, n, run.seconds(),
                        run.rate(), tool, run.toolCpu(), run.postgresCpu(), run.otherCpu(), run.check());
                runs.add(run);
                if (!run.ok()) {
                    problems.add(master.getFileName() + ", " + tool + " run " + n + ": " + run.check() + (run.detail().isEmpty() ? "" : " " + run.detail()));
                }
            }
        }
        StringBuilder md = new StringBuilder();
        md.append("\n## ").append(title).append("\n\n");
        md.append(String.format("%d table(s), %,d rows, SQLite file %.1f MB.%n%n", source.tables().size(), rows, Files.size(master) / 1e6));
        int cores = Runtime.getRuntime().availableProcessors();
        md.append("| run | tool | time | rows/s | CPU of the tool | CPU of PostgreSQL | CPU of other processes | check |\n");
        md.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |\n");
        for (Run r : runs) {
            md.append(String.format("| %d | %s | %.2f s | %,.0f | %.1f s | %.1f s | %.1f s (%.0f %%) | %s |%n", r.n(), r.tool(), r.seconds(), r.rate(),
                    r.toolCpu(), r.postgresCpu(), r.otherCpu(), 100 * r.otherCpu() / r.seconds(), r.check()));
        }
        double pglMedian = median(runs.stream().filter(r -> r.tool().equals("pgloader")).mapToDouble(Run::seconds).toArray());
        double ferryMedian = median(runs.stream().filter(r -> r.tool().equals("ferry")).mapToDouble(Run::seconds).toArray());
        double ratio = (rows / ferryMedian) / (rows / pglMedian);
        md.append(String.format("%nMedian: pgloader %.2f s = **%,.0f rows/s**; ferry %.2f s = **%,.0f rows/s**. "
                        + "Ratio ferry/pgloader (rows/s): **%.2f** (%s).%n", pglMedian, rows / pglMedian, ferryMedian, rows / ferryMedian, ratio,
                ratio >= 1 ? "ferry is faster" : String.format("ferry takes %.1f× as long", 1 / ratio)));
        md.append(String.format("CPU of other processes: 100 %% is one of the %d cores.%n", cores));
        List<String> details = runs.stream().filter(r -> !r.detail().isEmpty()).map(r -> r.tool() + " run " + r.n() + ": " + r.detail()).toList();
        if (!details.isEmpty()) {
            md.append('\n');
            details.forEach(d -> md.append("- ").append(d).append('\n'));
        }
        log("  median pgloader %.2f s (%,.0f rows/s), ferry %.2f s (%,.0f rows/s), ratio ferry/pgloader %.2f", pglMedian, rows / pglMedian,
                ferryMedian, rows / ferryMedian, ratio);
        return md.toString();
    }

    private Run pgloaderRun(int n, Path copy, String db, Path runDir, SqliteSchema source) throws Exception {
        log("  pgloader run %d -> %s", n, db);
        CpuMeter cpu = CpuMeter.start();
        PgloaderRun r = PgloaderRun.run(args.pgloader(), runDir.resolve("pgloader-root"), copy, env.pgloaderUrl(db), runDir.resolve("pgloader.log"),
                args.timeout());
        CpuMeter.Reading reading = cpu.read();
        double tool = Double.isNaN(r.cpuSeconds()) ? 0 : r.cpuSeconds();
        double other = Math.max(0, reading.machineSeconds() - reading.jvmSeconds() - reading.postgresSeconds() - tool);
        String check = check(db, source);
        boolean ok = !r.failed() && check.startsWith("ok");
        String detail = r.failed() ? "pgloader: " + r.failure() : r.totalErrors() > 0 ? "pgloader reported " + r.totalErrors() + " error(s)" : "";
        if (n == 1) {
            detail = (detail.isEmpty() ? "" : detail + "; ") + "command: `" + r.commandLine().replace(runDir.toString(), "$RUN") + "`";
        }
        return new Run("pgloader", n, r.wallSeconds(), source.rows(), tool, reading.postgresSeconds(), other, check, ok, detail);
    }

    /**
     * One untimed run of the launcher on a small file: it builds ferry if a source is newer than the jar, and the first run
     * after a build saves the class archive that later runs map, as the first {@code ./ferry demo} does for a user.
     */
    private String warmUp(Path dir) throws Exception {
        Path db = dir.resolve("warm-up.db");
        Files.createDirectories(dir);
        SourceGenerator.generateMixed(db, 1000, args.seed());
        Path jar = args.launcher().resolveSibling("cli/target/ferry.jar");
        // The launcher's JVM maps ferry.aot (Java 25 and later) or ferry.jsa (before).
        LauncherJvm jvm = launcherJvm();
        Path archiveFile = args.launcher().resolveSibling(jvm.feature() >= 25 ? "cli/target/ferry.aot" : "cli/target/ferry.jsa");
        Path archive = null;
        List<String> runs = new ArrayList<>();
        // A run after a build saves the archive at its exit; the next run's start adopts it: at most three runs.
        for (int i = 1; i <= 3; i++) {
            String name = BenchEnv.newDatabaseName("fsnap") + "_warmup";
            env.createDatabase(name);
            try {
                Path run = dir.resolve("run-" + i);
                Path data = run.resolve("ferry-data");
                Files.createDirectories(run);
                Path copy = BenchEnv.copyWritable(db, run.resolve("warm-up.db"));
                TimedCommand r = TimedCommand.run(ferryCommand(copy, name, data), run.resolve("ferry.log"), args.timeout());
                if (r.exitCode() != 0) {
                    throw new IllegalStateException("the warm-up run of " + args.launcher() + " failed with exit code " + r.exitCode() + ", see "
                            + run.resolve("ferry.log"));
                }
                runs.add(String.format("%.1f s", r.wallSeconds()));
            } finally {
                env.dropDatabase(name);
            }
            if (Files.exists(archiveFile) && Files.exists(jar)
                    && Files.getLastModifiedTime(archiveFile).compareTo(Files.getLastModifiedTime(jar)) > 0) {
                archive = archiveFile;
                break;
            }
        }
        String what = String.format("%d run(s) of `ferry up --until-caught-up` on 1,000 rows (%s); class archive %s; the launcher's JVM: %s",
                runs.size(), String.join(", ", runs), archive != null ? "in place (`cli/target/" + archive.getFileName() + "`)" : "NOT in place",
                jvm.description());
        log("warm-up: %s", what);
        return what;
    }

    /** The JVM the launcher runs: how it was chosen and its version; {@code feature} 0 when unknown. */
    record LauncherJvm(String description, int feature) {
    }

    /** The JVM the launcher picks (FERRY_JAVA, JAVA_HOME, else java on the PATH) and its version, from the JDK's release file. */
    private static LauncherJvm launcherJvm() {
        String ferryJava = System.getenv("FERRY_JAVA");
        String javaHome = System.getenv("JAVA_HOME");
        String how = ferryJava != null && !ferryJava.isBlank() ? "FERRY_JAVA=" + ferryJava
                : javaHome != null && !javaHome.isBlank() ? "JAVA_HOME=" + javaHome : "java on the PATH";
        try {
            Path bin = ferryJava != null && !ferryJava.isBlank() ? Path.of(ferryJava)
                    : javaHome != null && !javaHome.isBlank() ? Path.of(javaHome, "bin", "java") : findOnPath("java");
            Path release = bin.toRealPath().getParent().getParent().resolve("release");
            String runtime = "version unknown";
            int feature = 0;
            for (String line : Files.readAllLines(release)) {
                String value = line.substring(line.indexOf('=') + 1).replace("\"", "");
                if (line.startsWith("JAVA_RUNTIME_VERSION=")) {
                    runtime = value;
                } else if (line.startsWith("JAVA_VERSION=")) {
                    feature = Integer.parseInt(value.split("[.+-]")[0]);
                }
            }
            return new LauncherJvm(how + " (" + runtime + ")", feature);
        } catch (Exception e) {
            return new LauncherJvm(how + " (version unknown: " + e.getMessage() + ")", 0);
        }
    }

    private static Path findOnPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new IllegalStateException(name + " is not on the PATH");
    }

    private List<String> ferryCommand(Path sqlite, String db, Path dataDir) {
        return List.of(args.launcher().toString(), "up", "--sqlite", sqlite.toString(), "--postgres", env.jdbcUrl(db), "--data-dir",
                dataDir.toString(), "--metrics-port", "0", "--until-caught-up");
    }

    private static final Pattern BROKER_STARTED = Pattern.compile("Kafka broker started at \\S+ in (\\d+) ms");
    private static final Pattern CAUGHT_UP = Pattern.compile("caught up (\\d+) ms after the start");

    private Run ferryRun(int n, Path copy, String db, Path runDir, SqliteSchema source) throws Exception {
        if (args.ferryInJvm()) {
            return ferryInJvmRun(n, copy, db, runDir, source);
        }
        log("  ferry run %d -> %s", n, db);
        Path log = runDir.resolve("ferry.log");
        CpuMeter cpu = CpuMeter.start();
        TimedCommand r = TimedCommand.run(ferryCommand(copy, db, runDir.resolve("ferry-data")), log, args.timeout());
        CpuMeter.Reading reading = cpu.read();
        double tool = Double.isNaN(r.cpuSeconds()) ? 0 : r.cpuSeconds();
        double other = Math.max(0, reading.machineSeconds() - reading.jvmSeconds() - reading.postgresSeconds() - tool);
        boolean failed = r.exitCode() != 0 || r.timedOut();
        String check = failed ? "ferry failed" : check(db, source);
        boolean ok = !failed && check.startsWith("ok");
        String text = Files.readString(log);
        Matcher broker = BROKER_STARTED.matcher(text);
        Matcher caught = CAUGHT_UP.matcher(text);
        String detail = failed ? (r.timedOut() ? "timed out" : "exit code " + r.exitCode()) + ", log " + log
                : String.format("broker ready in %s s; caught up %s s after the pipeline's start (ferry's log)",
                        broker.find() ? String.format("%.2f", Long.parseLong(broker.group(1)) / 1000.0) : "?",
                        caught.find() ? String.format("%.2f", Long.parseLong(caught.group(1)) / 1000.0) : "?");
        if (failed && args.keep()) {
            log("  ferry's log: %s", log);
        }
        return new Run("ferry", n, r.wallSeconds(), source.rows(), tool, reading.postgresSeconds(), other, check, ok, detail);
    }

    private Run ferryInJvmRun(int n, Path copy, String db, Path runDir, SqliteSchema source) throws Exception {
        log("  ferry run %d -> %s (in this JVM)", n, db);
        FerryRun r = FerryRun.run(copy, env.jdbcUrl(db), runDir.resolve("ferry-data"), args.timeout(), 100, false);
        String check = r.failed() ? "ferry failed" : check(db, source);
        boolean ok = !r.failed() && check.startsWith("ok");
        CpuMeter.Reading reading = r.cpu();
        String detail = r.failed() ? r.failure() : String.format("broker and services started at %.1f s, snapshot all in Kafka at %.1f s,"
                + " writer's first commit at %.1f s, caught up at %.1f s%s; JIT %.1f s CPU", r.startedAt(), r.inKafkaAt(), r.firstCommitAt(),
                r.seconds(), r.deadLetters() > 0 ? ", " + r.deadLetters() + " dead letter(s)" : "",
                reading == null ? 0 : reading.byThreadGroup().getOrDefault("[JVM] JIT compiler", 0.0));
        return new Run("ferry", n, r.seconds(), source.rows(), reading == null ? 0 : reading.jvmSeconds(), reading == null ? 0 : reading.postgresSeconds(),
                reading == null ? 0 : reading.otherSeconds(), check, ok, detail);
    }

    /** Every SQLite table has its rows on the PostgreSQL side. */
    private String check(String db, SqliteSchema source) throws SQLException {
        PgSchema pg;
        try (Connection c = DriverManager.getConnection(env.jdbcUrl(db))) {
            pg = Catalogs.readPg(c, "public");
        }
        List<String> wrong = new ArrayList<>();
        long total = 0;
        for (SqliteTable t : source.tables()) {
            NameMatch m = Catalogs.match(t.name(), pg.tables().keySet());
            long rows = m == null ? -1 : pg.tables().get(m.name()).rows();
            total += Math.max(0, rows);
            if (rows != t.rows()) {
                wrong.add(t.name() + " " + (m == null ? "missing" : rows + "/" + t.rows()));
            }
        }
        return wrong.isEmpty() ? String.format("ok: %,d rows", total) : "ROWS DIFFER: " + String.join(", ", wrong);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static void log(String format, Object... a) {
        System.err.println("[snapshot-vs-pgloader] " + String.format(format, a));
    }
}
