package dev.ferry.schemas;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;

/**
 * A row image as {@link EventCodec} decodes it: column names and values in two arrays, in the order of the event.
 * A row has a handful of columns, so a scan finds one faster than hashing its name, and a decoded row costs two arrays
 * instead of a hash table and a node per column (a quarter of the writer's CPU went to hash maps in snapshot profiles).
 * A full {@link Map}: equal to any map with the same entries; {@code put} and {@code remove} work, for callers that
 * change a decoded image.
 */
public final class RowImage extends AbstractMap<String, Object> {

    /**
     * Widest row that producers keep as a RowImage: its look-ups by name scan the columns, so a wider row goes in a
     * hash map (EventCodec's reader, the ingest's row reader).
     */
    public static final int MAX_SCANNED_COLUMNS = 32;

    private String[] names;
    private Object[] values;
    private int size;

    public RowImage(int expectedColumns) {
        names = new String[Math.max(expectedColumns, 1)];
        values = new Object[names.length];
    }

    private int indexOf(Object name) {
        for (int i = 0; i < size; i++) {
            if (names[i] == name) {
                return i;
            }
        }
        for (int i = 0; i < size; i++) {
            if (names[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public boolean containsKey(Object name) {
        return indexOf(name) >= 0;
    }

    @Override
    public Object get(Object name) {
        int i = indexOf(name);
        return i < 0 ? null : values[i];
    }

    @Override
    public Object put(String name, Object value) {
        Objects.requireNonNull(name, "a column name");
        int i = indexOf(name);
        if (i >= 0) {
            Object previous = values[i];
            values[i] = value;
            return previous;
        }
        append(name, value);
        return null;
    }

    /**
     * {@link #put} for a decoder whose names are shared instances (one String per distinct name): a repeated name is the
     * same object, so the scan for it compares references only.
     */
    void putShared(String name, Object value) {
        for (int i = 0; i < size; i++) {
            if (names[i] == name) {
                values[i] = value;
                return;
            }
        }
        append(name, value);
    }

    /**
     * Appends a column without looking for it first, for a producer whose names are distinct by construction (a table's
     * columns, in order): a put would scan the names already there.
     */
    public void addDistinct(String name, Object value) {
        append(Objects.requireNonNull(name, "a column name"), value);
    }

    /** The name of the {@code i}-th column, in the order of the event (no entry object, for the encoder). */
    String nameAt(int i) {
        return names[i];
    }

    /** The value of the {@code i}-th column. */
    Object valueAt(int i) {
        return values[i];
    }

    private void append(String name, Object value) {
        if (size == names.length) {
            names = Arrays.copyOf(names, size * 2);
            values = Arrays.copyOf(values, size * 2);
        }
        names[size] = name;
        values[size++] = value;
    }

    @Override
    public Object remove(Object name) {
        int i = indexOf(name);
        if (i < 0) {
            return null;
        }
        Object previous = values[i];
        removeAt(i);
        return previous;
    }

    private void removeAt(int i) {
        System.arraycopy(names, i + 1, names, i, size - i - 1);
        System.arraycopy(values, i + 1, values, i, size - i - 1);
        size--;
        names[size] = null;
        values[size] = null;
    }

    @Override
    public void clear() {
        Arrays.fill(names, 0, size, null);
        Arrays.fill(values, 0, size, null);
        size = 0;
    }

    @Override
    public Set<Entry<String, Object>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Entry<String, Object>> iterator() {
                return new Iterator<>() {
                    private int next;
                    private int last = -1;

                    @Override
                    public boolean hasNext() {
                        return next < size;
                    }

                    @Override
                    public Entry<String, Object> next() {
                        if (next >= size) {
                            throw new NoSuchElementException();
                        }
                        last = next++;
                        int at = last;
                        return new SimpleEntry<>(names[at], values[at]) {
                            @Override
                            public Object setValue(Object value) {
                                values[at] = value;
                                return super.setValue(value);
                            }
                        };
                    }

                    @Override
                    public void remove() {
                        if (last < 0) {
                            throw new IllegalStateException();
                        }
                        removeAt(last);
                        next = last;
                        last = -1;
                    }
                };
            }

            @Override
            public int size() {
                return size;
            }
        };
    }
}
