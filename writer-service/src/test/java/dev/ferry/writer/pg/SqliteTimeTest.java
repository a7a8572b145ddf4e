package dev.ferry.writer.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The plain-text fast path of SqliteTime.fromText reads every text exactly as the regular expression does. */
class SqliteTimeTest {

    private static String outcome(java.util.function.Function<String, Object> parse, String text) {
        try {
            return String.valueOf(parse.apply(text));
        } catch (Refusal r) {
            return "refused: " + r.getMessage();
        }
    }

    @Test
    void plainDatesAndTimesReadAsThePatternReadsThem() {
        List<String> texts = new ArrayList<>(List.of("2013-06-02 17:41:09", "2013-06-02T17:41:09", "2013-06-02", "0000-01-01",
                "2024-02-29", "2023-02-29", "2024-13-01", "2024-00-10", "2024-01-32", "2024-01-31 24:00:00", "2024-01-31 23:60:00",
                "2024-01-31 23:59:60", "2024-01-31x23:59:59", "2024/01/31", "2024-01-3a", "\uff12024-01-31", "2024-01-31 12:00:0\u0661",
                "+024-01-31", "-024-01-31", "2024-01-31 12:00", "2024-01-31 12:00:00Z", "2024-01-31 12:00:00.5", " 2024-01-31",
                "2024-01-31 ", "9999-12-31 23:59:59", "", "garbage!!!", "2024-01-31 1:00:000"));
        Random random = new Random(3);
        String alphabet = "0123456789-: T/x";
        for (int i = 0; i < 20_000; i++) {
            char[] c = (i % 2 == 0 ? "2024-05-17 08:09:10" : "1999-12-31").toCharArray();
            int changes = random.nextInt(3);
            for (int k = 0; k < changes; k++) {
                c[random.nextInt(c.length)] = alphabet.charAt(random.nextInt(alphabet.length()));
            }
            texts.add(new String(c));
        }
        for (String text : texts) {
            assertEquals(outcome(SqliteTime::fromTextByPattern, text), outcome(SqliteTime::fromText, text), "'" + text + "'");
        }
    }
}
