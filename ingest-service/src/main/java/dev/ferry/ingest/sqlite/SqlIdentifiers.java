package dev.ferry.ingest.sqlite;

/** The one place that quotes SQLite identifiers and string literals. */
public final class SqlIdentifiers {

    private SqlIdentifiers() {
    }

    /** {@code my "odd" name} becomes {@code "my ""odd"" name"}: safe for any table or column name. */
    public static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    public static String literal(String text) {
        return '\'' + text.replace("'", "''") + '\'';
    }
}
