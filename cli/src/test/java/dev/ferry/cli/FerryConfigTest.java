package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.ferry.embed.EmbeddingSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FerryConfigTest {

    @TempDir
    Path dir;

    private FerryConfig load(String yaml) throws Exception {
        Path file = dir.resolve("ferry.yaml");
        Files.writeString(file, yaml);
        return FerryConfig.load(file);
    }

    private String error(String yaml) {
        return assertThrows(IllegalArgumentException.class, () -> load(yaml)).getMessage();
    }

    @Test
    void aSpecGetsItsDefaultsAndTheTuningItsValues() throws Exception {
        FerryConfig c = load("""
                embeddings:
                  - table: document_chunks
                    text: "{title}: {text}"
                    column: embedding_vector
                    index: IVFFlat
                embed:
                  batch_size: 16
                  max_wait_ms: 20
                  threads: 2
                """);
        EmbeddingSpec s = c.embeddings().get(0);
        assertEquals("document_chunks", s.table());
        assertEquals(java.util.List.of("title", "text"), s.template().columns());
        assertEquals("embedding_vector_model", s.modelColumn());
        assertEquals("minilm", s.model());
        assertEquals("ivfflat", s.index());
        assertEquals(new FerryConfig.Embed(16, java.time.Duration.ofMillis(20), 2, 50_000), c.embed());
    }

    @Test
    void modelsAreDeclaredByNameWithTheirProviderOptionsAndChecked() throws Exception {
        FerryConfig c = load("""
                models:
                  remote:
                    provider: openai
                    name: text-embedding-3-small
                    base_url: http://127.0.0.1:8080
                    api_key_env: ""
                embeddings:
                  - table: notes
                    text: body
                    model: remote
                  - table: docs
                    text: body
                    model: minilm-q
                """);
        assertEquals("openai", c.models().get("remote").get("model.provider"));
        assertEquals("http://127.0.0.1:8080", c.models().get("remote").get("model.base.url"));
        assertTrue(error("models:\n  remote:\n    provider: openai\n    nmae: x\n").contains("models.remote"));
        assertTrue(error("models:\n  remote:\n    provider: gpt\n").contains("models.remote"));
        assertTrue(error("embeddings:\n  - table: t\n    text: b\n    model: nowhere\n")
                .contains("embeddings[0].model 'nowhere' is neither under models: nor one of"));
    }

    @Test
    void everyBadKeyOrValueIsNamedByItsPath() {
        assertTrue(error("embeddings:\n  - table: t\n    txt: body\n").contains("unknown key embeddings[0].txt"));
        assertTrue(error("embeddings:\n  - table: t\n").contains("embeddings[0].text is required"));
        assertTrue(error("embeddings:\n  - table: t\n    text: body\n    index: btree\n").contains("embeddings[0].index 'btree'"));
        assertTrue(error("embeddings:\n  - table: t\n    text: \"{body\"\n").contains("embeddings[0].text '{body'"));
        assertTrue(error("embed:\n  threads: 0\n").contains("embed.threads must be an integer from 1"));
        assertTrue(error("model: x\n").contains("unknown key model"));
        assertTrue(error("embeddings: [1, 2\n").contains("not valid YAML"));
    }

    @Test
    void theComposeAndKubernetesExamplesAreValidAndEmbedTheKnowledgebaseChunks() throws Exception {
        Path deploy = Path.of("").toAbsolutePath().getParent().resolve("deploy");
        FerryConfig compose = FerryConfig.load(deploy.resolve("compose/ferry.yaml"));
        String configMap = null;
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        try (MappingIterator<JsonNode> docs = yaml.readerFor(JsonNode.class).readValues(deploy.resolve("k8s/config.yaml").toFile())) {
            while (docs.hasNext()) {
                JsonNode doc = docs.next();
                if (doc.path("kind").asText().equals("ConfigMap") && doc.path("metadata").path("name").asText().equals("ferry-config")) {
                    configMap = doc.path("data").path("ferry.yaml").asText();
                }
            }
        }
        assertNotNull(configMap, "deploy/k8s/config.yaml has the ConfigMap ferry-config with ferry.yaml");
        assertEquals(compose, FerryConfig.parse(yaml.readTree(configMap)), "compose and Kubernetes carry the same configuration");
        assertEquals(java.util.List.of(new EmbeddingSpec("document_chunks", "text", "embedding_vector", "embedding_vector_model", "minilm",
                "hnsw", null, null)), compose.embeddings());
        assertEquals(FerryConfig.Embed.DEFAULTS, compose.embed());
    }
}
