package dev.ferry.observability;

/**
 * One part of a service that {@code /health} reports on, e.g. "the writer has not failed" or "PostgreSQL answers".
 * A check passes when it returns; it fails by throwing, and the exception's message says what is wrong.
 */
@FunctionalInterface
public interface HealthCheck {

    void verify() throws Exception;
}
