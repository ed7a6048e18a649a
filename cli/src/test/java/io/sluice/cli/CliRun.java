package io.sluice.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import picocli.CommandLine;

import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * One {@code sluice …} invocation, run in this JVM as a user runs it, with its exit code and what it printed to
 * stdout and stderr (picocli's writers; logging goes to the real System.err and is not captured).
 */
record CliRun(List<String> args, int exitCode, String out, String err) {

    static CliRun sluice(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = SluiceCommand.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exitCode = cli.execute(args);
        return new CliRun(List.of(args), exitCode, out.toString(), err.toString());
    }

    /**
     * Commands given no {@code --bootstrap-servers} fall back to $SLUICE_BOOTSTRAP_SERVERS before starting an
     * embedded broker: a test of the embedded path must not run against whatever cluster that names.
     */
    static void assumeNoClusterInEnvironment() {
        String env = System.getenv("SLUICE_BOOTSTRAP_SERVERS");
        assumeThat(env == null || env.isBlank()).as("SLUICE_BOOTSTRAP_SERVERS is unset").isTrue();
    }

    /** Everything the invocation printed, for assertion messages. */
    @Override
    public String toString() {
        return "sluice " + String.join(" ", args) + " → exit " + exitCode
                + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
    }
}
