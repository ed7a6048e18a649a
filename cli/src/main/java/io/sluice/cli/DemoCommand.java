package io.sluice.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.client.SluiceClient;
import io.sluice.schemas.Json;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice demo}: a real broker, a coordinator and three workers in this process run a 550-leaf
 * workflow whose "deep-dive" branch is sized to overrun its budget; live progress, then the receipt.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Runs a built-in 550-leaf workflow on an embedded broker with 3 workers and prints its receipt.")
final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--json", description = "Print the receipt as JSON instead of a table")
    boolean json;

    @Option(names = "--mode", description = "strict (default) or optimistic", defaultValue = "strict")
    String mode;

    @Option(names = "--workers", description = "Worker instances (default ${DEFAULT-VALUE})", defaultValue = "3")
    int workers;

    @Option(names = "--concurrency", description = "Leaves each worker runs at once (default ${DEFAULT-VALUE})", defaultValue = "8")
    int concurrency;

    @Option(names = "--leaves", description = "List every leaf in the receipt table")
    boolean leaves;

    @Option(names = "--seed", description = "Seed of the generated workflow (default ${DEFAULT-VALUE})", defaultValue = "42")
    long seed;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter info = json ? spec.commandLine().getErr() : out;
        Mode m = Mode.fromWire(mode.toLowerCase());
        info.println("Starting " + (connection.bootstrapOrNull() == null ? "an embedded Kafka broker, " : "")
                + "a coordinator and " + workers + " workers…");
        if (connection.bootstrapOrNull() != null) {
            ClusterProbe.requireReachable(connection.bootstrapOrNull(), connection.clientProperties());
        }
        try (EmbeddedSluice sluice = EmbeddedSluice.start(connection.bootstrapOrNull(), workers, concurrency, new SimpleMeterRegistry())) {
            Submission submission = DemoWorkflow.build("demo-" + SluiceClient.newRunId().substring(4), m, seed);
            info.printf("Kafka at %s. Submitting run %s (%s): %d leaves in 3 branches, deep-dive sized to overrun.%n%n",
                    sluice.bootstrapServers(), submission.runId(), m.wire(),
                    DemoWorkflow.RESEARCH_LEAVES + DemoWorkflow.SUMMARY_LEAVES + DemoWorkflow.DEEP_DIVE_LEAVES);
            Receipt receipt = RunDriver.submitAndWait(sluice.bootstrapServers(), connection.clientProperties(), submission,
                    Duration.ofMinutes(3), json ? null : info);
            if (json) {
                out.println(Json.writePretty(receipt));
            } else {
                ReceiptPrinter.print(receipt, out, leaves);
            }
            boolean finished = receipt.status().isTerminal() && receipt.status() != Status.REJECTED;
            boolean within = ReceiptPrinter.withinBudget(receipt);
            if (m == Mode.OPTIMISTIC) {
                // Overshoot is what optimistic mode is for: the run behaved as budgeted if it was reported.
                info.println(within ? "\nOptimistic mode: no budget was crossed this time."
                        : "\nOptimistic mode, as the seed system: budgets were crossed and the overshoot is on the receipt.");
                return finished ? Exit.OK : Exit.BUDGET_VIOLATED;
            }
            boolean ok = finished && within;
            info.println(ok ? "\nThe run behaved as budgeted: no node spent beyond any of its limits."
                    : "\nBUDGET VIOLATED: a node spent more than its limit.");
            return ok ? Exit.OK : Exit.BUDGET_VIOLATED;
        }
    }

}
