package dev.ferry.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Map;

/**
 * A poor man's profiler for {@code --profile}: every {@code periodMs}, the stacks of this JVM's runnable threads,
 * counted by (thread group, top frame, innermost ferry frame). Safepoint-biased like any in-process sampler; good
 * enough to tell which stage a thread spends its time in. ferry's threads (ferry-*, the engine's pool-*) and the bench app are
 * counted in every state (waiting shows as the state before the frame); other threads only when RUNNABLE and not idle in
 * EPoll.wait. A thread blocked in a socket read (e.g. JDBC waiting for PostgreSQL) or in SQLite's busy handler shows as
 * RUNNABLE in a native frame.
 */
final class StackSampler implements AutoCloseable {

    /** Frames where a RUNNABLE thread is in fact idle (waiting in the kernel for network events). */
    private static final java.util.Set<String> IDLE = java.util.Set.of("EPoll.wait", "Reference.waitForReferencePendingList",
            "ServerSocketChannelImpl.accept0", "Net.accept");

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final Map<String, Integer> counts = new HashMap<>();
    private final Map<String, Integer> perGroup = new HashMap<>();
    private final Thread thread;
    private volatile boolean running = true;
    private int samples;

    StackSampler(long periodMs) {
        thread = new Thread(() -> {
            while (running) {
                sample();
                try {
                    Thread.sleep(periodMs);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "bench-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    private synchronized void sample() {
        samples++;
        for (ThreadInfo info : threads.dumpAllThreads(false, false, 60)) {
            String name = info.getThreadName();
            StackTraceElement[] stack = info.getStackTrace();
            if (stack.length == 0 || name.startsWith("bench-sampler")) {
                continue;
            }
            // ferry's own threads (the engine's pool threads run the connector) in every state; others only when on CPU.
            boolean ours = name.startsWith("pool-") || name.startsWith("ferry-") || name.startsWith("bench-app");
            String top = frame(stack[0]);
            if (info.getThreadState() != Thread.State.RUNNABLE) {
                // Skip the parking machinery to the frame that decided to wait.
                for (StackTraceElement e : stack) {
                    String c = e.getClassName();
                    if (!c.startsWith("jdk.internal.") && !c.startsWith("java.util.concurrent.") && !c.equals("java.lang.Object")
                            && !c.equals("java.lang.Thread")) {
                        top = frame(e);
                        break;
                    }
                }
            }
            if (!ours && (info.getThreadState() != Thread.State.RUNNABLE || IDLE.contains(top))) {
                continue;
            }
            String ferry = "";
            for (StackTraceElement e : stack) {
                if (e.getClassName().startsWith("dev.ferry.")) {
                    ferry = frame(e);
                    break;
                }
            }
            String group = ours ? name : CpuMeter.group(name);
            String state = info.getThreadState() == Thread.State.RUNNABLE ? "" : info.getThreadState().toString().toLowerCase() + " ";
            counts.merge(group + " | " + state + top + (ferry.isEmpty() || ferry.equals(top) ? "" : " <- " + ferry), 1, Integer::sum);
            perGroup.merge(group, 1, Integer::sum);
        }
    }

    private static String frame(StackTraceElement e) {
        String cls = e.getClassName();
        return cls.substring(cls.lastIndexOf('.') + 1) + "." + e.getMethodName();
    }

    synchronized String report(int top) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("    %d samples; share of samples in which the thread (group) was at that frame:%n", samples));
        counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(top)
                .forEach(e -> sb.append(String.format("      %5.1f%%  %s%n", 100.0 * e.getValue() / samples, e.getKey())));
        return sb.toString();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join();
    }
}
