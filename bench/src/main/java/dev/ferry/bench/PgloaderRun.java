package dev.ferry.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One run of the pgloader command as a user types it: {@code pgloader [--root-dir DIR] FILE postgresql://user@host/db}.
 * {@link TimedCommand} times it and gives pgloader's own CPU time. pgloader 3.6 exits with 0 even when it gives up
 * ("FATAL Failed to create the schema"), so the outcome is read from its log.
 */
record PgloaderRun(List<String> command, int exitCode, double wallSeconds, double cpuSeconds, boolean timedOut, Path log,
                   List<String> fatals, List<String> errors, Map<String, long[]> tableSummary, long totalRows, long totalErrors) {

    private static final Pattern SUMMARY_LINE = Pattern.compile("^\\s*(.+?)\\s+(\\d+|✓)\\s+(\\d+)\\s+(?:[0-9.]+ [kMGT]?B\\s+)?[0-9.]+s\\s*$");

    /** pgloader gave up on the whole file (no tables or no data). */
    boolean failed() {
        return timedOut || exitCode != 0 || !fatals.isEmpty() || totalRows < 0;
    }

    /** A one-line reason when {@link #failed()}. */
    String failure() {
        if (timedOut) {
            return "timed out";
        }
        if (!fatals.isEmpty()) {
            String first = fatals.get(0);
            String error = errors.isEmpty() ? "" : errors.get(0) + " → ";
            return error + first;
        }
        if (exitCode != 0) {
            return "exit code " + exitCode + (errors.isEmpty() ? "" : ": " + errors.get(0));
        }
        if (totalRows < 0) {
            return "pgloader exited with 0 but printed no summary report: it loaded nothing"
                    + (errors.isEmpty() ? "" : " (" + errors.get(0) + ")");
        }
        return "";
    }

    /**
     * pgloader could not even parse the file name as a source (e.g. a space in the path). It says so with a FATAL line,
     * but that line is sometimes lost: pgloader exits before its log is flushed, and prints nothing else.
     */
    boolean sourceUriRefused() {
        return fatals.stream().anyMatch(f -> f.contains("as a source URI"))
                || failed() && totalRows < 0 && errors.isEmpty() && fatals.isEmpty() && !timedOut
                   && !command.get(command.size() - 2).matches("[A-Za-z0-9_./-]+");
    }

    String commandLine() {
        StringBuilder sb = new StringBuilder();
        for (String a : command) {
            if (!sb.isEmpty()) {
                sb.append(' ');
            }
            sb.append(a.matches("[A-Za-z0-9_./:@=+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
        }
        return sb.toString();
    }

    /** Runs pgloader; its output goes to {@code log}. */
    static PgloaderRun run(String pgloader, Path rootDir, Path sqlite, String targetUrl, Path log, Duration timeout)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(pgloader));
        if (rootDir != null) {
            Files.createDirectories(rootDir);
            command.add("--root-dir");
            command.add(rootDir.toString());
        }
        command.add(sqlite.toString());
        command.add(targetUrl);
        TimedCommand run = TimedCommand.run(command, log, timeout);
        return parse(command, run.exitCode(), run.wallSeconds(), run.cpuSeconds(), run.timedOut(), log);
    }

    static PgloaderRun parse(List<String> command, int exit, double wall, double cpu, boolean timedOut, Path log) throws IOException {
        List<String> fatals = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        Map<String, long[]> tables = new LinkedHashMap<>();
        long totalRows = -1;
        long totalErrors = -1;
        boolean inSummary = false;
        String lastError = null;
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            int fatal = line.indexOf(" FATAL ");
            int error = line.indexOf(" ERROR ");
            if (fatal >= 0) {
                fatals.add(line.substring(fatal + 7).trim());
            } else if (error >= 0) {
                lastError = line.substring(error + 7).trim();
                errors.add(lastError);
            } else if (lastError != null && !line.matches("^\\d{4}-\\d\\d-\\d\\dT.*") && !line.isBlank() && errors.size() < 200) {
                // continuation of a multi-line error (QUERY: ..., "The value NIL is not of type ...")
                errors.set(errors.size() - 1, errors.get(errors.size() - 1) + " " + line.trim());
                lastError = errors.get(errors.size() - 1);
            } else {
                lastError = null;
            }
            if (line.contains("report summary reset")) {
                inSummary = true;
                continue;
            }
            if (inSummary) {
                Matcher m = SUMMARY_LINE.matcher(line);
                if (m.matches()) {
                    String name = m.group(1).trim();
                    long errs = m.group(2).equals("✓") ? 0 : Long.parseLong(m.group(2));
                    long rows = Long.parseLong(m.group(3));
                    if (name.equalsIgnoreCase("Total import time")) {
                        totalRows = rows;
                        totalErrors = errs;
                    } else {
                        tables.put(name, new long[] {errs, rows});
                    }
                }
            }
        }
        return new PgloaderRun(List.copyOf(command), exit, wall, cpu, timedOut, log, fatals, errors, tables, totalRows, totalErrors);
    }

    /** pgloader's summary line of a table (its errors and rows), found by the lower-cased name. */
    long[] summaryOf(String table) {
        long[] exact = tableSummary.get(table);
        if (exact != null) {
            return exact;
        }
        for (Map.Entry<String, long[]> e : tableSummary.entrySet()) {
            if (e.getKey().equalsIgnoreCase(table) || e.getKey().toLowerCase(Locale.ROOT).endsWith("." + table.toLowerCase(Locale.ROOT))) {
                return e.getValue();
            }
        }
        return null;
    }
}
