package io.sluice.cli;

import io.sluice.cli.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code sluice}: the operator's command line. */
@Command(name = "sluice", mixinStandardHelpOptions = true, versionProvider = SluiceCommand.Version.class,
        description = "Runs high fan-out work on Apache Kafka under hard budgets.",
        subcommands = {DemoCommand.class, SubmitCommand.class, ValidateCommand.class, BrokerCommand.class,
                CoordinatorCommand.class, WorkerCommand.class, TopicsCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class SluiceCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code (for tests and embedding). */
    public static int execute(String... args) {
        return commandLine().execute(args);
    }

    /**
     * The command line, configured as {@link #execute} runs it. {@code demo}, {@code submit} and {@code validate}
     * print to its {@code getOut()} and {@code getErr()} (System.out and System.err unless set), so a test can
     * capture both.
     */
    static CommandLine commandLine() {
        return new CommandLine(new SluiceCommand()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = SluiceCommand.class.getPackage().getImplementationVersion();
            return new String[] {"sluice " + (v == null ? "dev" : v)};
        }
    }
}
