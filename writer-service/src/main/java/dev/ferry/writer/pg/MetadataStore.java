package dev.ferry.writer.pg;

import dev.ferry.schemas.EventCodec;
import dev.ferry.schemas.avro.TableSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.TopicPartition;

/**
 * ferry's own tables in the target database, schema {@code _ferry}: the writer's consumer offsets (written in
 * the same transaction as the rows they cover, so a crash can neither lose nor repeat a change), the last
 * schema seen per source table, and an optional audit of applied offset ranges.
 */
public final class MetadataStore {

    public static final String SCHEMA = "_ferry";

    private MetadataStore() {
    }

    /** {@link #advanceOffsets}: no offset stored yet for the partition. */
    public static final long NONE = -1;

    /** Key of the transaction-level advisory lock that serialises ferry's DDL across the writers of a database. */
    private static final long DDL_LOCK = 0x6665727279L; // "ferry"

    /**
     * Waits for the other writers' DDL (scaled-out writers apply the same schema events, from their own partitions) and
     * holds them off until this transaction ends: concurrent {@code CREATE ... IF NOT EXISTS} of one name can fail
     * on PostgreSQL's catalog unique indexes. A wait that closes a cycle with row locks ends in a deadlock error
     * (SQLSTATE 40P01), which the writer retries.
     */
    public static void lockDdl(Connection connection) throws SQLException {
        try (Statement st = connection.createStatement()) {
            st.execute("SELECT pg_advisory_xact_lock(" + DDL_LOCK + ")");
        }
    }

    public static void create(Connection connection) throws SQLException {
        lockDdl(connection);
        try (Statement st = connection.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS " + SCHEMA);
            st.execute("CREATE TABLE IF NOT EXISTS " + SCHEMA + ".offsets (consumer_group text NOT NULL, topic text NOT NULL,"
                    + " kafka_partition int NOT NULL, next_offset bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),"
                    + " PRIMARY KEY (consumer_group, topic, kafka_partition))");
            st.execute("CREATE TABLE IF NOT EXISTS " + SCHEMA + ".tables (source text NOT NULL, source_table text NOT NULL,"
                    + " target_schema text NOT NULL, schema_version bigint NOT NULL, schema_event bytea NOT NULL,"
                    + " updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (source, source_table))");
            st.execute("CREATE TABLE IF NOT EXISTS " + SCHEMA + ".applied_batches (id bigserial PRIMARY KEY, consumer_group text NOT NULL,"
                    + " topic text NOT NULL, kafka_partition int NOT NULL, first_offset bigint NOT NULL, last_offset bigint NOT NULL,"
                    + " committed_at timestamptz NOT NULL DEFAULT now())");
        }
    }

