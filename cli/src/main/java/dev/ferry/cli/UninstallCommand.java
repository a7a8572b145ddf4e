package dev.ferry.cli;

import dev.ferry.ingest.sqlite.ChangeCapture;
import dev.ferry.ingest.sqlite.SqliteFile;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "uninstall", mixinStandardHelpOptions = true,
        description = {"Removes ferry's change capture from a SQLite file: its triggers, _ferry_changelog and _ferry_state.",
                "Restores the journal mode the file had before ferry. The application's data is not touched."})
final class UninstallCommand implements Callable<Integer> {

    @Option(names = "--sqlite", required = true, paramLabel = "FILE", description = "SQLite database file of the application.")
    Path sqlite;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        try (Connection c = SqliteFile.openForWrites(sqlite)) {
            if (!ChangeCapture.installed(c)) {
                spec.commandLine().getOut().println("ferry is not installed in " + sqlite + ": nothing to do");
                return 0;
            }
            ChangeCapture.uninstall(c);
        }
        spec.commandLine().getOut().println("removed ferry's triggers and tables from " + sqlite);
        return 0;
    }
}
