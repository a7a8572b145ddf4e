package dev.ferry.cli;

import java.nio.file.Path;
import java.util.Locale;

/** The default logical source name: the SQLite file name without extension, in topic-safe characters. */
final class SourceNames {

    private SourceNames() {
    }

    static String fromFile(Path sqlite) {
        String name = sqlite.getFileName().toString();
        int dot = name.lastIndexOf('.');
        if (dot > 0) {
            name = name.substring(0, dot);
        }
        String cleaned = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_-]", "_");
        return cleaned.isEmpty() || cleaned.startsWith("_") ? "app" + cleaned : cleaned;
    }
}
