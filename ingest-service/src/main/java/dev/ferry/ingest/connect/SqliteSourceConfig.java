package dev.ferry.ingest.connect;

import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/** Every option of the SQLite source connector, declared once with its default, validator and documentation. */
public final class SqliteSourceConfig extends AbstractConfig {

    public static final String SQLITE_PATH = "sqlite.path";
    public static final String SOURCE_NAME = "source.name";
    public static final String TOPIC_PREFIX = "topic.prefix";
    public static final String TOPIC_PARTITIONS = "topic.partitions";
    public static final String TABLES_INCLUDE = "tables.include";
    public static final String BATCH_SIZE = "batch.size";
    public static final String POLL_INTERVAL_MS = "poll.interval.ms";

    public static final ConfigDef CONFIG_DEF = new ConfigDef()
            .define(SQLITE_PATH, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Path of the SQLite database file to capture.")
            .define(SOURCE_NAME, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Logical name of the source; part of every topic name and of the events' source block.")
            .define(TOPIC_PREFIX, Type.STRING, "ferry", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
                    "First part of topic names: <prefix>.<source>.<table>.")
            .define(TOPIC_PARTITIONS, Type.INT, 1, ConfigDef.Range.between(1, 1024), Importance.MEDIUM,
                    "Partitions of each table topic; a table's schema events go to every partition.")
            .define(TABLES_INCLUDE, Type.STRING, ".*", ConfigDef.LambdaValidator.with(SqliteSourceConfig::validateRegex,
                    () -> "a Java regular expression"), Importance.MEDIUM,
                    "Regular expression matched against whole table names (a dot also matches a line break, which SQLite allows in"
                    + " a name); only matching tables are captured.")
            .define(BATCH_SIZE, Type.INT, 2000, ConfigDef.Range.between(1, 1_000_000), Importance.LOW,
                    "Most records returned by one poll (snapshot rows or changelog entries).")
            .define(POLL_INTERVAL_MS, Type.LONG, 25L, ConfigDef.Range.between(1, 60_000), Importance.LOW,
                    "Pause before reading the changelog again when it had nothing new: bounds the added latency of an"
                    + " idle source, at the cost of one indexed changelog query per pause.");

    public SqliteSourceConfig(Map<?, ?> props) {
        super(CONFIG_DEF, props);
    }

    public Pattern tablesInclude() {
        return tablePattern(getString(TABLES_INCLUDE));
    }

    /**
     * The pattern of {@link #TABLES_INCLUDE}. DOTALL: a table name may hold a line break, and the default {@code .*} must
     * still match it (without it such tables were silently left out of capture).
     */
    public static Pattern tablePattern(String regex) {
        return Pattern.compile(regex, Pattern.DOTALL);
    }

    private static void validateRegex(String name, Object value) {
        try {
            tablePattern((String) value);
        } catch (PatternSyntaxException | ClassCastException e) {
            throw new ConfigException(name, value, "not a valid regular expression: " + e.getMessage());
        }
    }
}
