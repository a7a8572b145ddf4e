package dev.ferry.ingest.connect;

import dev.ferry.ingest.sqlite.TableInfo;
import dev.ferry.schemas.EventCodec;
import dev.ferry.schemas.TopicNames;
import dev.ferry.schemas.avro.ChangeEvent;
import dev.ferry.schemas.avro.KeyColumn;
import dev.ferry.schemas.avro.Op;
import dev.ferry.schemas.avro.RowKey;
import dev.ferry.schemas.avro.Source;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.source.SourceRecord;

/** Builds the Kafka Connect records of ferry's events: Avro single-object bytes for key and value. */
final class EventRecords {

    private final String prefix;
    private final String source;
    private final int partitions;
    private final Map<String, Object> sourcePartition;
    private static final byte[] SCHEMA_KEY = EventCodec.encodeKey(new RowKey(List.of()));

    EventRecords(String prefix, String source, int partitions) {
        this.prefix = prefix;
        this.source = source;
        this.partitions = partitions;
        this.sourcePartition = Map.of("source", source);
    }

    Map<String, Object> sourcePartition() {
        return sourcePartition;
    }

    /** Per table shape, what every record needs: computed once, not per record (it showed in snapshot profiles). */
    private record TableMeta(String topic, List<String> keyNames, Map<String, List<Header>> labels) {
    }

    private final Map<TableInfo, TableMeta> meta = new java.util.IdentityHashMap<>();

    private TableMeta meta(TableInfo table) {
        return meta.computeIfAbsent(table, t -> {
            Map<String, List<Header>> labels = new java.util.HashMap<>();
            for (String op : List.of(Op.r.name(), Op.c.name(), Op.u.name(), Op.d.name(), RecordLabels.TOMBSTONE, RecordLabels.SCHEMA)) {
                labels.put(op, RecordLabels.of(t.name(), op));
            }
            return new TableMeta(TopicNames.tableTopic(prefix, source, t.name()), t.keyColumns(), labels);
        });
    }

    /** Drops what was computed for earlier table shapes. */
    void forgetTables() {
        meta.clear();
    }

    String topic(TableInfo table) {
        return meta(table).topic();
    }

    /**
     * The table's schema event, once per partition so that every consumer of the topic sees it before the rows.
     * {@code snapshotDone}: no read of the table is under way, every row it had precedes this event.
     */
    List<SourceRecord> schema(TableInfo table, boolean snapshotDone, Map<String, Object> offset) {
        byte[] value = EventCodec.encodeSchema(table.schemaEvent(source, snapshotDone));
        List<SourceRecord> records = new ArrayList<>(partitions);
        for (int p = 0; p < partitions; p++) {
            records.add(new RecordLabels.Labelled(sourcePartition, offset, topic(table), p, SCHEMA_KEY, value, null, table.name(),
                    RecordLabels.SCHEMA, meta(table).labels().get(RecordLabels.SCHEMA)));
        }
        return records;
    }

    /** A row event; a delete also yields a tombstone so that compaction can drop the key. */
    List<SourceRecord> change(TableInfo table, Op op, List<Object> keyValues, Map<String, Object> image, long seq,
                              boolean snapshot, long commitTsMs, Map<String, Object> offset) {
        List<KeyColumn> keyColumns = new ArrayList<>(keyValues.size());
        TableMeta meta = meta(table);
        List<String> keyNames = meta.keyNames();
        Map<String, Object> before = null;
        for (int i = 0; i < keyValues.size(); i++) {
            keyColumns.add(new KeyColumn(keyNames.get(i), avroValue(keyValues.get(i))));
        }
        if (op == Op.d) {
            before = new LinkedHashMap<>();
            for (KeyColumn k : keyColumns) {
                before.put(k.getName(), k.getValue());
            }
        }
        byte[] key = EventCodec.encodeKey(new RowKey(keyColumns));
        // The constructor, not the builder: every field is set, and the builder's per-field checks and copies showed.
        ChangeEvent event = new ChangeEvent(before, image, op, new Source(source, table.name(), seq, snapshot, commitTsMs),
                System.currentTimeMillis());
        SourceRecord record = new RecordLabels.Labelled(sourcePartition, offset, meta.topic(), null, key, EventCodec.encodeChange(event),
                commitTsMs, table.name(), op.name(), meta.labels().get(op.name()));
        if (op != Op.d) {
            return List.of(record);
        }
        SourceRecord tombstone = new RecordLabels.Labelled(sourcePartition, offset, meta.topic(), null, key, null, commitTsMs,
                table.name(), RecordLabels.TOMBSTONE, meta.labels().get(RecordLabels.TOMBSTONE));
        return List.of(record, tombstone);
    }

    List<Object> keyOf(TableInfo table, Map<String, Object> image) {
        List<Object> key = new ArrayList<>();
        for (String k : meta(table).keyNames()) {
            key.add(image.get(k));
        }
        return key;
    }

    private static Object avroValue(Object value) {
        return value instanceof byte[] bytes ? ByteBuffer.wrap(bytes) : value;
    }
}
