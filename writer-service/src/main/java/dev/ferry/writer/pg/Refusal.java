package dev.ferry.writer.pg;

/**
 * Why a value does not fit its PostgreSQL column, thrown inside the conversion code and turned into a
 * {@link ValueConversionException} naming the column and value. Without a stack trace: it is an answer, not a fault.
 */
final class Refusal extends RuntimeException {

    Refusal(String reason) {
        super(reason, null, false, false);
    }
}
