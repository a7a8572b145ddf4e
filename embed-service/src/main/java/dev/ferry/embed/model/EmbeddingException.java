package dev.ferry.embed.model;

/** The model or its server failed to embed a batch. */
public final class EmbeddingException extends Exception {

    private final boolean transientFailure;

    EmbeddingException(String message, boolean transientFailure, Throwable cause) {
        super(message, cause);
        this.transientFailure = transientFailure;
    }

    EmbeddingException(String message, boolean transientFailure) {
        this(message, transientFailure, null);
    }

    /**
     * True when the failure may go away by itself (server overloaded or unreachable after every retry, interrupted):
     * the same batch may be tried again later. False when the same request will fail again (refused by the server,
     * wrong dimensions, a model error).
     */
    public boolean transientFailure() {
        return transientFailure;
    }
}
