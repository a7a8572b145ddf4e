package dev.ferry.writer.pg;

/** The one place that quotes PostgreSQL identifiers. */
public final class PgIdentifiers {

    private PgIdentifiers() {
    }

    /** Always quoted, so that case, spaces, quotes and reserved words survive: {@code a"b} becomes {@code "a""b"}. */
    public static String quote(String identifier) {
        if (identifier.indexOf('\u0000') >= 0) {
            throw new IllegalArgumentException("PostgreSQL identifiers cannot contain a NUL character: " + identifier.replace('\u0000', '?'));
        }
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    public static String qualified(String schema, String name) {
        return quote(schema) + "." + quote(name);
    }
}
