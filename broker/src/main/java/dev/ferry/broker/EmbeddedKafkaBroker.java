package dev.ferry.broker;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A single-node KRaft Kafka broker (combined broker + controller) running inside this JVM,
 * listening on loopback only.
 *
 * <p>The data dir is owned by this class: Kafka's log dir lives in {@code kafka-logs/} and the
 * ports last used live in {@code ferry-broker.properties}. Starting again on the same data dir
 * reuses the formatted log dir, so topics, data and committed offsets survive a restart.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

    // Literal rather than getLoopbackAddress(), which may be ::1 while the listeners are IPv4.
    private static final String LOOPBACK = "127.0.0.1";
    private static final int NODE_ID = 1;
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    private static final String LOG_DIR_NAME = "kafka-logs";
    private static final String PORTS_FILE_NAME = "ferry-broker.properties";
    private static final String BROKER_PORT_KEY = "broker.port";
    private static final String CONTROLLER_PORT_KEY = "controller.port";
    private static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    /**
     * Settings that define the node's identity and addresses. Letting overrides change them would
     * silently break {@link #bootstrapServers()}, the restart-on-same-dir contract or formatting.
     */
    private static final Set<String> MANAGED_KEYS = Set.of(
            "process.roles", "node.id", "log.dir", "log.dirs", "metadata.log.dir",
            "listeners", "advertised.listeners", "listener.security.protocol.map",
            "inter.broker.listener.name", "controller.listener.names",
            "controller.quorum.voters", "controller.quorum.bootstrap.servers");

    private final KafkaRaftServer server;
    private final Path dataDir;
    private final String bootstrapServers;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EmbeddedKafkaBroker(KafkaRaftServer server, Path dataDir, int port) {
        this.server = server;
        this.dataDir = dataDir;
        this.bootstrapServers = LOOPBACK + ":" + port;
    }

    /** Starts a broker on {@code dataDir}, reusing the ports of the previous run when they are free. */
    public static EmbeddedKafkaBroker start(Path dataDir) {
        return start(dataDir, 0, Map.of());
    }

    /**
     * Starts a broker on {@code dataDir} and returns once it answers admin requests.
     *
     * @param port      client port on 127.0.0.1; 0 reuses the previous run's port if free, else picks a free one
     * @param overrides Kafka broker settings that win over this class's defaults
     * @throws IllegalArgumentException if {@code overrides} touches a listener, node or log dir setting
     * @throws IllegalStateException    if the broker fails to start or is not ready within 60 s
     */
    public static EmbeddedKafkaBroker start(Path dataDir, int port, Map<String, String> overrides) {
        return Plan.of(dataDir, port, overrides).run();
    }

    /**
     * Starts a broker on {@code dataDir} on a thread of its own and returns at once, with the address it will answer
     * on: work that needs no Kafka (reading SQLite, installing capture) can overlap the second or so the broker takes.
     * Ports are chosen, and the overrides checked, before this returns.
     */
    public static Starting startInBackground(Path dataDir) {
        Plan plan = Plan.of(dataDir, 0, Map.of());
        CompletableFuture<EmbeddedKafkaBroker> started = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try {
                started.complete(plan.run());
            } catch (Throwable e) {
                started.completeExceptionally(e);
            }
        }, "ferry-broker-start");
        thread.setDaemon(true);
        thread.start();
        return new Starting(LOOPBACK + ":" + plan.brokerPort(), started);
    }

    /** A broker starting on its own thread ({@link #startInBackground}). */
    public static final class Starting {
        private final String bootstrapServers;
        private final CompletableFuture<EmbeddedKafkaBroker> started;

        private Starting(String bootstrapServers, CompletableFuture<EmbeddedKafkaBroker> started) {
            this.bootstrapServers = bootstrapServers;
            this.started = started;
        }

        /** The address the broker answers on once started. */
        public String bootstrapServers() {
            return bootstrapServers;
        }

        /** Completes once the broker answers admin requests, or with the error {@link #start} would have thrown. */
        public CompletableFuture<EmbeddedKafkaBroker> started() {
            return started;
        }

        /** Waits for the broker, throwing what {@link #start} would have thrown. */
        public EmbeddedKafkaBroker await() {
            try {
                return started.join();
            } catch (java.util.concurrent.CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause().getMessage(), e.getCause());
            }
        }
    }

    /** What a start needs, chosen before the broker itself starts: ports, directories, settings. */
    private record Plan(long startNanos, Path dataDir, Path portsFile, int brokerPort, int controllerPort, Map<String, String> overrides) {

        static Plan of(Path dataDir, int port, Map<String, String> overrides) {
            for (String key : overrides.keySet()) {
                if (MANAGED_KEYS.contains(key)) {
                    throw new IllegalArgumentException("Broker setting '" + key
                            + "' is managed by EmbeddedKafkaBroker and cannot be overridden");
                }
            }
            long startNanos = System.nanoTime();
            Path absoluteDataDir = dataDir.toAbsolutePath();
            Path portsFile = absoluteDataDir.resolve(PORTS_FILE_NAME);
            Properties previousPorts = readPorts(portsFile);
            int brokerPort = port != 0 ? port : reusableOrFreePort(previousPorts, BROKER_PORT_KEY, -1);
            int controllerPort = reusableOrFreePort(previousPorts, CONTROLLER_PORT_KEY, brokerPort);
            return new Plan(startNanos, absoluteDataDir, portsFile, brokerPort, controllerPort, Map.copyOf(overrides));
        }

        EmbeddedKafkaBroker run() {
            Path logDir = dataDir.resolve(LOG_DIR_NAME);
            boolean formatted = Files.exists(logDir.resolve("meta.properties"));
            if (!formatted) {
                format(logDir);
            }
            Properties props = config(logDir, brokerPort, controllerPort);
            props.putAll(overrides);
            KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
            EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(server, dataDir, brokerPort);
            try {
                server.startup();
                broker.awaitReady(startNanos);
            } catch (RuntimeException e) {
                broker.closeQuietly(e);
                throw new IllegalStateException("Kafka broker failed to start at " + broker.bootstrapServers
                        + " with data dir " + dataDir + ": " + e.getMessage(), e);
            }
            writePorts(portsFile, brokerPort, controllerPort);
            log.info("Kafka broker started at {} in {} ms with data dir {} ({} log dir)",
                    broker.bootstrapServers, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos),
                    dataDir, formatted ? "existing" : "new");
            return broker;
        }
    }

    /** The address clients should use, e.g. {@code 127.0.0.1:40123}. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Shuts the broker down in order and waits for it; later calls do nothing. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            server.shutdown();
            server.awaitShutdown();
            log.info("Kafka broker at {} stopped", bootstrapServers);
        }
    }

    private static Properties config(Path logDir, int brokerPort, int controllerPort) {
        // Plain config names rather than Kafka's *Configs constants: the names are public API,
        // the constant holder classes have moved between Kafka releases.
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(NODE_ID));
        String controllerAddress = LOOPBACK + ":" + controllerPort;
        String brokerAddress = LOOPBACK + ":" + brokerPort;
        p.put("controller.quorum.voters", NODE_ID + "@" + controllerAddress);
        p.put("controller.listener.names", CONTROLLER_LISTENER);
        p.put("listeners", "PLAINTEXT://" + brokerAddress + "," + CONTROLLER_LISTENER + "://" + controllerAddress);
        p.put("advertised.listeners", "PLAINTEXT://" + brokerAddress);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", logDir.toString());

        // One node: any replication factor or ISR above 1 would make internal topics uncreatable.
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        p.put("offsets.topic.replication.factor", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        // Kafka's 50 partitions per coordinator topic spread load over brokers we do not have, and
        // cost about a second on the first consumer group join and on every restart.
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.num.partitions", "1");

        // Rows with large blobs or embeddings must fit in one record batch.
        p.put("message.max.bytes", String.valueOf(MAX_MESSAGE_BYTES));
        p.put("replica.fetch.max.bytes", String.valueOf(MAX_MESSAGE_BYTES));
        p.put("replica.fetch.response.max.bytes", String.valueOf(MAX_MESSAGE_BYTES));

        // Ferry's topics are compacted; a typo'd topic name should fail loudly, not appear empty.
        p.put("log.cleaner.enable", "true");
        p.put("auto.create.topics.enable", "false");
        p.put("num.partitions", "1");
        // No other group members are coming; the default 3 s delay only slows every first join.
        p.put("group.initial.rebalance.delay.ms", "0");
        // A controlled shutdown moves partition leadership to other brokers first; there are none. The logs are still
        // closed cleanly (no recovery at the next start). Measured: the stop takes 100-250 ms less.
        p.put("controlled.shutdown.enable", "false");
        return p;
    }

    private static void format(Path logDir) {
        try {
            Files.createDirectories(logDir);
            new Formatter()
                    .setClusterId(Uuid.randomUuid().toString())
                    .setNodeId(NODE_ID)
                    .setDirectories(List.of(logDir.toString()))
                    .setMetadataLogDirectory(logDir.toString())
                    .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    // The formatter writes progress to stdout, which is the CLI's output channel.
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .run();
        } catch (Exception e) {
            throw new IllegalStateException("Could not format Kafka log dir " + logDir + ": " + e.getMessage(), e);
        }
    }

    private void awaitReady(long startNanos) {
        long remainingMs = READY_TIMEOUT.toMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        int timeoutMs = (int) Math.max(1_000, remainingMs);
        Map<String, Object> adminConfig = Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(timeoutMs, 5_000));
        try (Admin admin = Admin.create(adminConfig)) {
            // The admin client retries connection failures internally until the timeout.
            admin.describeCluster(new DescribeClusterOptions().timeoutMs(timeoutMs))
                    .nodes().get(timeoutMs + 1_000L, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for the broker to become ready", e);
        } catch (Exception e) {
            throw new IllegalStateException("broker did not answer describeCluster within "
                    + READY_TIMEOUT.toSeconds() + " s of starting", e);
        }
    }

    private void closeQuietly(Exception cause) {
        try {
            close();
        } catch (RuntimeException suppressed) {
            cause.addSuppressed(suppressed);
        }
    }

    private static Properties readPorts(Path portsFile) {
        Properties ports = new Properties();
        if (Files.exists(portsFile)) {
            try (InputStream in = Files.newInputStream(portsFile)) {
                ports.load(in);
            } catch (IOException | IllegalArgumentException e) {
                // Only a hint for keeping addresses stable; a fresh pair of ports is always acceptable.
                log.warn("Ignoring unreadable {}: {}", portsFile, e.toString());
                return new Properties();
            }
        }
        return ports;
    }

    private static void writePorts(Path portsFile, int brokerPort, int controllerPort) {
        Properties ports = new Properties();
        ports.setProperty(BROKER_PORT_KEY, String.valueOf(brokerPort));
        ports.setProperty(CONTROLLER_PORT_KEY, String.valueOf(controllerPort));
        Path tmp = portsFile.resolveSibling(PORTS_FILE_NAME + ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                ports.store(out, "Ports of the last ferry embedded Kafka broker run, reused on restart");
            }
            Files.move(tmp, portsFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // The broker is already serving; losing the hint only costs a new address on the next start.
            log.warn("Could not record broker ports in {}: {}", portsFile, e.toString());
        }
    }

    private static int reusableOrFreePort(Properties previousPorts, String key, int excluded) {
        try {
            int previous = Integer.parseInt(previousPorts.getProperty(key, "0"));
            if (previous > 0 && previous != excluded && isFree(previous)) {
                return previous;
            }
        } catch (NumberFormatException ignored) {
            // Falls through to a fresh port, like a missing entry.
        }
        int port;
        do {
            port = freePort();
        } while (port == excluded);
        return port;
    }

    private static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(LOOPBACK, port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(LOOPBACK, 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("No free loopback port", e);
        }
    }
}
