package dev.ferry.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.embed.model.EmbeddingModel;
import dev.ferry.schemas.EventCodec;
import dev.ferry.schemas.avro.Column;
import dev.ferry.schemas.avro.TableSchema;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The chunk table's key is its parent's key, under the names the parent's events carry. */
class ChunkTableTest {

    static {
        EventCodec.trustEventClasses();
    }

    /** Only its id and dimensions are read when the chunk table's schema is built. */
    private static final EmbeddingModel MODEL = new EmbeddingModel() {
        @Override
        public String id() {
            return "fake";
        }

        @Override
        public int dimensions() {
            return 3;
        }

        @Override
        public int maxTokens() {
            return 128;
        }

        @Override
        public int maxChunkTokens() {
            return 126;
        }

        @Override
        public int tokens(String text) {
            return text.length();
        }

        @Override
        public List<String> chunks(String text, int size, int overlap) {
            return List.of(text);
        }

        @Override
        public List<float[]> embed(List<String> texts) {
            return texts.stream().map(t -> new float[3]).toList();
        }

        @Override
        public void close() {
        }
    };

    private static TableSchema rowidKeyed(String... columns) {
        return TableSchema.newBuilder().setSource("app").setTable("notes").setSchemaVersion(1L).setRowidKey(true)
                .setColumns(Arrays.stream(columns).map(c -> Column.newBuilder().setName(c).setDeclaredType("TEXT").setNotNull(false)
                        .setDefaultValue(null).setPkPosition(0).build()).toList()).setTsMs(1L).build();
    }

    private static List<String> keyOfChunks(TableSchema parent) {
        EmbeddingSpec spec = EmbeddingSpec.of("spec", "notes", "body", null, null, null, null, null,
                new EmbeddingSpec.Chunking(100, 10, "note_chunks"));
        return ChunkTable.schema(parent, spec, MODEL).getColumns().stream().filter(c -> c.getPkPosition() > 0).map(Column::getName).toList();
    }

    @Test
    void aParentKeyedByRowidLendsItsRowidColumnEvenWhenItHasAColumnOfThatName() {
        assertEquals(List.of("_ferry_rowid", "chunk_index"), keyOfChunks(rowidKeyed("body")));
        assertEquals(List.of("_ferry_rowid_2", "chunk_index"), keyOfChunks(rowidKeyed("_ferry_rowid", "body")),
                "the parent's events carry its rowid as _ferry_rowid_2 (RowidColumn)");
    }
}
