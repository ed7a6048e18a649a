package io.sluice.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.client.ReceiptTimeoutException;
import io.sluice.client.SluiceClient;
import io.sluice.schemas.Json;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Submission;
import io.sluice.schemas.SubmissionValidator;
import io.sluice.schemas.ValidationLimits;
import io.sluice.schemas.ValidationResult;
import org.apache.kafka.common.KafkaException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sluice submit FILE [--wait] [--json]}: validates and submits a workflow; with {@code --wait}, follows it to
 * its receipt, having said the run's id first (on stderr) so that an interrupted wait never loses it. Exit codes: 0
 * submitted (with --wait: succeeded); 2 invalid or refused; 3 broker error; with --wait, 10 budget_exceeded, 11
 * failed, 12 timed_out, 13 cancelled, 14 no receipt within {@code --timeout} (the run may still be running).
 */
@Command(name = "submit", mixinStandardHelpOptions = true, description = "Submits a workflow (JSON file, or - for stdin). "
        + "Without a cluster, runs it on an embedded broker and waits for its receipt.")
final class SubmitCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE")
    String file;

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--wait", description = "Wait for the run's receipt")
    boolean await;

    @Option(names = "--json", description = "Print the receipt as JSON")
    boolean json;

    @Option(names = "--leaves", description = "List every leaf in the receipt table")
    boolean leaves;

    @Option(names = "--timeout", description = "Longest wait for the receipt, e.g. 30s, 5m, 1h (default ${DEFAULT-VALUE})",
            defaultValue = "10m", converter = DurationConverter.class)
    Duration timeout;

    @Option(names = "--workers", description = "With the embedded broker: worker instances (default ${DEFAULT-VALUE})", defaultValue = "3")
    int workers;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        byte[] bytes;
        try {
            bytes = SubmissionInput.read(file, ValidationLimits.DEFAULTS);
        } catch (SubmissionInput.InputException e) {
            err.println(e.getMessage());
            return Exit.INVALID;
        }
        ValidationResult result = new SubmissionValidator(ValidationLimits.DEFAULTS).validate(bytes);
        if (!result.isValid()) {
            err.println("invalid submission " + file + ":");
            result.errors().forEach(e -> err.println("  " + e));
            return Exit.INVALID;
        }
        Submission submission = result.submission();
        if (submission.runId() == null) {
            submission = submission.withRunId(SluiceClient.newRunId());
        }
        String bootstrap = connection.bootstrapOrNull();
        try {
            if (bootstrap == null) {
                // No cluster given: run the whole system here, on an embedded broker, for this one run.
                try (EmbeddedSluice sluice = EmbeddedSluice.start(null, workers, 8, new SimpleMeterRegistry())) {
                    return waitAndPrint(sluice.bootstrapServers(), submission, true, true);
                }
            }
            ClusterProbe.requireReachable(bootstrap, connection.clientProperties());
            return waitAndPrint(bootstrap, submission, await, false);
        } catch (ReceiptTimeoutException e) {
            err.println("no receipt for run " + e.runId() + " within " + Durations.format(e.waited())
                    + ": it may still be running");
            return Exit.NO_RECEIPT;
        } catch (KafkaException | IllegalStateException e) {
            err.println("broker error: " + e.getMessage());
            return Exit.BROKER;
        }
    }

    private int waitAndPrint(String bootstrap, Submission submission, boolean wait, boolean embedded) {
        PrintWriter out = spec.commandLine().getOut();
        if (!wait) {
            try (SluiceClient client = new SluiceClient(bootstrap, connection.clientProperties())) {
                client.submit(submission);
            }
            out.println(json ? "{\"run_id\": \"" + submission.runId() + "\"}" : "submitted run " + submission.runId());
            return Exit.OK;
        }
        PrintWriter err = spec.commandLine().getErr();
        Receipt receipt = RunDriver.submitAndWait(bootstrap, connection.clientProperties(), submission, timeout,
                json ? null : err, runId -> {
                    err.println("submitted run " + runId + (embedded ? "; running it on an embedded broker"
                            : "; waiting for its receipt (Ctrl-C stops the wait, not the run)"));
                    err.flush();
                });
        if (json) {
            out.println(Json.writePretty(receipt));
        } else {
            ReceiptPrinter.print(receipt, out, leaves);
        }
        // REJECTED: this submission itself was refused (its run id was taken, say), exit 2.
        return Exit.of(receipt.status());
    }
}
