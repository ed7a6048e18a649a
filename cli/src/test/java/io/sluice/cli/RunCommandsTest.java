package io.sluice.cli;

import static io.sluice.cli.CliRun.sluice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.schemas.Json;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice status} and {@code sluice watch} against a running Sluice (embedded broker, coordinator, workers). */
@Timeout(180)
class RunCommandsTest {

    private static EmbeddedSluice sluice;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        sluice = EmbeddedSluice.start(null, 2, 4, new SimpleMeterRegistry());
    }

    @AfterAll
    static void stop() {
        sluice.close();
    }

    @Test
    void shouldShowTheReceiptOfARunThatFinishedAndWatchItAtOnce() throws Exception {
        // given: a run that finished
        String runId = "done-" + System.nanoTime();
        CliRun submitted = sluice("submit", run(runId, 5).toString(), "-b", sluice.bootstrapServers(), "--wait", "--json");
        assertThat(submitted.exitCode()).as(submitted::toString).isZero();

        // when
        CliRun status = sluice("status", runId, "-b", sluice.bootstrapServers(), "--json");
        CliRun watch = sluice("watch", runId, "-b", sluice.bootstrapServers(), "--json");

        // then: both find the receipt the submission got
        assertThat(status.exitCode()).as(status::toString).isZero();
        assertThat(receipt(status).runId()).isEqualTo(runId);
        assertThat(receipt(status).status()).isEqualTo(Status.SUCCEEDED);
        assertThat(watch.exitCode()).as(watch::toString).isZero();
        assertThat(receipt(watch)).isEqualTo(receipt(status));
    }

    @Test
    void shouldShowARunStillGoingAndFollowItToItsEnd() throws Exception {
        // given: a run of a few seconds, submitted without waiting
        String runId = "going-" + System.nanoTime();
        assertThat(sluice("submit", run(runId, 3_000).toString(), "-b", sluice.bootstrapServers()).exitCode()).isZero();

        // when: once the coordinator has taken it up
        CliRun[] found = new CliRun[1];
        await("the run on the ledger").atMost(Duration.ofSeconds(30))
                .until(() -> (found[0] = sluice("status", runId, "-b", sluice.bootstrapServers())).exitCode() == 0);
        CliRun status = found[0];
        CliRun watch = sluice("watch", runId, "-b", sluice.bootstrapServers(), "--timeout", "90s");

        // then: status shows it (running, or done if the machine was quick); watch waits for the end
        assertThat(status.exitCode()).as(status::toString).isZero();
        assertThat(status.out()).contains("Run " + runId).contains("slow");
        assertThat(watch.exitCode()).as(watch::toString).isZero();
        assertThat(watch.out()).contains("Run " + runId + " (strict): SUCCEEDED");
    }

    @Test
    void shouldListRunsNewestFirstAndFilterThemByStatus() throws Exception {
        // given: a run that succeeded
        String runId = "listed-" + System.nanoTime();
        assertThat(sluice("submit", run(runId, 5).toString(), "-b", sluice.bootstrapServers(), "--wait").exitCode()).isZero();

        // when
        CliRun all = sluice("runs", "-b", sluice.bootstrapServers());
        CliRun succeeded = sluice("runs", "-b", sluice.bootstrapServers(), "--status", "succeeded", "--json");
        CliRun failed = sluice("runs", "-b", sluice.bootstrapServers(), "--status", "failed", "--json");
        CliRun bad = sluice("runs", "-b", sluice.bootstrapServers(), "--status", "great");

        // then
        assertThat(all.exitCode()).as(all::toString).isZero();
        assertThat(all.out().lines().filter(l -> l.startsWith(runId + " "))).singleElement().satisfies(l ->
                assertThat(l).contains("succeeded").contains("strict").contains("40 / -"));
        assertThat(succeeded.out()).contains("\"run_id\" : \"" + runId + "\"");
        assertThat(failed.out()).doesNotContain(runId);
        assertThat(bad.exitCode()).isEqualTo(Exit.INVALID);
        assertThat(bad.err()).startsWith("sluice runs: --status: ");
    }

    @Test
    void shouldCancelARunByHandThroughItsCoordinatorAndSayWhoInTheReceipt() throws Exception {
        // given: a run of two minutes, taken up by the coordinator
        String runId = "cancelled-" + System.nanoTime();
        assertThat(sluice("submit", run(runId, 120_000).toString(), "-b", sluice.bootstrapServers()).exitCode()).isZero();
        await("the run on the ledger").atMost(Duration.ofSeconds(30))
                .until(() -> sluice("status", runId, "-b", sluice.bootstrapServers()).exitCode() == 0);

        // when
        CliRun noNode = sluice("cancel", runId, "-b", sluice.bootstrapServers(), "--path", "w/none", "--by", "alice");
        CliRun cancel = sluice("cancel", runId, "-b", sluice.bootstrapServers(), "--reason", "not needed", "--by",
                "alice@ops-1", "--wait", "--json");
        CliRun again = sluice("cancel", runId, "-b", sluice.bootstrapServers(), "--by", "bob");
        CliRun noRun = sluice("cancel", "never-" + System.nanoTime(), "-b", sluice.bootstrapServers());
        CliRun badPath = sluice("cancel", runId, "-b", sluice.bootstrapServers(), "--path", "w//x");

        // then: refused with why, or halted at once and the receipt says by whom
        assertThat(noNode.exitCode()).as(noNode::toString).isEqualTo(Exit.INVALID);
        assertThat(noNode.err()).contains("refused: path: w/none is no workflow or branch of run " + runId);
        assertThat(cancel.exitCode()).as(cancel::toString).isEqualTo(Exit.RUN_CANCELLED);
        assertThat(cancel.err()).contains("cancelled run " + runId + ": w: cancelled by alice@ops-1: not needed");
        Receipt receipt = receipt(cancel);
        assertThat(receipt.status()).isEqualTo(Status.CANCELLED);
        assertThat(receipt.nodes().get(0).reason()).isEqualTo("w: cancelled by alice@ops-1: not needed");
        assertThat(receipt.nodes()).filteredOn(n -> n.kind().equals("leaf"))
                .allSatisfy(n -> assertThat(n.status()).isEqualTo(Status.CANCELLED));
        assertThat(again.exitCode()).as(again::toString).isEqualTo(Exit.INVALID);
        assertThat(again.err()).contains("refused: run_id: run '" + runId + "' already ended");
        assertThat(noRun.exitCode()).isEqualTo(Exit.INVALID);
        assertThat(noRun.err()).contains("refused: run_id: no active run 'never-");
        assertThat(badPath.exitCode()).isEqualTo(Exit.INVALID);
        assertThat(badPath.err()).startsWith("sluice cancel: cannot cancel " + runId + " w//x: ");
    }

    @Test
    void shouldCancelOneBranchByHandAndLetTheRestOfTheRunGoOn() throws Exception {
        // given: a run of two branches, one slow and one quick
        String runId = "branch-cancel-" + System.nanoTime();
        Path file = dir.resolve(runId + ".json");
        Files.writeString(file, """
                {"run_id": "%s", "workflow": {"id": "w", "nodes": [
                  {"kind": "branch", "id": "slow", "nodes": [{"kind": "leaf", "id": "l", "executor": "simulated",
                   "input": {"turns": [{"input_tokens": 10, "output_tokens": 10, "latency_ms": 120000}]}}]},
                  {"kind": "branch", "id": "quick", "nodes": [{"kind": "leaf", "id": "l", "executor": "simulated",
                   "input": {"turns": [{"input_tokens": 10, "output_tokens": 10, "latency_ms": 1000}]}}]}]}}
                """.formatted(runId));
        assertThat(sluice("submit", file.toString(), "-b", sluice.bootstrapServers()).exitCode()).isZero();
        await("the run on the ledger").atMost(Duration.ofSeconds(30))
                .until(() -> sluice("status", runId, "-b", sluice.bootstrapServers()).exitCode() == 0);

        // when
        CliRun cancel = sluice("cancel", runId, "--path", "w/slow", "-b", sluice.bootstrapServers(), "--by", "carol");
        CliRun watch = sluice("watch", runId, "-b", sluice.bootstrapServers(), "--json", "--timeout", "60s");

        // then: the slow branch ends cancelled by hand, the quick one succeeds
        assertThat(cancel.exitCode()).as(cancel::toString).isZero();
        assertThat(cancel.err()).contains("cancelled " + runId + " w/slow: w/slow: cancelled by carol");
        Receipt receipt = receipt(watch);
        assertThat(receipt.nodes()).filteredOn(n -> n.path().equals("w/slow")).singleElement().satisfies(n -> {
            assertThat(n.status()).isEqualTo(Status.CANCELLED);
            assertThat(n.reason()).isEqualTo("w/slow: cancelled by carol");
        });
        assertThat(receipt.nodes()).filteredOn(n -> n.path().equals("w/quick")).singleElement()
                .satisfies(n -> assertThat(n.status()).isEqualTo(Status.SUCCEEDED));
    }

    @Test
    void shouldSayWhenTheClusterKnowsNothingOfARun() {
        CliRun status = sluice("status", "never-submitted-" + System.nanoTime(), "-b", sluice.bootstrapServers());

        assertThat(status.exitCode()).isEqualTo(Exit.INVALID);
        assertThat(status.err()).startsWith("sluice status: no run never-submitted-");
    }

    private Path run(String runId, long latencyMs) throws Exception {
        Path file = dir.resolve(runId + ".json");
        Files.writeString(file, """
                {"run_id": "%s", "workflow": {"id": "w", "nodes": [{"kind": "branch", "id": "slow", "nodes": [
                  {"kind": "leaf", "id": "l", "executor": "simulated", "repeat": 2,
                   "input": {"turns": [{"input_tokens": 10, "output_tokens": 10, "latency_ms": %d}]}}]}]}}
                """.formatted(runId, latencyMs));
        return file;
    }

    private static Receipt receipt(CliRun run) {
        return Json.read(run.out().getBytes(StandardCharsets.UTF_8), Receipt.class);
    }
}
