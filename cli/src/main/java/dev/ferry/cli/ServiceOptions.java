package dev.ferry.cli;

import picocli.CommandLine.Option;

/**
 * Options of the commands that run one service alone against an external Kafka cluster ({@code ingest}, {@code write}):
 * the cluster, and where {@code /metrics} and {@code /health} are served. Each service has its own default port
 * (docs/metrics.md), so that they can run side by side on one host.
 */
final class ServiceOptions {

    @Option(names = "--bootstrap-servers", required = true, paramLabel = "HOST:PORT",
            description = "The Kafka cluster (comma-separated HOST:PORT list).")
    String bootstrapServers;

    @Option(names = "--metrics-address", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "Address to serve /metrics and /health on (default: ${DEFAULT-VALUE}; 0.0.0.0 for every interface, as in a container).")
    String metricsAddress;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = {"Port to serve /metrics, /health, /health/live and /health/ready on (default: ${DEFAULT-VALUE}; 0 picks a free port,"
                    + " logged at start). See docs/metrics.md."})
    int metricsPort;

    @Option(names = "--report-interval", paramLabel = "SECONDS", defaultValue = "10",
            description = "How often to log progress and check the service (default: ${DEFAULT-VALUE}).")
    int reportInterval;

    /** @param defaultMetricsPort the service's own default port */
    ServiceOptions(int defaultMetricsPort) {
        this.metricsPort = defaultMetricsPort;
    }

    /** A runner for the service {@code name}; checks the port and the interval. */
    ServiceRunner runner(String name) {
        return new ServiceRunner(name, bootstrapServers, metricsAddress, metricsPort, reportInterval);
    }
}
