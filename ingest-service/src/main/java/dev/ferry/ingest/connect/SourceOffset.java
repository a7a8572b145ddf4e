package dev.ferry.ingest.connect;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The connector's source offset, as the ingest stores it after Kafka acknowledged the records before it.
 *
 * @param phase         {@code snapshot} during the first snapshot, {@code stream} after it
 * @param seq           changelog entries up to this seq are in Kafka (the snapshot's mark while snapshotting)
 * @param captureId     the changelog this offset belongs to: after an uninstall and a new install it differs
 * @param schemaVersion SQLite's schema_version when the record was read
 * @param shapes        table → digest of its columns as last sent: a table whose shape differs on restart
 *                      changed while ferry was stopped and is read again
 * @param resnapshot    tables being read again while streaming; a restart reads them again
 */
public record SourceOffset(String phase, long seq, String captureId, long schemaVersion, Map<String, String> shapes, Set<String> resnapshot) {

    static final String SNAPSHOT = "snapshot";
    static final String STREAM = "stream";
    /** SQLite identifiers cannot hold NUL, so it separates names inside one offset field. */
    private static final String SEPARATOR = "\u0000";

    Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("phase", phase);
        map.put("seq", seq);
        map.put("capture", captureId);
        map.put("schema_version", schemaVersion);
        map.put("shapes", encodeShapes(shapes));
        if (!resnapshot.isEmpty()) {
            map.put("resnapshot", String.join(SEPARATOR, resnapshot));
        }
        return map;
    }

    /** The offset the ingest stored, or null when there is none or it is not one of ferry's. */
    static SourceOffset fromMap(Map<String, ?> map) {
        if (map == null || !(map.get("phase") instanceof String phase) || !(map.get("capture") instanceof String capture)) {
            return null;
        }
        long seq = map.get("seq") instanceof Number n ? n.longValue() : 0;
        long version = map.get("schema_version") instanceof Number n ? n.longValue() : 0;
        Map<String, String> shapes = new LinkedHashMap<>();
        if (map.get("shapes") instanceof String s && !s.isEmpty()) {
            String[] parts = s.split(SEPARATOR, -1);
            for (int i = 0; i + 1 < parts.length; i += 2) {
                shapes.put(parts[i], parts[i + 1]);
            }
        }
        Set<String> resnapshot = new LinkedHashSet<>();
        if (map.get("resnapshot") instanceof String s && !s.isEmpty()) {
            resnapshot.addAll(Arrays.asList(s.split(SEPARATOR, -1)));
        }
        return new SourceOffset(phase, seq, capture, version, shapes, resnapshot);
    }

    boolean streaming() {
        return STREAM.equals(phase);
    }

    /** The same facts for the ingest's loop, without parsing: is this a stream offset, and is a re-read going on. */
    public static boolean isStream(Map<String, ?> map) {
        return STREAM.equals(map.get("phase"));
    }

    public static boolean isResnapshot(Map<String, ?> map) {
        return map.containsKey("resnapshot");
    }

    public static long seq(Map<String, ?> map) {
        return ((Number) map.get("seq")).longValue();
    }

    public static long schemaVersion(Map<String, ?> map) {
        return map.get("schema_version") instanceof Number n ? n.longValue() : -1;
    }

    private static String encodeShapes(Map<String, String> shapes) {
        StringBuilder sb = new StringBuilder();
        shapes.forEach((table, digest) -> sb.append(sb.length() == 0 ? "" : SEPARATOR).append(table).append(SEPARATOR).append(digest));
        return sb.toString();
    }
}
