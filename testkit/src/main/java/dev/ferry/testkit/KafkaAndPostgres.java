package dev.ferry.testkit;

import dev.ferry.broker.EmbeddedKafkaBroker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One real KRaft broker and one fresh PostgreSQL database (with pgvector) for a test class, stopped and dropped
 * after it: {@code @RegisterExtension static final KafkaAndPostgres infra = new KafkaAndPostgres();}
 */
public final class KafkaAndPostgres implements BeforeAllCallback, AfterAllCallback {

    private Path brokerDir;
    private EmbeddedKafkaBroker broker;
    private PostgresTestDatabase pg;

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        brokerDir = Files.createTempDirectory("ferry-test-broker");
        broker = EmbeddedKafkaBroker.start(brokerDir);
        pg = PostgresTestDatabase.create();
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        try {
            if (broker != null) {
                broker.close();
            }
            if (pg != null) {
                pg.close();
            }
        } finally {
            if (brokerDir != null) {
                try (Stream<Path> files = Files.walk(brokerDir)) {
                    for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }

    public EmbeddedKafkaBroker broker() {
        return broker;
    }

    public PostgresTestDatabase pg() {
        return pg;
    }
}
