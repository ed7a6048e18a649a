package io.sluice.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

import io.sluice.client.CancelOutcome;
import io.sluice.client.ReceiptTimeoutException;
import io.sluice.client.RunWatch;
import io.sluice.client.SluiceClient;
import io.sluice.schemas.CancelRequest;
import io.sluice.schemas.Json;
import io.sluice.schemas.Receipt;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice cancel RUN [--path NODE]}: asks the run's coordinator to halt the run, or one workflow/branch of it,
 * through the same path as a budget halt (a request on sluice.cancellations that the coordinator validates). Exit 0
 * once the node is halted (with {@code --wait}: the run's receipt, and its exit code), 2 when the coordinator refuses
 * (no such run or node, already ended or halted), 14 when no coordinator answers in time, 3 for a broker error.
 */
@Command(name = "cancel", mixinStandardHelpOptions = true,
        description = "Cancels a run, or one workflow/branch of it (--path), as a budget halt would: queued leaves "
                + "end cancelled, running ones are stopped; the receipt says who cancelled and why.")
final class CancelCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    RunTarget run;

    @Option(names = "--path", paramLabel = "NODE", description = "The workflow or branch to cancel, e.g. audit/scan "
            + "(default: the whole run); a leaf is cancelled with its branch")
    String path;

    @Option(names = "--reason", description = "Why, for the receipt")
    String reason;

    @Option(names = "--by", paramLabel = "NAME", description = "Who cancels, for the receipt (default: "
            + "$SLUICE_OPERATOR, else user@host)", defaultValue = "${env:SLUICE_OPERATOR}")
    String by;

    @Option(names = "--wait", description = "Then wait for the run's receipt, print it, and exit with its status's code")
    boolean wait;

    @Option(names = "--json", description = "With --wait: print the receipt as JSON")
    boolean json;

    @Option(names = "--timeout", description = "Longest wait for the coordinator's answer, and with --wait for the "
            + "receipt, e.g. 30s, 5m (default ${DEFAULT-VALUE})", defaultValue = "30s", converter = DurationConverter.class)
    Duration timeout;

    @Override
    public Integer call() throws Exception {
        String who = by != null && !by.isBlank() ? by.trim() : System.getProperty("user.name", "operator") + "@" + HostName.orElse("localhost");
        CancelRequest request = new CancelRequest(run.runId, path, reason, who, System.currentTimeMillis());
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String what = path == null ? "run " + run.runId : run.runId + " " + path;
        try (SluiceClient client = run.connection.client(spec.commandLine());
             RunWatch watch = wait ? client.watchReceipt(run.runId) : null) {
            CancelOutcome outcome;
            try {
                outcome = client.cancel(request, timeout);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "cannot cancel " + what + ": " + e.getMessage());
            }
            switch (outcome.verdict()) {
                case REFUSED -> {
                    err.println("sluice cancel: " + what + " refused: " + outcome.detail());
                    return Exit.INVALID;
                }
                case NO_ANSWER -> {
                    err.println("sluice cancel: " + what + ": " + outcome.detail() + "; the request stays at "
                            + outcome.where());
                    return Exit.NO_RECEIPT;
                }
                default -> err.println("cancelled " + what + ": " + outcome.detail());
            }
            if (watch == null) {
                return Exit.OK;
            }
            Receipt receipt;
            try {
                receipt = watch.await(timeout, e -> { });
            } catch (ReceiptTimeoutException e) {
                err.println("no receipt for run " + run.runId + " within " + Durations.format(timeout)
                        + ": its halted leaves are still stopping");
                return Exit.NO_RECEIPT;
            }
            if (json) {
                out.println(Json.writePretty(receipt));
            } else {
                ReceiptPrinter.print(receipt, out, false);
            }
            out.flush();
            return Exit.of(receipt.status());
        }
    }
}
