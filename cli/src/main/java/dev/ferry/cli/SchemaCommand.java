package dev.ferry.cli;

import dev.ferry.ingest.connect.SqliteSourceConfig;
import dev.ferry.ingest.sqlite.SchemaReader;
import dev.ferry.ingest.sqlite.SqliteFile;
import dev.ferry.ingest.sqlite.TableInfo;
import dev.ferry.writer.pg.PgIdentifiers;
import dev.ferry.writer.pg.SchemaTranslation;
import dev.ferry.writer.pg.TypeMapping;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "schema", mixinStandardHelpOptions = true,
        description = {"Prints the PostgreSQL DDL that ferry would run for a SQLite file, and a report of every lossy or uncertain decision.",
                "Reads the file only; connects to nothing. The output is SQL: the report is in comments at the end.",
                "Tables first, then expression defaults, indexes (built after each table's snapshot), foreign keys (NOT VALID) and CHECK constraints."})
final class SchemaCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--sqlite", required = true, paramLabel = "FILE", description = "SQLite database file of the application.")
    Path sqlite;

    @Option(names = "--target-schema", paramLabel = "SCHEMA", defaultValue = "public",
            description = "PostgreSQL schema that receives the tables (default: ${DEFAULT-VALUE}).")
    String targetSchema;

    @Option(names = "--tables", paramLabel = "REGEX", description = "Only the tables whose whole name matches this regular expression.")
    String tables;

    @Option(names = "--type-override", paramLabel = "TABLE.COLUMN=TYPE",
            description = {"PostgreSQL type for one column, as for ferry up; repeatable."})
    List<String> typeOverrides = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        TypeMapping types = TypeMapping.withOverrides(UpCommand.Options.typeOverrides(typeOverrides));
        java.util.regex.Pattern include;
        try {
            include = tables == null ? null : SqliteSourceConfig.tablePattern(tables);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException("--tables '" + tables + "' is not a valid regular expression: " + e.getDescription());
        }
        List<TableInfo> read;
        List<SchemaReader.NotCopied> notCopied;
        try (Connection c = SqliteFile.open(sqlite)) {
            read = SchemaReader.readTables(c, include);
            notCopied = SchemaReader.notCopied(c, include);
        }
        List<SchemaTranslation> translations = new ArrayList<>();
        for (TableInfo table : read) {
            var event = table.schemaEvent(SourceNames.fromFile(sqlite), true);
            translations.add(SchemaTranslation.of(targetSchema, event, types, SchemaTranslation.wantsCitext(event, types), true));
        }
        print(spec.commandLine().getOut(), translations, notCopied);
        return 0;
    }

    private void print(PrintWriter out, List<SchemaTranslation> translations, List<SchemaReader.NotCopied> notCopied) {
        out.println("-- ferry schema: " + sqlite + " -> PostgreSQL schema " + PgIdentifiers.quote(targetSchema) + ", "
                + translations.size() + " table(s)");
        out.println("CREATE SCHEMA IF NOT EXISTS " + PgIdentifiers.quote(targetSchema) + ";");
        if (translations.stream().anyMatch(t -> t.table().columns().stream().anyMatch(c -> c.ddlType().equals("citext")))) {
            out.println("-- COLLATE NOCASE columns are citext; without the extension the writer makes them text (and says so)");
            out.println("CREATE EXTENSION IF NOT EXISTS citext;");
        }
        out.println();
        out.println("-- tables");
        translations.forEach(t -> {
            out.println(t.table().createSql() + ";");
            t.defaults().forEach(s -> out.println(s.sql() + ";"));
        });
        section(out, "-- indexes: built when each table's snapshot is loaded", translations.stream().flatMap(t -> t.indexes().stream()).toList());
        section(out, "-- foreign keys: NOT VALID (new rows only; validate at cutover); the writer's session has session_replication_role = replica",
                translations.stream().flatMap(t -> t.foreignKeys().stream()).toList());
        section(out, "-- CHECK constraints: NOT VALID", translations.stream().flatMap(t -> t.checks().stream()).toList());
        List<String> notes = new ArrayList<>(translations.stream().flatMap(t -> t.notes().stream()).map(String::valueOf).toList());
        notCopied.forEach(o -> notes.add(o + ": not copied, ferry copies tables: " + o.hint()));
        out.println();
        out.println("-- report: " + notes.size() + " lossy or uncertain decision(s)");
        notes.forEach(n -> out.println("--   " + n));
        out.flush();
    }

    private static void section(PrintWriter out, String heading, List<SchemaTranslation.Statement> statements) {
        if (statements.isEmpty()) {
            return;
        }
        out.println();
        out.println(heading);
        statements.forEach(s -> out.println(s.sql() + ";"));
    }
}
