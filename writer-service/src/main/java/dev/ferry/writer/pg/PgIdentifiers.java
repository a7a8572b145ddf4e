package dev.ferry.writer.pg;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.zip.CRC32;

/** The one place that names and quotes PostgreSQL identifiers. */
public final class PgIdentifiers {

    /** PostgreSQL keeps the first 63 bytes of an identifier (NAMEDATALEN - 1) and drops the rest without error. */
    static final int MAX_BYTES = 63;
    private static final int HASH_SUFFIX_BYTES = 9;

    private PgIdentifiers() {
    }

    /**
     * Always quoted, so that case, spaces, quotes and reserved words survive: {@code a"b} becomes {@code "a""b"}.
     * A name longer than PostgreSQL keeps is shortened first (see {@link #pgName}).
     */
    public static String quote(String identifier) {
        if (identifier.indexOf('\u0000') >= 0) {
            throw new IllegalArgumentException("PostgreSQL identifiers cannot contain a NUL character: " + identifier.replace('\u0000', '?'));
        }
        return '"' + pgName(identifier).replace("\"", "\"\"") + '"';
    }

    /** Names PostgreSQL keeps for the system columns of every table: a column of one of these names is refused. */
    static final Set<String> SYSTEM_COLUMNS = Set.of("tableoid", "xmin", "cmin", "xmax", "cmax", "ctid");

    /**
     * The name PostgreSQL gets: the SQLite name itself when PostgreSQL can hold it; otherwise its longest prefix of whole
     * characters within 54 bytes, '_' and 8 hex digits of a CRC-32 of the whole name. PostgreSQL cannot hold a name
     * longer than 63 bytes (two names it would truncate to the same 63 bytes would be refused as duplicates, or
     * confused), an empty name (SQLite allows {@code ""}), or a system column's name ({@code ctid}, {@code xmin}, ...),
     * which it refuses for a column and which gets the same treatment as any other name, so that one rule maps them all.
     */
    public static String pgName(String name) {
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= MAX_BYTES && !name.isEmpty() && !SYSTEM_COLUMNS.contains(name)) {
            return name;
        }
        StringBuilder prefix = new StringBuilder();
        int bytes = 0;
        for (int i = 0; i < name.length(); ) {
            int cp = name.codePointAt(i);
            int size = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes + size > MAX_BYTES - HASH_SUFFIX_BYTES) {
                break;
            }
            prefix.appendCodePoint(cp);
            bytes += size;
            i += Character.charCount(cp);
        }
        CRC32 crc = new CRC32();
        crc.update(utf8);
        return prefix + "_" + String.format("%08x", crc.getValue());
    }

    public static String qualified(String schema, String name) {
        return quote(schema) + "." + quote(name);
    }
}
