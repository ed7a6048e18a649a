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
 * a cluster, run on an embedded broker to its receipt (exit 0 whatever the run's status).
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
