package dev.ferry.writer.pg;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the ways SQLite applications hold a point in time, as SQLite's own date functions read them: ISO-8601 text
 * (a time without zone is UTC), Julian day numbers, Unix epoch seconds, and (beyond SQLite) Unix epoch milliseconds.
 * A number is told apart by its magnitude, extending SQLite's {@code 'auto'} modifier. Every method returns the
 * value or throws {@link Refusal} with the reason; nothing is rounded beyond what is documented.
 */
final class SqliteTime {

    // SQLite's 'auto' modifier: [0, 5373484.5) is a Julian day number, [-210866760000, 253402300799] Unix seconds
    // (years -4713 to 9999). The milliseconds range is the same span of time, counted in milliseconds.
    static final double JULIAN_DAY_END = 5373484.5;
    static final long UNIX_SECONDS_MIN = -210866760000L;
    static final long UNIX_SECONDS_MAX = 253402300799L;
    static final long UNIX_MILLIS_MIN = UNIX_SECONDS_MIN * 1000;
    static final long UNIX_MILLIS_MAX = UNIX_SECONDS_MAX * 1000 + 999;
    /** Julian day number 0, in milliseconds before the Unix epoch (SQLite's 210866760000000). */
    private static final long JULIAN_EPOCH_MILLIS = 210866760000000L;

    private static final Pattern DATE_TIME = Pattern.compile(
            "([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\\.([0-9]+))?)? *(Z|z|[+-][0-9]{2}:[0-9]{2})?)?");
    private static final Pattern TIME_OF_DAY = Pattern.compile("([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\\.([0-9]+))?)?");

    static final String TEXT_FORMATS = "YYYY-MM-DD, optionally followed by [T ]HH:MM[:SS[.fraction]] and Z or ±HH:MM";

    private SqliteTime() {
    }

    /** ISO-8601 text: {@code 2024-01-31}, {@code 2024-01-31 12:00:00}, {@code 2024-01-31T12:00:00.123Z}, {@code ...+02:00}. */
    static OffsetDateTime fromText(String text) {
        OffsetDateTime plain = plainText(text);
        return plain != null ? plain : fromTextByPattern(text);
    }

