package dev.ferry.ingest.connect;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.source.SourceConnector;

/** Kafka Connect source connector for one SQLite file. Runs in ferry's ingest service or in a Connect cluster. */
public final class SqliteSourceConnector extends SourceConnector {

    private Map<String, String> props;

    @Override
    public void start(Map<String, String> props) {
        new SqliteSourceConfig(props);
        this.props = Map.copyOf(props);
    }

    @Override
    public Class<? extends Task> taskClass() {
        return SqliteSourceTask.class;
    }

    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        // One changelog, read in order: only one task makes sense.
        return List.of(props);
    }

    @Override
    public void stop() {
    }

    @Override
    public ConfigDef config() {
        return SqliteSourceConfig.CONFIG_DEF;
    }

    @Override
    public String version() {
        return "0.1.0";
    }
}
