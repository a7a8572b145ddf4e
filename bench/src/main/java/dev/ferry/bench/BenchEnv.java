package dev.ferry.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What the pgloader comparison and the snapshot benchmark share: the local PostgreSQL server (scratch databases),
 * a description of the machine and of the code measured, and file helpers.
 */
final class BenchEnv {

    final String pgServer;
    final String pgUser;

    BenchEnv(String pgServer, String pgUser) {
        if (!pgServer.startsWith("jdbc:postgresql://127.0.0.1") && !pgServer.startsWith("jdbc:postgresql://localhost")) {
            throw new IllegalArgumentException("the benchmark creates and drops databases: only a local server is allowed, got " + pgServer);
        }
        this.pgServer = pgServer.endsWith("/") ? pgServer : pgServer + "/";
        this.pgUser = pgUser;
    }

    /** JDBC URL of a database on the server. */
    String jdbcUrl(String db) {
        return pgServer + db + "?user=" + pgUser;
    }

    /** The same database as pgloader takes it: {@code postgresql://user@host:port/db}. */
    String pgloaderUrl(String db) {
        String hostPort = pgServer.substring("jdbc:postgresql://".length());
        hostPort = hostPort.substring(0, hostPort.indexOf('/'));
        return "postgresql://" + pgUser + "@" + hostPort + "/" + db;
    }

    /** A new database name {@code prefix_<12 hex>} (lower case, so it needs no quotes). */
    static String newDatabaseName(String prefix) {
        return prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toLowerCase(Locale.ROOT);
    }

    void createDatabase(String db) throws SQLException {
        admin("CREATE DATABASE " + db);
    }

    void dropDatabase(String db) throws SQLException {
        admin("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
    }

    void admin(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(jdbcUrl("postgres")); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    String postgresVersion() {
        try (Connection c = DriverManager.getConnection(jdbcUrl("postgres")); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT version(), current_setting('shared_buffers'), current_setting('synchronous_commit')")) {
            rs.next();
            return rs.getString(1).split(",")[0] + " (shared_buffers " + rs.getString(2) + ", synchronous_commit " + rs.getString(3) + ")";
        } catch (SQLException e) {
            return "PostgreSQL ? (" + e.getMessage() + ")";
        }
    }

    static String sqliteVersion() {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite::memory:"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT sqlite_version()")) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            return "?";
        }
    }

    String machine() {
        Runtime rt = Runtime.getRuntime();
        return String.format("%d cores (availableProcessors), %s, %.0f GB RAM; JVM %s, max heap %d MB; %s; SQLite %s (sqlite-jdbc)",
                rt.availableProcessors(), cpuModel(), memTotalGb(), System.getProperty("java.vm.version"), rt.maxMemory() >> 20,
                postgresVersion(), sqliteVersion());
    }

    /** HEAD of the repository the program runs in ({@code git log -1 --format=%h}), and how many files are changed. */
    static String gitState() {
        String head = run(List.of("git", "log", "-1", "--format=%h %cd", "--date=format:%Y-%m-%d %H:%M")).trim();
        String changed = run(List.of("git", "status", "--porcelain", "--untracked-files=no"));
        long n = changed.isBlank() ? 0 : changed.lines().count();
        return "HEAD " + (head.isEmpty() ? "?" : head) + (n > 0 ? " + " + n + " changed file(s) in the work tree (uncommitted)" : "");
    }

    /** The ferry jars on the class path, with the first bytes of their SHA-256 and their modification time (UTC). */
    static String codeVersions() {
        List<String> out = new ArrayList<>();
        DateTimeFormatter f = DateTimeFormatter.ofPattern("HH:mm").withZone(ZoneOffset.UTC);
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path p = Path.of(entry);
            String name = p.getFileName() == null ? entry : p.getFileName().toString();
            if (Files.isDirectory(p)) {
                out.add("dir " + entry);
            } else if (name.startsWith("ferry")) {
                try {
                    byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p));
                    out.add(name.replace("-0.1.0-SNAPSHOT.jar", "") + "@" + java.util.HexFormat.of().formatHex(digest, 0, 4)
                            + " (" + f.format(Files.getLastModifiedTime(p).toInstant()) + ")");
                } catch (IOException | java.security.NoSuchAlgorithmException e) {
                    out.add(name + "@?");
                }
            }
        }
        return String.join(", ", out);
    }

    static String pgloaderVersion(String pgloader) {
        String v = run(List.of(pgloader, "--version"));
        return v.isBlank() ? "? (" + pgloader + " --version failed)" : v.lines().findFirst().orElse("?").trim()
                + v.lines().skip(1).map(l -> ", " + l.trim()).findFirst().orElse("");
    }

    /** Runs a short command, returns its output ("" on failure). */
    static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "";
            }
            return p.exitValue() == 0 ? new String(out, java.nio.charset.StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    static String cpuModel() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name")).findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    static double memTotalGb() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/meminfo"))) {
            return lines.filter(l -> l.startsWith("MemTotal:")).findFirst()
                    .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0 / 1024.0).orElse(0.0);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Copies a (possibly read-only) file and makes the copy writable: ferry installs triggers and switches it to WAL. */
    static Path copyWritable(Path from, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        try {
            var perms = EnumSet.copyOf(Files.getPosixFilePermissions(to));
            perms.add(PosixFilePermission.OWNER_READ);
            perms.add(PosixFilePermission.OWNER_WRITE);
            Files.setPosixFilePermissions(to, perms);
        } catch (UnsupportedOperationException ignored) {
            to.toFile().setWritable(true);
        }
        return to;
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The repository root: the nearest directory at or above the working directory that holds a pom.xml with modules. */
    static Path repoRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("bench")) && Files.exists(d.resolve("pom.xml"))) {
                return d;
            }
        }
        return dir;
    }

    static String now() {
        return DateTimeFormatter.ISO_INSTANT.format(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    }

    static double seconds(long fromNanos) {
        return (System.nanoTime() - fromNanos) / 1e9;
    }
}
