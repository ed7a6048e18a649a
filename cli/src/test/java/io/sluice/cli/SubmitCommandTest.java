package io.sluice.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import io.sluice.schemas.Json;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static io.sluice.cli.CliRun.sluice;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code sluice submit FILE}: validated before anything starts (exit 2, the validator's words on stderr); without
 * a cluster, run on an embedded broker to its receipt (exit 0 for succeeded, 10–13 for the other statuses).
 */
class SubmitCommandTest {

    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void shouldRunAValidSubmissionOnAnEmbeddedBrokerAndPrintItsReceipt() throws IOException {
        // given
        CliRun.assumeNoClusterInEnvironment();
        Path file = Examples.copy("submission.audit.json", dir);
        assertThat(Json.mapper().readTree(file.toFile()).has("run_id")).as("the example names no run id").isFalse();

        // when
        CliRun run = sluice("submit", file.toString(), "--json");

        // then: stdout is the receipt and nothing else; the run got a fresh id, so following the README twice works
        assertThat(run.exitCode()).as(run::toString).isEqualTo(Exit.OK);
        Receipt receipt = Json.read(run.out().getBytes(StandardCharsets.UTF_8), Receipt.class);
        assertThat(receipt.runId()).startsWith("run-");
        assertThat(receipt.status().isTerminal()).as("terminal status, got %s", receipt.status()).isTrue();
        // the example is sized to fit its budgets: 200 tokens spent of the scan branch's 600
        assertThat(receipt.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(receipt.nodes()).extracting(LedgerEntry::path)
                .contains("audit", "audit/scan", "audit/scan/readme", "audit/summary");
        assertThat(ReceiptPrinter.withinBudget(receipt)).isTrue();
    }

    @Test
    @Timeout(120)
    void shouldSayTheRunIdFirstAndExitWithTheRunsStatus() throws IOException {
        // given: a leaf that needs more than its own budget allows
        CliRun.assumeNoClusterInEnvironment();
        Path file = dir.resolve("over.json");
        Files.writeString(file, """
                {"workflow": {"id": "over", "nodes": [{"kind": "leaf", "id": "big", "executor": "simulated",
                  "budget": {"max_tokens": 100}, "input": {"turns": [{"input_tokens": 50, "output_tokens": 500}]}}]}}
                """);

        // when
        CliRun run = sluice("submit", file.toString(), "--json", "--timeout", "90s");

        // then: exit 10 for budget_exceeded; the run id on stderr before the receipt on stdout
        assertThat(run.exitCode()).as(run::toString).isEqualTo(Exit.RUN_BUDGET_EXCEEDED);
        Receipt receipt = Json.read(run.out().getBytes(StandardCharsets.UTF_8), Receipt.class);
        assertThat(receipt.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(run.err()).contains("submitted run " + receipt.runId());
    }

    @Test
    void shouldRefuseATimeoutThatIsNoDurationInOneLine() throws IOException {
        // when
        CliRun run = sluice("submit", Examples.copy("submission.minimal.json", dir).toString(), "--timeout", "soon");

        // then
        assertThat(run.exitCode()).isEqualTo(Exit.INVALID);
        assertThat(run.err().lines().findFirst().orElse("")).contains("not a duration: 'soon' (e.g. 10s, 5m, 1h or PT10M)");
    }

    @Test
    void shouldReadDurationsAsPeopleWriteThem() {
        assertThat(Durations.parse("10s")).isEqualTo(java.time.Duration.ofSeconds(10));
        assertThat(Durations.parse("5m")).isEqualTo(java.time.Duration.ofMinutes(5));
        assertThat(Durations.parse("250ms")).isEqualTo(java.time.Duration.ofMillis(250));
        assertThat(Durations.parse("PT1H")).isEqualTo(java.time.Duration.ofHours(1));
        assertThat(Durations.format(java.time.Duration.ofSeconds(90))).isEqualTo("90s");
        assertThat(Durations.format(java.time.Duration.ofMinutes(10))).isEqualTo("10m");
        assertThat(Exit.of(Status.SUCCEEDED)).isZero();
        assertThat(Exit.of(Status.TIMED_OUT)).isEqualTo(Exit.RUN_TIMED_OUT);
        assertThat(Exit.of(Status.REJECTED)).isEqualTo(Exit.INVALID);
    }

    @Test
    void shouldRefuseAnInvalidSubmissionWithTheValidatorsMessage() throws IOException {
        // given
        Path file = dir.resolve("negative.json");
        Files.writeString(file, """
                {"run_id": "negative-1", "workflow": {"id": "wf", "budget": {"max_tokens": -5},
                  "nodes": [{"kind": "leaf", "id": "only", "executor": "simulated"}]}}
                """);

        // when
        CliRun run = sluice("submit", file.toString(), "--json");

        // then
        assertThat(run.exitCode()).as(run::toString).isEqualTo(Exit.INVALID);
        assertThat(run.out()).isEmpty();
        assertThat(run.err().lines()).containsExactly(
                "invalid submission " + file + ":",
                "  workflow.budget.max_tokens: must be ≥ 0, got -5");
    }

    @Test
    void shouldRefuseAMissingFile() {
        // given
        Path missing = dir.resolve("missing.json");

        // when
        CliRun run = sluice("submit", missing.toString());

        // then
        assertThat(run.exitCode()).as(run::toString).isEqualTo(Exit.INVALID);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).startsWith("cannot read " + missing + ": ");
    }
}
