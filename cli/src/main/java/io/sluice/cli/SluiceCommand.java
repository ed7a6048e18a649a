package io.sluice.cli;

import io.sluice.cli.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code sluice}: the operator's command line. */
@Command(name = "sluice", mixinStandardHelpOptions = true, versionProvider = SluiceCommand.Version.class,
        description = "Runs high fan-out work on Apache Kafka under hard budgets.",
        subcommands = {DemoCommand.class, SubmitCommand.class, RunsCommand.class, StatusCommand.class, WatchCommand.class,
                CancelCommand.class,
                ValidateCommand.class, BrokerCommand.class,
                CoordinatorCommand.class, WorkerCommand.class, TopicsCommand.class, AclsCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class SluiceCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        if (args.length > 0 && java.util.Set.of("coordinator", "worker", "broker").contains(args[0])) {
            // Before anything logs: a service's run lifecycle (accepted, halted, finished) is what its operator reads.
            System.setProperty("sluice.log.default", "INFO");
        }
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
        return new CommandLine(new SluiceCommand()).setCaseInsensitiveEnumValuesAllowed(true)
                .setParameterExceptionHandler(SluiceCommand::badUsage)
                .setExecutionExceptionHandler(SluiceCommand::failed);
    }

    /**
     * A command that failed: one line — a value a configuration refused (exit 2), a broker error (exit 3), anything
     * else (exit 4) — and the stack trace only with {@code SLUICE_VERBOSE=1}.
     */
    private static int failed(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        String name = cl.getCommandSpec().qualifiedName();
        boolean verbose = "1".equals(System.getenv("SLUICE_VERBOSE")) || "true".equalsIgnoreCase(System.getenv("SLUICE_VERBOSE"));
        int code;
        String what;
        if (e instanceof IllegalArgumentException) {
            code = Exit.INVALID;
            what = e.getMessage();
        } else if (e instanceof org.apache.kafka.common.KafkaException) {
            code = Exit.BROKER;
            what = "broker error: " + e.getMessage();
        } else {
            code = Exit.SERVICE_FAILED;
            what = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        cl.getErr().println(name + ": " + what
                + (verbose || code != Exit.SERVICE_FAILED ? "" : " (SLUICE_VERBOSE=1 shows the stack trace)"));
        if (verbose) {
            e.printStackTrace(cl.getErr());
        }
        cl.getErr().flush();
        return code;
    }

    /** A bad option or argument: one line naming it and where help is, exit 2 — no usage dump. */
    private static int badUsage(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        String name = cl.getCommandSpec().qualifiedName();
        cl.getErr().println(name + ": " + e.getMessage() + " (" + name + " --help)");
        cl.getErr().flush();
        return Exit.INVALID;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"sluice " + number()};
        }

        /** The version this build carries in its manifest; "dev" when run from classes. */
        static String number() {
            String v = SluiceCommand.class.getPackage().getImplementationVersion();
            return v == null ? "dev" : v;
        }
    }
}
