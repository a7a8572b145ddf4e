package dev.ferry.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class MetricsServerTest {

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(MetricsServer server, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void metricsAreServedInThePrometheusTextFormatWithTheJvmBindersAndTheServicesMeters() throws Exception {
        try (FerryMetrics metrics = new FerryMetrics();
             MetricsServer server = MetricsServer.start("127.0.0.1", 0, metrics.registry(), Map.of())) {
            Counter rows = Counter.builder("ferry.test.rows").tag("table", "users").register(metrics.registry());
            rows.increment(3);
            HttpResponse<String> response = get(server, "/metrics");
            assertEquals(200, response.statusCode());
            assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
            String body = response.body();
            assertTrue(body.contains("ferry_test_rows_total{table=\"users\"} 3.0"), body);
            for (String jvm : new String[] {"jvm_memory_used_bytes", "jvm_gc_", "jvm_threads_live_threads", "jvm_classes_loaded_classes",
                "system_cpu_count", "process_uptime_seconds"}) {
                assertTrue(body.contains(jvm), "JVM metric " + jvm + " is served");
            }
        }
    }

    @Test
    void healthIs200WhenEveryCheckPassesAnd503NamingTheFailingCheckOtherwise() throws Exception {
        AtomicReference<String> writerProblem = new AtomicReference<>();
        Map<String, HealthCheck> checks = new LinkedHashMap<>();
        checks.put("ingest", () -> { });
        checks.put("writer", () -> {
            if (writerProblem.get() != null) {
                throw new IllegalStateException(writerProblem.get());
            }
        });
        try (FerryMetrics metrics = new FerryMetrics();
             MetricsServer server = MetricsServer.start("127.0.0.1", 0, metrics.registry(), checks)) {
            HttpResponse<String> up = get(server, "/health");
            assertEquals(200, up.statusCode());
            assertEquals("{\"status\":\"up\",\"checks\":{\"ingest\":{\"status\":\"up\"},\"writer\":{\"status\":\"up\"}}}\n", up.body());

            writerProblem.set("writer failed: \"orders\" refused");
            HttpResponse<String> down = get(server, "/health");
            assertEquals(503, down.statusCode());
            assertEquals("{\"status\":\"down\",\"failing\":[\"writer\"],\"checks\":{\"ingest\":{\"status\":\"up\"},"
                    + "\"writer\":{\"status\":\"down\",\"reason\":\"writer failed: \\\"orders\\\" refused\"}}}\n", down.body());

            assertEquals(404, get(server, "/metricsx").statusCode());
            assertEquals(405, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        }
    }

    @Test
    void liveAnswersForTheServiceAloneWhileReadyAndHealthAlsoNeedKafkaAndTheDatabase() throws Exception {
        AtomicReference<String> kafkaProblem = new AtomicReference<>();
        AtomicReference<String> serviceProblem = new AtomicReference<>();
        Map<String, HealthCheck> liveness = Map.of("writer", () -> {
            if (serviceProblem.get() != null) {
                throw new IllegalStateException(serviceProblem.get());
            }
        });
        Map<String, HealthCheck> readiness = new LinkedHashMap<>();
        readiness.put("kafka", () -> {
            if (kafkaProblem.get() != null) {
                throw new IllegalStateException(kafkaProblem.get());
            }
        });
        readiness.put("postgres", () -> { });
        try (FerryMetrics metrics = new FerryMetrics();
             MetricsServer server = MetricsServer.start("127.0.0.1", 0, metrics.registry(), liveness, readiness)) {
            String allUp = "{\"status\":\"up\",\"checks\":{\"writer\":{\"status\":\"up\"},\"kafka\":{\"status\":\"up\"},"
                    + "\"postgres\":{\"status\":\"up\"}}}\n";
            assertEquals(allUp, get(server, "/health/ready").body());
            assertEquals(allUp, get(server, "/health").body());
            assertEquals("{\"status\":\"up\",\"checks\":{\"writer\":{\"status\":\"up\"}}}\n", get(server, "/health/live").body());

            kafkaProblem.set("no broker answered within 5 s");
            assertEquals(200, get(server, "/health/live").statusCode(), "a broker outage is no reason to restart the process");
            HttpResponse<String> notReady = get(server, "/health/ready");
            assertEquals(503, notReady.statusCode());
            assertTrue(notReady.body().contains("\"failing\":[\"kafka\"]"), notReady.body());
            assertEquals(503, get(server, "/health").statusCode());

            serviceProblem.set("failed: boom");
            HttpResponse<String> dead = get(server, "/health/live");
            assertEquals(503, dead.statusCode());
            assertTrue(dead.body().contains("\"failing\":[\"writer\"]"), dead.body());
            assertTrue(get(server, "/health/ready").body().contains("\"failing\":[\"writer\",\"kafka\"]"));
        }
    }

    @Test
    void aPortInUseIsRefusedWithTheAddressAndCloseFreesThePort() throws Exception {
        try (FerryMetrics metrics = new FerryMetrics()) {
            MetricsServer first = MetricsServer.start("127.0.0.1", 0, metrics.registry(), Map.of());
            int port = first.port();
            assertTrue(port > 0, "port 0 picks a free port");
            IOException taken = assertThrows(IOException.class, () -> MetricsServer.start("127.0.0.1", port, metrics.registry(), Map.of()));
            assertTrue(taken.getMessage().contains("127.0.0.1:" + port), taken.getMessage());
            first.close();
            assertThrows(ConnectException.class, () -> get(first, "/health"));
            try (MetricsServer again = MetricsServer.start("127.0.0.1", port, metrics.registry(), Map.of())) {
                assertEquals(200, get(again, "/health").statusCode());
            }
        }
    }
}