    public static Map<TopicPartition, Long> offsets(Connection connection, String group) throws SQLException {
        Map<TopicPartition, Long> offsets = new HashMap<>();
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT topic, kafka_partition, next_offset FROM " + SCHEMA + ".offsets WHERE consumer_group = ?")) {
            ps.setString(1, group);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    offsets.put(new TopicPartition(rs.getString(1), rs.getInt(2)), rs.getLong(3));
                }
            }
        }
        return offsets;
    }

    /** Stores the next offset to read per partition; {@code firstOffsets} non-null also records the applied ranges. */
    public static void saveOffsets(Connection connection, String group, Map<TopicPartition, Long> nextOffsets,
                            Map<TopicPartition, Long> firstOffsets) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("INSERT INTO " + SCHEMA + ".offsets AS o"
                + " (consumer_group, topic, kafka_partition, next_offset) VALUES (?, ?, ?, ?)"
                + " ON CONFLICT (consumer_group, topic, kafka_partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()")) {
            for (var e : nextOffsets.entrySet()) {
                ps.setString(1, group);
                ps.setString(2, e.getKey().topic());
                ps.setInt(3, e.getKey().partition());
                ps.setLong(4, e.getValue());
                ps.addBatch();
            }
            ps.executeBatch();
        }
        if (firstOffsets != null) {
            saveAppliedRanges(connection, group, nextOffsets, firstOffsets);
        }
    }

    private static void saveAppliedRanges(Connection connection, String group, Map<TopicPartition, Long> nextOffsets,
                                          Map<TopicPartition, Long> firstOffsets) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("INSERT INTO " + SCHEMA + ".applied_batches"
                + " (consumer_group, topic, kafka_partition, first_offset, last_offset) VALUES (?, ?, ?, ?, ?)")) {
            for (var e : nextOffsets.entrySet()) {
                ps.setString(1, group);
                ps.setString(2, e.getKey().topic());
                ps.setInt(3, e.getKey().partition());
                ps.setLong(4, firstOffsets.get(e.getKey()));
                ps.setLong(5, e.getValue() - 1);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /**
     * Moves each partition's stored offset from {@code expected} ({@link #NONE}: no row yet) to {@code next}, and
     * returns the partitions whose stored offset was not {@code expected}: another writer of the group applied them
     * since this one read it (a partition reassigned while this writer was still applying a poll). The caller must
     * then roll back. Rows are updated in partition order and stay locked until the transaction ends, so of two
     * writers applying the same records exactly one commits. {@code firstOffsets} non-null also records the
     * applied ranges.
     */
    public static Set<TopicPartition> advanceOffsets(Connection connection, String group, Map<TopicPartition, Long> expected,
                                                     Map<TopicPartition, Long> nextOffsets, Map<TopicPartition, Long> firstOffsets)
            throws SQLException {
        List<TopicPartition> order = nextOffsets.keySet().stream()
                .sorted(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition)).toList();
        Set<TopicPartition> conflicts = new TreeSet<>(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
        try (PreparedStatement update = connection.prepareStatement("UPDATE " + SCHEMA + ".offsets SET next_offset = ?, updated_at = now()"
                + " WHERE consumer_group = ? AND topic = ? AND kafka_partition = ? AND next_offset = ?");
             PreparedStatement insert = connection.prepareStatement("INSERT INTO " + SCHEMA + ".offsets"
                     + " (consumer_group, topic, kafka_partition, next_offset) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            for (TopicPartition tp : order) {
                long was = expected.getOrDefault(tp, NONE);
                int changed;
                if (was == NONE) {
                    insert.setString(1, group);
                    insert.setString(2, tp.topic());
                    insert.setInt(3, tp.partition());
                    insert.setLong(4, nextOffsets.get(tp));
                    changed = insert.executeUpdate();
                } else {
                    update.setLong(1, nextOffsets.get(tp));
                    update.setString(2, group);
                    update.setString(3, tp.topic());
                    update.setInt(4, tp.partition());
                    update.setLong(5, was);
                    changed = update.executeUpdate();
                }
                if (changed != 1) {
                    conflicts.add(tp);
                }
            }
        }
        if (conflicts.isEmpty() && firstOffsets != null) {
            saveAppliedRanges(connection, group, nextOffsets, firstOffsets);
        }
        return conflicts;
    }

    public static void saveSchema(Connection connection, String targetSchema, TableSchema schema) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("INSERT INTO " + SCHEMA + ".tables"
                + " (source, source_table, target_schema, schema_version, schema_event) VALUES (?, ?, ?, ?, ?)"
                + " ON CONFLICT (source, source_table) DO UPDATE SET target_schema = EXCLUDED.target_schema,"
                + " schema_version = EXCLUDED.schema_version, schema_event = EXCLUDED.schema_event, updated_at = now()")) {
            ps.setString(1, schema.getSource());
            ps.setString(2, schema.getTable());
            ps.setString(3, targetSchema);
            ps.setLong(4, schema.getSchemaVersion());
            ps.setBytes(5, EventCodec.encodeSchema(schema));
            ps.executeUpdate();
        }
    }

    /** The last schema stored per source table: after a restart the writer resumes past the schema events. */
    public static Map<String, TableSchema> schemas(Connection connection, String source) throws SQLException {
        Map<String, TableSchema> schemas = new LinkedHashMap<>();
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT source_table, schema_event FROM " + SCHEMA + ".tables WHERE source = ? ORDER BY source_table")) {
            ps.setString(1, source);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    schemas.put(rs.getString(1), EventCodec.decodeSchema(rs.getBytes(2)));
                }
            }
        }
        return schemas;
    }
}
