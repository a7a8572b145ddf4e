package dev.ferry.writer.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** COPY text as PostgreSQL reads it; the in-place writers give exactly the text of the String forms. */
class CopyTextTest {

    private static String row(Object... values) {
        CopyBuffer out = new CopyBuffer(16);
        CopyText.appendRow(out, values);
        return new String(out.array(), 0, out.size(), StandardCharsets.UTF_8);
    }

    @Test
    void longsAreTheirDecimalDigits() {
        Random random = new Random(7);
        long[] edges = {0, 1, -1, 9, 10, -10, 99, 100, Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE + 1, Integer.MAX_VALUE + 1L};
        for (long v : edges) {
            assertEquals(v + "\n", row(v));
        }
        for (int i = 0; i < 10_000; i++) {
            long v = random.nextLong() >> random.nextInt(64);
            assertEquals(v + "\n", row(v));
        }
        // Every power of ten and its neighbours, where the digit count changes.
        for (long p = 1; p > 0 && p <= Long.MAX_VALUE / 10 * 10; p *= 10) {
            for (long v : new long[] {p - 1, p, p + 1, -p, -p + 1}) {
                assertEquals(v + "\n", row(v));
            }
            if (p > Long.MAX_VALUE / 10) {
                break;
            }
        }
    }

    @Test
    void timestampsAreWrittenAsDateTimeRendersThem() {
        Random random = new Random(11);
        OffsetDateTime[] edges = {
            OffsetDateTime.of(2013, 6, 2, 17, 41, 9, 0, ZoneOffset.UTC),
            OffsetDateTime.of(1, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC),
            OffsetDateTime.of(0, 12, 31, 23, 59, 59, 999_999_000, ZoneOffset.UTC),
            OffsetDateTime.of(-4713, 11, 24, 12, 0, 0, 500, ZoneOffset.UTC),
            OffsetDateTime.of(9999, 12, 31, 23, 59, 59, 1000, ZoneOffset.UTC),
            OffsetDateTime.of(2024, 1, 1, 0, 30, 0, 0, ZoneOffset.ofHoursMinutes(2, 0)),
            OffsetDateTime.of(2024, 12, 31, 23, 30, 0, 0, ZoneOffset.ofHoursMinutes(-5, -30)),
        };
        for (OffsetDateTime t : edges) {
            assertEquals(CopyText.dateTime(t) + "\n", row(t), t.toString());
        }
        for (int i = 0; i < 10_000; i++) {
            LocalDate d = LocalDate.ofEpochDay(random.nextInt(4_000_000) - 3_000_000);
            LocalTime time = LocalTime.ofNanoOfDay(Math.floorMod(random.nextLong(), 86_400_000_000_000L) / (i % 3 == 0 ? 1 : 1000) * (i % 3 == 0 ? 1 : 1000));
            ZoneOffset zone = i % 4 == 0 ? ZoneOffset.ofTotalSeconds((random.nextInt(36) - 18) * 3600) : ZoneOffset.UTC;
            OffsetDateTime t = OffsetDateTime.of(d, time, zone);
            assertEquals(CopyText.dateTime(t) + "\n", row(t), t.toString());
        }
    }

    @Test
    void textIsEscapedAndEveryOtherByteKept() {
        assertEquals("a\\\\b\\nc\\rd\\te\tx\u00e9\u4e2d\ud83d\ude00\u0001\n", row("a\\b\nc\rd\te", "x\u00e9\u4e2d\ud83d\ude00\u0001"));
        assertEquals("\\N\t\t1.5\tt\n", row(null, "", 1.5, true));
        assertEquals("\\\\x00ff10\n", row((Object) new byte[] {0, (byte) 0xff, 0x10}));
    }
}
