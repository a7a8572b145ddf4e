package dev.ferry.embed;

import dev.ferry.embed.model.EmbeddingModel;
import dev.ferry.schemas.EventCodec;
import dev.ferry.schemas.RowidColumn;
import dev.ferry.schemas.avro.ChangeEvent;
import dev.ferry.schemas.avro.Column;
import dev.ferry.schemas.avro.EmbeddingColumn;
import dev.ferry.schemas.avro.KeyColumn;
import dev.ferry.schemas.avro.Op;
import dev.ferry.schemas.avro.RowKey;
import dev.ferry.schemas.avro.Source;
import dev.ferry.schemas.avro.TableSchema;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The table of a chunking spec's chunks: the parent's key columns, {@code chunk_index}, {@code chunk_text}, and the
 * vector and model columns; keyed by the parent's key and the chunk index. Its events travel on the parent's
 * {@code .embedded} topic, in the parent's partition, right after the parent's own record.
 */
final class ChunkTable {

    static final String INDEX_COLUMN = "chunk_index";
    static final String TEXT_COLUMN = "chunk_text";
    /** Key column of the chunk table's schema event: distinct from the parent's (empty) schema key, so compaction keeps both. */
    private static final String SCHEMA_KEY_COLUMN = "_ferry_schema";

    private ChunkTable() {
    }

    /** The chunk table's schema event, from its parent's. */
    static TableSchema schema(TableSchema parent, EmbeddingSpec spec, EmbeddingModel model) {
        List<Column> columns = new ArrayList<>();
        int position = 0;
        for (Column key : parentKey(parent)) {
            if (key.getName().equals(INDEX_COLUMN) || key.getName().equals(TEXT_COLUMN) || key.getName().equals(spec.column())
                    || key.getName().equals(spec.modelColumn())) {
                throw new IllegalStateException("table \"" + parent.getTable() + "\" has a key column \"" + key.getName()
                        + "\", which its chunk table " + spec.chunking().table() + " needs for its own columns");
            }
            columns.add(new Column(key.getName(), key.getDeclaredType(), true, null, ++position, null, null));
        }
        columns.add(new Column(INDEX_COLUMN, "INTEGER", true, null, ++position, null, null));
        columns.add(new Column(TEXT_COLUMN, "TEXT", false, null, 0, null, null));
        return TableSchema.newBuilder().setSource(parent.getSource()).setTable(spec.chunking().table())
                .setSchemaVersion(parent.getSchemaVersion()).setRowidKey(false).setWithoutRowid(false).setColumns(columns)
                .setTsMs(parent.getTsMs()).setIndexes(List.of()).setForeignKeys(List.of()).setChecks(List.of())
                .setSnapshotDone(parent.getSnapshotDone())
                .setEmbeddings(List.of(new EmbeddingColumn(spec.column(), spec.modelColumn(), model.dimensions(), model.id(), spec.index())))
                .build();
    }

    /** The parent's key columns in key order: the rowid for a table keyed by it, else the primary key. */
    private static List<Column> parentKey(TableSchema parent) {
        if (parent.getRowidKey()) {
            return List.of(new Column(RowidColumn.of(parent.getColumns(), Column::getName), "INTEGER", true, null, 1, null, null));
        }
        return parent.getColumns().stream().filter(c -> c.getPkPosition() > 0).sorted(Comparator.comparingInt(Column::getPkPosition)).toList();
    }

    static byte[] schemaKey(byte[] chunkSchema) {
        return EventCodec.encodeKey(new RowKey(List.of(new KeyColumn(SCHEMA_KEY_COLUMN, EventCodec.decodeSchema(chunkSchema).getTable()))));
    }

    /** Key of chunk {@code index} of a parent: the parent's key columns, then {@code chunk_index}. */
    static RowKey key(RowKey parent, int index) {
        List<KeyColumn> columns = new ArrayList<>(parent.getColumns());
        columns.add(new KeyColumn(INDEX_COLUMN, (long) index));
        return new RowKey(columns);
    }

    /** The key columns of chunk {@code index} as a row image. */
    static Map<String, Object> keyImage(RowKey parent, int index) {
        Map<String, Object> row = new HashMap<>();
        parent.getColumns().forEach(k -> row.put(k.getName(), k.getValue()));
        row.put(INDEX_COLUMN, (long) index);
        return row;
    }

    static ChangeEvent event(ChangeEvent parent, EmbeddingSpec spec, Op op, Map<String, Object> before, Map<String, Object> after) {
        Source source = Source.newBuilder(parent.getSource()).setTable(spec.chunking().table()).build();
        return ChangeEvent.newBuilder().setBefore(before).setAfter(after).setOp(op).setSource(source).setTsMs(parent.getTsMs()).build();
    }
}
