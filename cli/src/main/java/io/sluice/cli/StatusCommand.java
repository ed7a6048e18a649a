package io.sluice.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

import io.sluice.client.RunStatus;
import io.sluice.client.SluiceClient;
import io.sluice.schemas.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice status RUN}: where a run stands — its receipt once it finished (also long ago: receipts stay for the
 * results topic's retention), else its ledger now. Exit 0 when the run is found (whatever its status), 2 when the
 * cluster knows nothing of it, 3 for a broker error.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Shows a run: its receipt once it finished, else its ledger now.")
final class StatusCommand implements Callable<Integer> {

    static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    @Spec
    CommandSpec spec;

    @Mixin
    RunTarget run;

    @Option(names = "--json", description = "Print the receipt (or the ledger entries of a run still going) as JSON")
    boolean json;

    @Option(names = "--leaves", description = "List every leaf in the table")
    boolean leaves;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        RunStatus status;
        try (SluiceClient client = run.connection.client(spec.commandLine())) {
            status = client.status(run.runId, READ_TIMEOUT);
        }
        if (status.unknown()) {
            spec.commandLine().getErr().println("sluice status: no run " + run.runId + " on "
                    + run.connection.bootstrapOrNull()
                    + " (never submitted, or its records are past their retention)");
            return Exit.INVALID;
        }
        if (status.receipt() != null) {
            if (json) {
                out.println(Json.writePretty(status.receipt()));
            } else {
                ReceiptPrinter.print(status.receipt(), out, leaves);
            }
        } else if (json) {
            out.println(Json.writePretty(status.entries().values()));
        } else {
            ReceiptPrinter.printProgress(run.runId, status.entries().values(), out, leaves);
        }
        out.flush();
        return Exit.OK;
    }
}
