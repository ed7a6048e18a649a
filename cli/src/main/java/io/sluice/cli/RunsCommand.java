package io.sluice.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import io.sluice.client.RunList;
import io.sluice.client.SluiceClient;
import io.sluice.schemas.Json;
import io.sluice.schemas.Status;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sluice runs}: the runs a cluster knows, newest first — id, status, mode, spend against limit, age. */
@Command(name = "runs", mixinStandardHelpOptions = true, description = "Lists runs, newest first.")
final class RunsCommand implements Callable<Integer> {

    static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

    @Spec
    CommandSpec spec;

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--status", paramLabel = "STATUS", description = "Only runs with this status (running, succeeded, "
            + "budget_exceeded, failed, timed_out, cancelled, rejected, pending)")
    String status;

    @Option(names = "--json", description = "Print the list as JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Status only = null;
        if (status != null) {
            try {
                only = Status.fromWire(status.trim().toLowerCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--status: " + e.getMessage());
            }
        }
        List<RunList.Summary> runs;
        try (SluiceClient client = connection.client(spec.commandLine())) {
            runs = client.runs(READ_TIMEOUT);
        }
        Status filter = only;
        List<RunList.Summary> shown = runs.stream().filter(r -> filter == null || r.status() == filter).toList();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.writePretty(shown));
        } else {
            out.printf("%-40s %-16s %-10s %23s %6s%n", "RUN", "STATUS", "MODE", "TOKENS SPENT/LIMIT", "AGE");
            long now = System.currentTimeMillis();
            for (RunList.Summary r : shown) {
                out.printf("%-40s %-16s %-10s %23s %6s%n", r.runId(), r.retired() ? "(retired)" : r.status() == null ? "-"
                        : r.status().wire(), r.mode() == null ? "-" : r.mode().wire(),
                        r.spentTokens() + " / " + (r.limitTokens() == null ? "-" : r.limitTokens()), age(now - r.startedAtMs()));
            }
        }
        out.flush();
        return Exit.OK;
    }

    /** "42s", "7m", "3h", "2d". */
    static String age(long ms) {
        long s = Math.max(0, ms / 1000);
        return s < 60 ? s + "s" : s < 3600 ? s / 60 + "m" : s < 172_800 ? s / 3600 + "h" : s / 86_400 + "d";
    }
}
