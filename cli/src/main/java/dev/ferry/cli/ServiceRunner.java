package dev.ferry.cli;

import dev.ferry.observability.FerryMetrics;
import dev.ferry.observability.HealthCheck;
import dev.ferry.observability.MetricsServer;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one of ferry's services alone in this JVM against an external Kafka cluster ({@code ferry ingest},
 * {@code ferry write}; a new service is one more {@link Service}) until Ctrl-C or until the service fails. Serves
 * {@code /metrics} and the health endpoints on the service's own port: {@code /health/live} checks that the service
 * runs and has not failed; {@code /health/ready} and {@code /health} also that Kafka and the service's databases
 * answer. Logs a progress line every report interval.
 */
final class ServiceRunner {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceRunner.class);

    /** A service as the runner drives it. */
    interface Service extends AutoCloseable {

        /** Starts the service in its own threads and returns. */
        void start() throws Exception;

        /** The error that stopped the service, null while it runs. */
        Throwable failure();

        /** One line for the log, e.g. rows applied so far. */
        String progress() throws Exception;

        /** Stops the service in order and releases its clients. */
        @Override
        void close();
    }

    /**
     * A service whose loop runs on a thread of its own: {@code stop} ends the loop, {@code release} frees the clients
     * once the loop returned (waiting at most a minute for it).
     */
    static Service onThread(String threadName, Runnable loop, Runnable stop, Runnable release,
                            java.util.function.Supplier<Throwable> failure, java.util.function.Supplier<String> progress) {
        Thread thread = new Thread(loop, threadName);
        return new Service() {
            @Override
            public void start() {
                thread.start();
            }

            @Override
            public Throwable failure() {
                return failure.get();
            }

            @Override
            public String progress() {
                return progress.get();
            }

            @Override
            public void close() {
                stop.run();
                try {
                    thread.join(60_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                release.run();
            }
        };
    }

    /** Makes the service, which records its meters in {@code registry}. */
    @FunctionalInterface
    interface Factory {
        Service create(MeterRegistry registry) throws Exception;
    }

    private final String name;
    private final String bootstrapServers;
    private final String metricsAddress;
    private final int metricsPort;
    private final int reportIntervalSeconds;
    private final Map<String, HealthCheck> readiness = new LinkedHashMap<>();
    private volatile int boundPort = -1;

    /**
     * @param name the service's name: its liveness check in {@code /health} and its log lines
     * @throws IllegalArgumentException naming the option when the port or the interval is out of range
     */
    ServiceRunner(String name, String bootstrapServers, String metricsAddress, int metricsPort, int reportIntervalSeconds) {
        if (metricsPort < 0 || metricsPort > 65535) {
            throw new IllegalArgumentException("--metrics-port must be between 0 and 65535, not " + metricsPort);
        }
        if (reportIntervalSeconds < 1) {
            throw new IllegalArgumentException("--report-interval must be at least 1, not " + reportIntervalSeconds);
        }
        this.name = name;
        this.bootstrapServers = bootstrapServers;
        this.metricsAddress = metricsAddress;
        this.metricsPort = metricsPort;
        this.reportIntervalSeconds = reportIntervalSeconds;
    }

    /** A readiness check besides Kafka's (which every service has), e.g. the service's database. */
    ServiceRunner ready(String check, HealthCheck healthCheck) {
        readiness.put(check, healthCheck);
        return this;
    }

    /** The port {@code /metrics} is served on once {@link #run} started serving, -1 before. */
    int metricsPort() {
        return boundPort;
    }

    /** Runs until Ctrl-C (the JVM's shutdown), holding the JVM until the service closed in order. */
    int runUntilShutdown(Factory factory) throws Exception {
        CountDownLatch stopRequested = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stopRequested.countDown();
            try {
                stopped.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "ferry-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return run(factory, stopRequested);
        } finally {
            stopped.countDown();
        }
    }

    /**
     * Runs until {@code stopRequested} opens; fails (with the service's error) as soon as the service fails.
     * Kafka or a database being away is not a failure: the services ride it out, and {@code /health/ready} says so.
     */
    int run(Factory factory, CountDownLatch stopRequested) throws Exception {
        AtomicReference<Service> running = new AtomicReference<>();
        Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
        try (FerryMetrics metrics = new FerryMetrics()) {
            Map<String, HealthCheck> liveness = Map.of(name, () -> {
                Service s = running.get();
                if (s == null) {
                    throw new IllegalStateException("not running");
                }
                if (s.failure() != null) {
                    throw new IllegalStateException("failed: " + ErrorMessages.describe(s.failure()));
                }
            });
            Map<String, HealthCheck> ready = new LinkedHashMap<>();
            ready.put("kafka", ReadinessChecks.kafka(admin));
            ready.putAll(readiness);
            try (MetricsServer server = MetricsServer.start(metricsAddress, metricsPort, metrics.registry(), liveness, ready)) {
                boundPort = server.port();
                LOG.info("metrics on http://{}:{}/metrics, health on /health (/health/live, /health/ready)", metricsAddress, boundPort);
                try (Service service = factory.create(metrics.registry())) {
                    service.start();
                    running.set(service);
                    LOG.info("ferry {} running against Kafka {}; Ctrl-C to stop", name, bootstrapServers);
                    while (!stopRequested.await(reportIntervalSeconds, TimeUnit.SECONDS)) {
                        if (service.failure() != null) {
                            throw new IllegalStateException(name + " failed: " + ErrorMessages.describe(service.failure()), service.failure());
                        }
                        try {
                            LOG.info("{}: {}", name, service.progress());
                        } catch (Exception e) {
                            LOG.warn("cannot read progress: {}", ErrorMessages.describe(e));
                        }
                    }
                    LOG.info("stopping {}", name);
                } finally {
                    running.set(null);
                }
            }
        } finally {
            admin.close(Duration.ofSeconds(5));
        }
        return 0;
    }
}
