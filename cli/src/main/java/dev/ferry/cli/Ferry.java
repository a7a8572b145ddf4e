package dev.ferry.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ferry} command. Exit codes: 0 success, 1 failure at run time, 2 bad usage or configuration. */
@Command(name = "ferry", mixinStandardHelpOptions = true, version = "ferry 0.1.0",
        description = "Moves a live application from SQLite to PostgreSQL + pgvector without downtime, through Kafka.",
        subcommands = {UpCommand.class, IngestCommand.class, WriteCommand.class, EmbedCommand.class, SchemaCommand.class, StatusCommand.class, CutoverCommand.class, DlqCommand.class, UninstallCommand.class, DemoCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:failure while running (see the message)", "2:bad usage or configuration"})
public final class Ferry implements Runnable {

    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Ferry()).setOut(out).setErr(err);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("ferry: " + ErrorMessages.describe(e));
            return e instanceof IllegalArgumentException ? EXIT_USAGE : EXIT_FAILURE;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
