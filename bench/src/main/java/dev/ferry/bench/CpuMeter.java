package dev.ferry.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * CPU time spent during a phase: this JVM's threads grouped by name (digits folded), the JVM process as a whole,
 * and every PostgreSQL process of this machine (utime + stime, plus the children the postmaster reaped, so that
 * backends that ended meanwhile still count). Threads that end during the phase lose their share: take the
 * reading before stopping the pipeline.
 */
final class CpuMeter {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final long CLOCK_TICKS_PER_SECOND = 100;

    private final Map<Long, Long> threadStart = new HashMap<>();
    private final Map<String, Long> internalStart;
    private final long processStart;
    private final long postgresStart;
    private final long machineStart;
    private final long wallStart;

    private CpuMeter() {
        for (long id : THREADS.getAllThreadIds()) {
            threadStart.put(id, Math.max(0, THREADS.getThreadCpuTime(id)));
        }
        internalStart = jvmInternalThreads();
        processStart = processCpuNanos();
        postgresStart = postgresCpuNanos();
        machineStart = machineBusyNanos();
        wallStart = System.nanoTime();
    }

    static CpuMeter start() {
        if (THREADS.isThreadCpuTimeSupported() && !THREADS.isThreadCpuTimeEnabled()) {
            THREADS.setThreadCpuTimeEnabled(true);
        }
        return new CpuMeter();
    }

    /** Readings since {@link #start()}. */
    record Reading(double wallSeconds, double jvmSeconds, double postgresSeconds, double machineSeconds, Map<String, Double> byThreadGroup) {

        /** CPU used by everything else on the machine (other builds, tests): high values make the figures pessimistic. */
        double otherSeconds() {
            return Math.max(0, machineSeconds - jvmSeconds - postgresSeconds);
        }

        String format() {
            StringBuilder sb = new StringBuilder();
            int cores = Runtime.getRuntime().availableProcessors();
            sb.append(String.format("    wall %.1f s; CPU: this JVM %.1f s (%.0f%% of one core), PostgreSQL %.1f s (%.0f%%),"
                            + " other processes %.1f s (%.0f%%); %d cores = %d%%%n",
                    wallSeconds, jvmSeconds, 100 * jvmSeconds / wallSeconds,
                    postgresSeconds, 100 * postgresSeconds / wallSeconds, otherSeconds(), 100 * otherSeconds() / wallSeconds,
                    cores, 100 * cores));
            byThreadGroup.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                    .filter(e -> e.getValue() >= 0.05 * Math.max(0.2, jvmSeconds / 20))
                    .limit(14)
                    .forEach(e -> sb.append(String.format("      %-44s %7.1f s%n", e.getKey(), e.getValue())));
            return sb.toString();
        }
    }

    Reading read() {
        Map<String, Double> groups = new TreeMap<>();
        long[] ids = THREADS.getAllThreadIds();
        ThreadInfo[] infos = THREADS.getThreadInfo(ids);
        for (int i = 0; i < ids.length; i++) {
            if (infos[i] == null) {
                continue;
            }
            long cpu = THREADS.getThreadCpuTime(ids[i]);
            if (cpu < 0) {
                continue;
            }
            long delta = cpu - threadStart.getOrDefault(ids[i], 0L);
            groups.merge(group(infos[i].getThreadName()), delta / 1e9, Double::sum);
        }
        jvmInternalThreads().forEach((name, ns) -> groups.merge("[JVM] " + name, (ns - internalStart.getOrDefault(name, 0L)) / 1e9, Double::sum));
        return new Reading((System.nanoTime() - wallStart) / 1e9, (processCpuNanos() - processStart) / 1e9,
                (postgresCpuNanos() - postgresStart) / 1e9, (machineBusyNanos() - machineStart) / 1e9, groups);
    }

    static String group(String threadName) {
        return threadName.replaceAll("[0-9]+", "#");
    }

    /** CPU of the JVM's own native threads (JIT compilers, GC, VM thread), which ThreadMXBean does not list, from /proc/self/task. */
    static Map<String, Long> jvmInternalThreads() {
        Map<String, Long> out = new HashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    String kind = comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler") ? "JIT compiler"
                            : comm.startsWith("GC Thread") || comm.startsWith("G1 ") ? "garbage collector"
                            : comm.startsWith("VM ") ? "VM thread" : null;
                    if (kind == null) {
                        continue;
                    }
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    out.merge(kind, (Long.parseLong(f[11]) + Long.parseLong(f[12])) * (1_000_000_000L / CLOCK_TICKS_PER_SECOND), Long::sum);
                } catch (IOException | RuntimeException ignored) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return 0;
    }

    /** Busy CPU time of the whole machine (all cores): the first line of /proc/stat without idle and iowait. */
    static long machineBusyNanos() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            // cpu user nice system idle iowait irq softirq steal
            for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
                busy += Long.parseLong(f[i]);
            }
            return busy * (1_000_000_000L / CLOCK_TICKS_PER_SECOND);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Sum over processes named postgres of utime+stime+cutime+cstime, from /proc; 0 where /proc is not readable. */
    static long postgresCpuNanos() {
        long ticks = 0;
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    int open = stat.indexOf('(');
                    int close = stat.lastIndexOf(')');
                    if (open < 0 || close < 0 || !stat.substring(open + 1, close).startsWith("postgres")) {
                        continue;
                    }
                    String[] f = stat.substring(close + 2).split(" ");
                    // Fields after the comm: state(0) ... utime(11) stime(12) cutime(13) cstime(14)
                    ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
                } catch (IOException | RuntimeException ignored) {
                    // the process ended meanwhile
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return ticks * (1_000_000_000L / CLOCK_TICKS_PER_SECOND);
    }
}
