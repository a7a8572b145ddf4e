package dev.ferry.embed.model;

/** Creates the model a spec names. */
public final class EmbeddingModels {

    private EmbeddingModels() {
    }

    public static EmbeddingModel create(String name) {
        return switch (name) {
            case "minilm" -> new Langchain4jMiniLm();
            default -> throw new IllegalArgumentException("unknown model '" + name + "'");
        };
    }
}
