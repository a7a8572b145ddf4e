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
public record EmbeddingSpec(String table, String text, String column, String modelColumn, String model, String index, String vectorsFrom) {

    public static final String DEFAULT_COLUMN = "embedding";
    public static final String DEFAULT_MODEL = "minilm";
    public static final String DEFAULT_INDEX = "hnsw";
    private static final Set<String> INDEXES = Set.of("hnsw", "ivfflat", "none");

    /** Fills defaults and checks every field; the message names the field at fault as {@code where.field}. */
    public static EmbeddingSpec of(String where, String table, String text, String column, String modelColumn, String model, String index,
                                   String vectorsFrom) {
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
        return new EmbeddingSpec(table, text == null || text.isEmpty() ? null : text, c, mc, model == null ? DEFAULT_MODEL : model, i,
                vectorsFrom);
    }

    /** The text template, or null when only carried vectors are used. */
    public TextTemplate template() {
        return text == null ? null : TextTemplate.parse(text);
    }
}