    /** {@link #fromText} by the regular expression alone (tests compare the two). */
    static OffsetDateTime fromTextByPattern(String text) {
        Matcher m = DATE_TIME.matcher(text);
        if (!m.matches()) {
            throw new Refusal("TEXT value is not an ISO-8601 date/time (" + TEXT_FORMATS + ")");
        }
        try {
            LocalDate date = LocalDate.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)));
            LocalTime time = m.group(4) == null ? LocalTime.MIDNIGHT : time(m.group(4), m.group(5), m.group(6), m.group(7));
            ZoneOffset zone = m.group(8) == null || m.group(8).equalsIgnoreCase("Z") ? ZoneOffset.UTC
                    : ZoneOffset.ofHoursMinutes(Integer.parseInt(m.group(8).substring(0, 3)),
                            Integer.parseInt(m.group(8).charAt(0) + m.group(8).substring(4)));
            return LocalDateTime.of(date, time).atOffset(zone).withOffsetSameInstant(ZoneOffset.UTC);
        } catch (DateTimeException e) {
            throw new Refusal("TEXT value is not a valid date/time (" + e.getMessage() + ")");
        }
    }

    /**
     * {@code YYYY-MM-DD} and {@code YYYY-MM-DD HH:MM:SS} (or with {@code T}), the forms SQLite's date functions and
     * CURRENT_TIMESTAMP write, read without the regular expression (it took a tenth of the writer's time in a snapshot of
     * such a column): the same value or refusal as {@link #DATE_TIME} gives them; null for any other text.
     */
    private static OffsetDateTime plainText(String t) {
        int n = t.length();
        if ((n != 10 && n != 19) || t.charAt(4) != '-' || t.charAt(7) != '-') {
            return null;
        }
        int year = digits(t, 0, 4);
        int month = digits(t, 5, 2);
        int day = digits(t, 8, 2);
        int hour = 0;
        int minute = 0;
        int second = 0;
        if (n == 19) {
            char separator = t.charAt(10);
            if ((separator != ' ' && separator != 'T') || t.charAt(13) != ':' || t.charAt(16) != ':') {
                return null;
            }
            hour = digits(t, 11, 2);
            minute = digits(t, 14, 2);
            second = digits(t, 17, 2);
        }
        if ((year | month | day | hour | minute | second) < 0) {
            return null;
        }
        try {
            return OffsetDateTime.of(year, month, day, hour, minute, second, 0, ZoneOffset.UTC);
        } catch (DateTimeException e) {
            throw new Refusal("TEXT value is not a valid date/time (" + e.getMessage() + ")");
        }
    }

    /** The number that {@code count} ASCII digits at {@code from} spell, or -1 when one is not an ASCII digit. */
    private static int digits(String t, int from, int count) {
        int value = 0;
        for (int i = from; i < from + count; i++) {
            char c = t.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    /** A time of day without zone: {@code HH:MM}, {@code HH:MM:SS}, {@code HH:MM:SS.SSS}. */
    static LocalTime timeFromText(String text) {
        Matcher m = TIME_OF_DAY.matcher(text);
        if (!m.matches()) {
            throw new Refusal("TEXT value is not a time of day (HH:MM[:SS[.fraction]], without zone)");
        }
        try {
            return time(m.group(1), m.group(2), m.group(3), m.group(4));
        } catch (DateTimeException e) {
            throw new Refusal("TEXT value is not a valid time of day (" + e.getMessage() + ")");
        }
    }

    private static LocalTime time(String hour, String minute, String second, String fraction) {
        int nanos = 0;
        if (fraction != null) {
            // PostgreSQL keeps microseconds and would round further digits away.
            String micros = fraction.length() > 6 ? fraction.substring(0, 6) : fraction;
            if (fraction.length() > 6 && !fraction.substring(6).chars().allMatch(c -> c == '0')) {
                throw new Refusal("TEXT value has more than microsecond precision, which PostgreSQL would round");
            }
            nanos = Integer.parseInt((micros + "000000").substring(0, 6)) * 1000;
        }
        return LocalTime.of(Integer.parseInt(hour), Integer.parseInt(minute), second == null ? 0 : Integer.parseInt(second), nanos);
    }

    /** An INTEGER: a Julian day number, else Unix seconds, else Unix milliseconds, by magnitude. */
    static OffsetDateTime fromInteger(long n) {
        if (n >= 0 && n < JULIAN_DAY_END) {
            return fromEpochMillis(n * 86_400_000L - JULIAN_EPOCH_MILLIS);
        }
        if (n >= UNIX_SECONDS_MIN && n <= UNIX_SECONDS_MAX) {
            return OffsetDateTime.ofInstant(Instant.ofEpochSecond(n), ZoneOffset.UTC);
        }
        if (n >= UNIX_MILLIS_MIN && n <= UNIX_MILLIS_MAX) {
            return fromEpochMillis(n);
        }
        throw outOfRange("INTEGER");
    }

    /**
     * A REAL: a Julian day number (to the millisecond, as SQLite's datetime() reads it: a double holds a current
     * Julian day only to about 40 µs), else Unix seconds or milliseconds (to the nearest microsecond).
     */
    static OffsetDateTime fromReal(double d) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            throw new Refusal("REAL value " + d + " is not a point in time");
        }
        if (d >= 0 && d < JULIAN_DAY_END) {
            // SQLite: iJD = (sqlite3_int64)(r*86400000.0 + 0.5)
            return fromEpochMillis((long) (d * 86_400_000.0 + 0.5) - JULIAN_EPOCH_MILLIS);
        }
        if (d >= UNIX_SECONDS_MIN && d <= UNIX_SECONDS_MAX) {
            return fromEpochMicros(new BigDecimal(d).movePointRight(6));
        }
        if (d >= UNIX_MILLIS_MIN && d <= UNIX_MILLIS_MAX) {
            return fromEpochMicros(new BigDecimal(d).movePointRight(3));
        }
        throw outOfRange("REAL");
    }

    private static Refusal outOfRange(String storageClass) {
        return new Refusal(storageClass + " value is neither a Julian day number (0 to 5373484.5), Unix seconds ("
                + UNIX_SECONDS_MIN + " to " + UNIX_SECONDS_MAX + ") nor Unix milliseconds (" + UNIX_MILLIS_MIN + " to " + UNIX_MILLIS_MAX + ")");
    }

    private static OffsetDateTime fromEpochMillis(long millis) {
        return OffsetDateTime.ofInstant(Instant.ofEpochMilli(millis), ZoneOffset.UTC);
    }

    private static OffsetDateTime fromEpochMicros(BigDecimal micros) {
        long us = micros.setScale(0, RoundingMode.HALF_UP).longValueExact();
        return OffsetDateTime.ofInstant(Instant.EPOCH.plus(us, ChronoUnit.MICROS), ZoneOffset.UTC);
    }
}
