package dev.ferry.embed;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Vectors by content: SHA-256 of the model and the text. An update that leaves a row's text as it was (only other
 * columns changed) finds its vector here and does not call the model. Least recently used entries go first.
 */
final class ContentCache {

    private final Map<Key, float[]> entries;

    ContentCache(int capacity) {
        this.entries = new LinkedHashMap<>(Math.min(capacity, 1 << 16), 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, float[]> eldest) {
                return size() > capacity;
            }
        };
    }

    static Key key(String model, String text) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(model.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(text.getBytes(StandardCharsets.UTF_8));
            return new Key(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    synchronized float[] get(Key key) {
        return entries.get(key);
    }

    synchronized void put(Key key, float[] vector) {
        entries.put(key, vector);
    }

    synchronized int size() {
        return entries.size();
    }

    /** A content hash, compared by value. */
    record Key(byte[] sha256) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && java.util.Arrays.equals(sha256, k.sha256);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(sha256);
        }
    }
}
