package dev.ferry.observability;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP endpoint of a ferry process: {@code GET /metrics} in the Prometheus text format, and {@code GET /health},
 * 200 when every check passes and 503 naming the failing checks otherwise, both with a small JSON body:
 * <pre>{"status":"down","failing":["writer"],"checks":{"writer":{"status":"down","reason":"not running"},"postgres":{"status":"up"}}}</pre>
 * Checks are liveness checks (the process works: its service runs and has not failed) or readiness checks (it can do
 * its work: Kafka and the databases answer). {@code /health/live} runs the liveness checks only, so an orchestrator
 * restarts the process only for what a restart can fix; {@code /health/ready} and {@code /health} run both.
 * Checks run on each request, in the order given; a slow check (a database connect timing out) delays only its answer.
 */
public final class MetricsServer implements AutoCloseable {

    private static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";
    private static final String JSON = "application/json; charset=utf-8";

    private final HttpServer server;
    private final ExecutorService executor;
    private final PrometheusMeterRegistry registry;
    private final Map<String, HealthCheck> liveness;
    private final Map<String, HealthCheck> all;

    private MetricsServer(HttpServer server, PrometheusMeterRegistry registry, Map<String, HealthCheck> liveness,
                          Map<String, HealthCheck> readiness) {
        this.server = server;
        this.registry = registry;
        this.liveness = new LinkedHashMap<>(liveness);
        this.all = new LinkedHashMap<>(liveness);
        readiness.forEach((name, check) -> {
            if (all.putIfAbsent(name, check) != null) {
                throw new IllegalArgumentException("health check '" + name + "' is both a liveness and a readiness check");
            }
        });
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "ferry-metrics-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Binds {@code address:port} (port 0: any free port, see {@link #port()}) and starts serving, every check being a
     * liveness check.
     *
     * @param checks name → check, reported in this order by {@code /health}
     * @throws IOException naming the address when it cannot be bound (e.g. the port is in use)
     */
    public static MetricsServer start(String address, int port, PrometheusMeterRegistry registry, Map<String, HealthCheck> checks)
            throws IOException {
        return start(address, port, registry, checks, Map.of());
    }

    /**
     * Binds {@code address:port} (port 0: any free port, see {@link #port()}) and starts serving.
     *
     * @param liveness name → check, run by {@code /health/live}, {@code /health/ready} and {@code /health}, first
     * @param readiness name → check, run by {@code /health/ready} and {@code /health} after the liveness checks
     * @throws IOException naming the address when it cannot be bound (e.g. the port is in use)
     */
    public static MetricsServer start(String address, int port, PrometheusMeterRegistry registry, Map<String, HealthCheck> liveness,
                                      Map<String, HealthCheck> readiness) throws IOException {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("metrics port must be between 0 and 65535, not " + port);
        }
        HttpServer http;
        try {
            http = HttpServer.create(new InetSocketAddress(InetAddress.getByName(address), port), 0);
        } catch (BindException e) {
            throw new IOException("cannot serve metrics on " + address + ":" + port + ": " + e.getMessage(), e);
        }
        MetricsServer server = new MetricsServer(http, registry, liveness, readiness);
        http.setExecutor(server.executor);
        http.createContext("/", server::handle);
        http.start();
        return server;
    }

    /** The port actually bound: the one asked for, or the one the system chose for port 0. */
    public int port() {
        return server.getAddress().getPort();
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try {
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                respond(exchange, 405, "text/plain; charset=utf-8", "only GET and HEAD\n");
                return;
            }
            switch (exchange.getRequestURI().getPath()) {
                case "/metrics" -> respond(exchange, 200, TEXT_FORMAT, registry.scrape());
                case "/health", "/health/ready" -> health(exchange, all);
                case "/health/live" -> health(exchange, liveness);
                default -> respond(exchange, 404, "text/plain; charset=utf-8",
                        "not found: /metrics, /health, /health/live and /health/ready are served\n");
            }
        } finally {
            exchange.close();
        }
    }

    private static void health(HttpExchange exchange, Map<String, HealthCheck> checks) throws IOException {
        List<String> failing = new ArrayList<>();
        StringBuilder results = new StringBuilder();
        for (Map.Entry<String, HealthCheck> check : checks.entrySet()) {
            results.append(results.length() == 0 ? "" : ",").append(quote(check.getKey())).append(':');
            try {
                check.getValue().verify();
                results.append("{\"status\":\"up\"}");
            } catch (Exception e) {
                failing.add(check.getKey());
                String reason = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
                results.append("{\"status\":\"down\",\"reason\":").append(quote(reason)).append('}');
            }
        }
        StringBuilder body = new StringBuilder("{\"status\":").append(failing.isEmpty() ? "\"up\"" : "\"down\"");
        if (!failing.isEmpty()) {
            body.append(",\"failing\":[");
            for (int i = 0; i < failing.size(); i++) {
                body.append(i == 0 ? "" : ",").append(quote(failing.get(i)));
            }
            body.append(']');
        }
        body.append(",\"checks\":{").append(results).append("}}\n");
        respond(exchange, failing.isEmpty() ? 200 : 503, JSON, body.toString());
    }

    private static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** A JSON string literal. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    /** Stops serving at once and frees the port. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
