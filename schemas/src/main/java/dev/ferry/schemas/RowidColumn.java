package dev.ferry.schemas;

import java.util.List;
import java.util.function.Function;

/**
 * The column under which a table keyed by rowid (no primary key, or NULL in it) carries its rowid, in events and in
 * PostgreSQL: {@code _ferry_rowid}, or, when the table has a column of that very name, the first of
 * {@code _ferry_rowid_2}, {@code _ferry_rowid_3}, … it does not have. The ingest and the writer both derive it from the
 * table's columns, so the schema event needs no field for it.
 */
public final class RowidColumn {

    public static final String NAME = "_ferry_rowid";

    private RowidColumn() {
    }

    /** Exact names: row images are keyed by them, and PostgreSQL's quoted names are case-sensitive. */
    public static <T> String of(List<T> columns, Function<T, String> name) {
        String candidate = NAME;
        for (int n = 2; taken(columns, name, candidate); n++) {
            candidate = NAME + "_" + n;
        }
        return candidate;
    }

    private static <T> boolean taken(List<T> columns, Function<T, String> name, String candidate) {
        for (T c : columns) {
            if (candidate.equals(name.apply(c))) {
                return true;
            }
        }
        return false;
    }
}
