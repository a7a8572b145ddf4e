package dev.ferry.embed;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The embed service's meters (docs/metrics.md): vectors computed, cache hits and misses, truncations, model batches. */
final class EmbedMetrics {

    private final MeterRegistry registry;
    private final String source;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, Timer> batchTimes = new ConcurrentHashMap<>();
    private final Map<String, DistributionSummary> batchSizes = new ConcurrentHashMap<>();

    EmbedMetrics(MeterRegistry registry, String source) {
        this.registry = registry;
        this.source = source;
    }

    /** Registers a table's counters at 0, so that rate() and increase() see the first ones too. */
    void table(String table, String model) {
        vectors(table, model, 0);
        cacheHits(table, 0);
        cacheMisses(table, 0);
        truncated(table, 0);
        carried(table, 0);
        for (String reason : new String[] {"vector", "text", "model"}) {
            deadLetters(table, reason, 0);
        }
    }

    void vectors(String table, String model, long n) {
        counter("ferry.embed.vectors", "Vectors computed by the model (cache hits and carried vectors not included)", table, "model", model)
                .increment(n);
    }

    void cacheHits(String table, long n) {
        counter("ferry.embed.cache.hits", "Rows whose text was embedded already: the vector came from the content-hash cache", table, null, null)
                .increment(n);
    }

    void cacheMisses(String table, long n) {
        counter("ferry.embed.cache.misses", "Rows whose text had to go to the model", table, null, null).increment(n);
    }

    void truncated(String table, long n) {
        counter("ferry.embed.truncated.texts", "Texts longer than the model's token window: the model saw only their beginning", table, null, null)
                .increment(n);
    }

    void carried(String table, long n) {
        counter("ferry.embed.carried.vectors", "Vectors taken from a source column (vectors_from) instead of computed", table, null, null)
                .increment(n);
    }

    void deadLetters(String table, String reason, long n) {
        counter("ferry.embed.dead.letters", "Rows sent on with a NULL vector and set aside on the dead-letter topic, by reason", table,
                "reason", reason).increment(n);
    }

    void batch(String model, int texts, long nanos) {
        batchTimes.computeIfAbsent(model, m -> Timer.builder("ferry.embed.batch")
                .description("Time of one call to the model (one batch of texts)")
                .serviceLevelObjectives(Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
                        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10))
                .tag("source", source).tag("model", m).register(registry)).record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        batchSizes.computeIfAbsent(model, m -> DistributionSummary.builder("ferry.embed.batch.size")
                .description("Texts in one call to the model").serviceLevelObjectives(1, 4, 8, 16, 32, 64, 128)
                .tag("source", source).tag("model", m).register(registry)).record(texts);
    }

    private Counter counter(String name, String help, String table, String tag, String value) {
        return counters.computeIfAbsent(name + '\0' + table + '\0' + value, k -> {
            Counter.Builder b = Counter.builder(name).description(help).tag("source", source).tag("table", table);
            if (tag != null) {
                b.tag(tag, value);
            }
            return b.register(registry);
        });
    }

    void close() {
        counters.values().forEach(registry::remove);
        batchTimes.values().forEach(registry::remove);
        batchSizes.values().forEach(registry::remove);
    }
}
