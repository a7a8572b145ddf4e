package dev.ferry.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.schemas.avro.ChangeEvent;
import dev.ferry.schemas.avro.Op;
import dev.ferry.schemas.avro.Source;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The decoded row image is a Map like any other: the writer and the embed service read it, some callers change it. */
class RowImageTest {

    @Test
    void behavesAsAHashMapWithTheSameEntries() {
        RowImage image = new RowImage(2);
        Map<String, Object> expected = new HashMap<>();
        for (String[] kv : new String[][] {{"id", "1"}, {"name", "x"}, {"Name", "case differs"}, {"", "empty name"}, {"id", "2"}}) {
            assertEquals(expected.put(kv[0], kv[1]), image.put(kv[0], kv[1]), kv[0]);
        }
        image.put("nothing", null);
        expected.put("nothing", null);
        assertEquals(expected, image);
        assertEquals(image, expected);
        assertEquals(expected.hashCode(), image.hashCode());
        assertEquals("2", image.get(new String("id")), "found by equals, not only by identity");
        assertTrue(image.containsKey("nothing"));
        assertNull(image.get("missing"));
        assertEquals("x", image.remove("name"));
        expected.remove("name");
        assertEquals(expected, image);
        for (Iterator<Map.Entry<String, Object>> it = image.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Object> e = it.next();
            if (e.getKey().isEmpty()) {
                it.remove();
            } else if (e.getKey().equals("Name")) {
                e.setValue("changed");
            }
        }
        expected.remove("");
        expected.put("Name", "changed");
        assertEquals(expected, image);
        image.clear();
        assertTrue(image.isEmpty());
        assertFalse(image.containsKey("id"));
    }

    @Test
    void decodedImagesKeepEveryColumnAndValueOfSmallAndWideRows() {
        for (int columns : new int[] {0, 1, 8, RowImage.MAX_SCANNED_COLUMNS, RowImage.MAX_SCANNED_COLUMNS + 1, 300}) {
            Map<String, Object> after = new LinkedHashMap<>();
            for (int i = 0; i < columns; i++) {
                Object v = switch (i % 5) {
                    case 0 -> null;
                    case 1 -> (long) i;
                    case 2 -> i + 0.5;
                    case 3 -> "text " + i;
                    default -> ByteBuffer.wrap(new byte[] {(byte) i});
                };
                after.put("c" + i, v);
            }
            ChangeEvent event = new ChangeEvent(null, after, Op.c, new Source("s", "t", 1L, false, 2L), 3L);
            ChangeEvent decoded = EventCodec.decodeChange(EventCodec.encodeChange(event));
            assertEquals(after, decoded.getAfter(), columns + " columns");
            if (columns <= RowImage.MAX_SCANNED_COLUMNS) {
                assertInstanceOf(RowImage.class, decoded.getAfter());
            }
            // A second row of the same table shares the names of the first.
            ChangeEvent again = EventCodec.decodeChange(EventCodec.encodeChange(event));
            for (String name : after.keySet()) {
                String first = decoded.getAfter().keySet().stream().filter(name::equals).findFirst().orElseThrow();
                String second = again.getAfter().keySet().stream().filter(name::equals).findFirst().orElseThrow();
                assertTrue(first == second, "one String per column name: " + name);
            }
        }
    }
}
