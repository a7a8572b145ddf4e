package dev.ferry.embed.model;

import java.time.Duration;
import java.util.OptionalLong;

/**
 * When to try an HTTP request again: connection failures, timeouts, 429 and 5xx, at most {@code attempts} attempts
 * in all, waiting {@code backoff} and doubling up to {@code maxBackoff}; a Retry-After of N seconds replaces that wait.
 */
record RetryPolicy(int attempts, Duration backoff, Duration maxBackoff) {

    static boolean retryable(int status) {
        return status == 429 || status >= 500;
    }

    /** Wait before attempt {@code attempt + 1}, after attempt {@code attempt} (1-based) failed. */
    Duration delay(int attempt, OptionalLong retryAfterSeconds) {
        if (retryAfterSeconds.isPresent()) {
            return Duration.ofSeconds(retryAfterSeconds.getAsLong());
        }
        long millis = backoff.toMillis() << Math.min(attempt - 1, 30);
        return Duration.ofMillis(Math.min(millis < 0 ? Long.MAX_VALUE : millis, maxBackoff.toMillis()));
    }

    /** The seconds of a Retry-After header; an HTTP date or garbage is ignored (the backoff applies). */
    static OptionalLong retryAfterSeconds(String header) {
        if (header == null) {
            return OptionalLong.empty();
        }
        try {
            long seconds = Long.parseLong(header.trim());
            return seconds >= 0 ? OptionalLong.of(seconds) : OptionalLong.empty();
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
