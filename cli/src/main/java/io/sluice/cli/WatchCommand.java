package io.sluice.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

import io.sluice.client.ReceiptTimeoutException;
import io.sluice.client.RunStatus;
import io.sluice.client.RunWatch;
import io.sluice.client.SluiceClient;
import io.sluice.schemas.Json;
import io.sluice.schemas.Receipt;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice watch RUN}: live progress of a run (spend against limits per branch) until its receipt, then the
 * receipt — from any terminal, at any time: it starts from the run's ledger as it is and follows it from there, and a
 * run that finished already prints its receipt at once. Exit codes as {@code submit --wait}.
 */
@Command(name = "watch", mixinStandardHelpOptions = true, description = "Follows a run until it ends, then prints its receipt.")
final class WatchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    RunTarget run;

    @Option(names = "--json", description = "Print the receipt as JSON (no progress)")
    boolean json;

    @Option(names = "--leaves", description = "List every leaf in the receipt table")
    boolean leaves;

    @Option(names = "--timeout", description = "Longest wait for the receipt, e.g. 30s, 5m, 1h (default ${DEFAULT-VALUE})",
            defaultValue = "1h", converter = DurationConverter.class)
    Duration timeout;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Receipt receipt;
        try (SluiceClient client = run.connection.client(spec.commandLine());
             RunWatch watch = client.watch(run.runId)) {
            // The watch reads from the partitions' ends as they were before the status is read: whatever comes after
            // the status, the watch sees.
            RunStatus status = client.status(run.runId, StatusCommand.READ_TIMEOUT);
            if (status.receipt() != null) {
                receipt = status.receipt();
            } else {
                if (status.unknown()) {
                    err.println("no run " + run.runId + " yet; waiting for it");
                }
                ProgressView view = json ? null : new ProgressView(err, System.console() != null);
                if (view != null) {
                    status.entries().values().forEach(view::accept);
                    view.draw(true);
                }
                receipt = watch.await(timeout, entry -> {
                    if (view != null) {
                        view.accept(entry);
                        view.draw(false);
                    }
                });
                if (view != null) {
                    view.draw(true);
                }
            }
        } catch (ReceiptTimeoutException e) {
            err.println("no receipt for run " + run.runId + " within " + Durations.format(timeout) + ": it is still running");
            return Exit.NO_RECEIPT;
        }
        if (json) {
            out.println(Json.writePretty(receipt));
        } else {
            ReceiptPrinter.print(receipt, out, leaves);
        }
        out.flush();
        return Exit.of(receipt.status());
    }
}
