package dev.ferry.ingest.connect;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.json.JsonConverterConfig;
import org.apache.kafka.connect.runtime.standalone.StandaloneConfig;
import org.apache.kafka.connect.source.SourceTaskContext;
import org.apache.kafka.connect.storage.FileOffsetBackingStore;
import org.apache.kafka.connect.storage.OffsetStorageReader;
import org.apache.kafka.connect.storage.OffsetStorageReaderImpl;
import org.apache.kafka.connect.storage.OffsetStorageWriter;

/**
 * A source task's offsets in a file, kept by Kafka Connect's own storage classes as a standalone worker (and the
 * Debezium embedded engine before ferry ran the task itself) keeps them: {@link FileOffsetBackingStore}, the
 * task's name as namespace, keys and values as schemaless JSON. A file written by either is read by the other.
 */
public final class TaskOffsets implements AutoCloseable {

    private final FileOffsetBackingStore store;
    private final OffsetStorageReaderImpl reader;
    private final OffsetStorageWriter writer;

    /** Opens (or creates) {@code file}; {@code namespace} is the connector's name. */
    public TaskOffsets(Path file, String namespace) {
        JsonConverter keys = converter(true);
        JsonConverter values = converter(false);
        store = new FileOffsetBackingStore(keys);
        // A worker's configuration, of which the file store reads only the file name (bootstrap.servers is required
        // by the class, never used by the store).
        store.configure(new StandaloneConfig(Map.of(
                StandaloneConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9092",
                StandaloneConfig.OFFSET_STORAGE_FILE_FILENAME_CONFIG, file.toAbsolutePath().toString(),
                StandaloneConfig.KEY_CONVERTER_CLASS_CONFIG, JsonConverter.class.getName(),
                StandaloneConfig.VALUE_CONVERTER_CLASS_CONFIG, JsonConverter.class.getName())));
        store.start();
        reader = new OffsetStorageReaderImpl(store, namespace, keys, values);
        writer = new OffsetStorageWriter(store, namespace, keys, values);
    }

    private static JsonConverter converter(boolean isKey) {
        JsonConverter c = new JsonConverter();
        c.configure(Map.of(JsonConverterConfig.SCHEMAS_ENABLE_CONFIG, "false"), isKey);
        return c;
    }

    public OffsetStorageReader reader() {
        return reader;
    }

    /** What a Connect worker gives its task: {@code configs} and these offsets to resume from. */
    public SourceTaskContext taskContext(Map<String, String> configs) {
        return new Context(configs, reader);
    }

    private record Context(Map<String, String> configs, OffsetStorageReader offsetStorageReader) implements SourceTaskContext {

        /** The task registers no plugin metrics of Kafka's; ferry's own are in the ingest's metrics. */
        @Override
        public PluginMetrics pluginMetrics() {
            return null;
        }
    }

    /** Notes the offset reached in {@code partition}; stored by the next {@link #flush}. */
    public void record(Map<String, ?> partition, Map<String, ?> offset) {
        writer.offset(partition, offset);
    }

    /** Stores the offsets noted since the last flush; false when there were none. */
    public boolean flush(long timeoutMs) throws InterruptedException {
        try {
            if (!writer.beginFlush(timeoutMs, TimeUnit.MILLISECONDS)) {
                return false;
            }
        } catch (TimeoutException e) {
            throw new IllegalStateException("an earlier flush of the ingest offsets did not end within " + timeoutMs + " ms", e);
        }
        try {
            writer.doFlush((error, ignored) -> { }).get(timeoutMs, TimeUnit.MILLISECONDS);
            return true;
        } catch (ExecutionException | TimeoutException e) {
            writer.cancelFlush();
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new IllegalStateException("cannot store the ingest offsets: " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            writer.cancelFlush();
            throw e;
        }
    }

    @Override
    public void close() {
        reader.close();
        store.stop();
    }
}
