package dev.ferry.cli;

/** One line a user can act on, from an exception chain: the outermost message, plus the root cause when it adds something. */
final class ErrorMessages {

    private ErrorMessages() {
    }

    static String describe(Throwable e) {
        String message = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root != e && root.getMessage() != null && !message.contains(root.getMessage())) {
            message += " (" + root.getMessage() + ")";
        }
        return message;
    }
}
