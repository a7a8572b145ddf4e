package dev.ferry.bench;

import java.util.Arrays;

/** Percentiles of a set of latencies in milliseconds. */
record Latencies(int count, double p50, double p90, double p99, double p999, double max, double mean) {

    static Latencies of(double[] values, int n) {
        if (n == 0) {
            return new Latencies(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        double[] v = Arrays.copyOf(values, n);
        Arrays.sort(v);
        double sum = 0;
        for (double x : v) {
            sum += x;
        }
        return new Latencies(n, at(v, 0.50), at(v, 0.90), at(v, 0.99), at(v, 0.999), v[n - 1], sum / n);
    }

    /** Nearest-rank percentile. */
    private static double at(double[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    String format() {
        return String.format("p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms, mean %.1f ms (n=%d)",
                p50, p90, p99, p999, max, mean, count);
    }
}
