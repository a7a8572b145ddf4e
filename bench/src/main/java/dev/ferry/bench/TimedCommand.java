package dev.ferry.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A command run as a user runs it, timed from process start to exit. It runs under {@code /bin/sh}, whose {@code times}
 * afterwards gives the CPU time (user + system) of the command and everything it started; its output goes to a log.
 */
record TimedCommand(List<String> command, int exitCode, double wallSeconds, double cpuSeconds, boolean timedOut) {

    private static final Pattern TIMES = Pattern.compile("(\\d+)m([0-9.]+)s\\s+(\\d+)m([0-9.]+)s");

    static TimedCommand run(List<String> command, Path log, Duration timeout)
            throws IOException, InterruptedException {
        Path timesFile = Files.createTempFile(log.toAbsolutePath().getParent(), "times", ".txt");
        List<String> shell = new ArrayList<>(List.of("/bin/sh", "-c", "\"$@\"; rc=$?; times > \"$FERRY_BENCH_TIMES\"; exit $rc", "sh"));
        shell.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(shell).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("FERRY_BENCH_TIMES", timesFile.toString());
        long t0 = System.nanoTime();
        Process p = pb.start();
        boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        double wall = BenchEnv.seconds(t0);
        if (!done) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        double cpu = Double.NaN;
        List<String> times = Files.readAllLines(timesFile);
        if (times.size() >= 2) {
            // The second line: the children's user and system time.
            Matcher m = TIMES.matcher(times.get(1));
            if (m.find()) {
                cpu = Long.parseLong(m.group(1)) * 60 + Double.parseDouble(m.group(2)) + Long.parseLong(m.group(3)) * 60
                        + Double.parseDouble(m.group(4));
            }
        }
        Files.deleteIfExists(timesFile);
        return new TimedCommand(List.copyOf(command), done ? p.exitValue() : -1, wall, cpu, !done);
    }
}
