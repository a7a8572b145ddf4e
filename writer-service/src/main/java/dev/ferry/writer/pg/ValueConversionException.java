package dev.ferry.writer.pg;

/** A SQLite value that cannot be written to its PostgreSQL column; the message says why. */
public final class ValueConversionException extends Exception {

    private final String column;

    public ValueConversionException(String column, String message) {
        super(message);
        this.column = column;
    }

    public String column() {
        return column;
    }
}
