package dev.ferry.embed;

import java.util.Locale;
import java.util.Set;

/**
 * What to embed for one SQLite table: the text (one column, or a template over several), the target vector column
 * and the column recording the model, the model, the vector index, and optionally a column that already holds vectors.
 *
 * @param table       SQLite table name, as declared
 * @param text        the text to embed: a template where {@code {column}} stands for a column's value ({@code {{} and
 *                    {@code }}} for braces); a plain column name is the template {@code {name}}. Null only with
 *                    {@code vectorsFrom}
 * @param column      target vector column, {@code vector(n)} in PostgreSQL
 * @param modelColumn target text column naming the model of each row's vector
 * @param model       name of the model (see {@code docs/embeddings.md})
 * @param index       vector index built after the snapshot: {@code hnsw}, {@code ivfflat} or {@code none}
 * @param vectorsFrom a column already holding the row's vector (JSON array text, or float32 little-endian BLOB), carried
 *                    over instead of computed when present; null when none
 */
public record EmbeddingSpec(String table, String text, String column, String modelColumn, String model, String index, String vectorsFrom,
                            Chunking chunking) {

    /**
     * Chunking: the text is cut into windows of {@code size} tokens overlapping by {@code overlap}, each a row of
     * {@code table} keyed by the parent's key and the chunk's index, with its text and vector; the parent row gets no
     * vector. When a text gets shorter, its surplus chunks are deleted; a deleted parent loses its chunks.
     */
    public record Chunking(int size, int overlap, String table) {
    }

    public static final String DEFAULT_COLUMN = "embedding";
    public static final String DEFAULT_MODEL = "minilm";
    public static final String DEFAULT_INDEX = "hnsw";
    private static final Set<String> INDEXES = Set.of("hnsw", "ivfflat", "none");

    /** Fills defaults and checks every field; the message names the field at fault as {@code where.field}. */
    public static EmbeddingSpec of(String where, String table, String text, String column, String modelColumn, String model, String index,
                                   String vectorsFrom) {
        return of(where, table, text, column, modelColumn, model, index, vectorsFrom, null);
    }

    /** As {@link #of(String, String, String, String, String, String, String, String)}, with chunking (null: none). */
    public static EmbeddingSpec of(String where, String table, String text, String column, String modelColumn, String model, String index,
                                   String vectorsFrom, Chunking chunking) {
        if (table == null || table.isEmpty()) {
            throw new IllegalArgumentException(where + ".table is required");
        }
        if ((text == null || text.isEmpty()) && vectorsFrom == null) {
            throw new IllegalArgumentException(where + ".text is required (a column name or a template such as \"{title}: {body}\")"
                    + " unless vectors_from names a column holding vectors");
        }
        if (text != null && !text.isEmpty()) {
            try {
                TextTemplate.parse(text);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ".text '" + text + "': " + e.getMessage(), e);
            }
        }
        String c = column == null ? DEFAULT_COLUMN : column;
        if (c.isEmpty()) {
            throw new IllegalArgumentException(where + ".column must not be empty");
        }
        String mc = modelColumn == null ? c + "_model" : modelColumn;
        if (mc.isEmpty() || mc.equals(c)) {
            throw new IllegalArgumentException(where + ".model_column '" + mc + "' must be a name other than the vector column's");
        }
        String i = (index == null ? DEFAULT_INDEX : index).toLowerCase(Locale.ROOT);
        if (!INDEXES.contains(i)) {
            throw new IllegalArgumentException(where + ".index '" + index + "' must be one of hnsw, ivfflat, none");
        }
        if (vectorsFrom != null && vectorsFrom.isEmpty()) {
            throw new IllegalArgumentException(where + ".vectors_from must name a column");
        }
        if (chunking != null) {
            if (text == null || text.isEmpty()) {
                throw new IllegalArgumentException(where + ".chunking needs text: chunks are cut from the text");
            }
            if (vectorsFrom != null) {
                throw new IllegalArgumentException(where + ".chunking and vectors_from exclude each other: carried vectors are one per row");
            }
            if (chunking.size() < 1) {
                throw new IllegalArgumentException(where + ".chunking.size must be at least 1, not " + chunking.size());
            }
            if (chunking.overlap() < 0 || chunking.overlap() >= chunking.size()) {
                throw new IllegalArgumentException(where + ".chunking.overlap must be from 0 to size - 1 (" + (chunking.size() - 1) + "), not "
                        + chunking.overlap());
            }
            String chunkTable = chunking.table() == null ? table + "_chunks" : chunking.table();
            if (chunkTable.isEmpty() || chunkTable.equals(table)) {
                throw new IllegalArgumentException(where + ".chunking.table '" + chunkTable + "' must name a table other than the spec's");
            }
            chunking = new Chunking(chunking.size(), chunking.overlap(), chunkTable);
        }
        return new EmbeddingSpec(table, text == null || text.isEmpty() ? null : text, c, mc, model == null ? DEFAULT_MODEL : model, i,
                vectorsFrom, chunking);
    }

    /** The text template, or null when only carried vectors are used. */
    public TextTemplate template() {
        return text == null ? null : TextTemplate.parse(text);
    }
}
