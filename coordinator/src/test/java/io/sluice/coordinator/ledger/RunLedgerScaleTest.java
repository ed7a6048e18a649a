package io.sluice.coordinator.ledger;

import static io.sluice.coordinator.ledger.Trees.NONE;
import static io.sluice.coordinator.ledger.Trees.branch;
import static io.sluice.coordinator.ledger.Trees.budget;
import static io.sluice.coordinator.ledger.Trees.repeated;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.sluice.schemas.Branch;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Node;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.UsageEvent;
import io.sluice.schemas.Workflow;

/** A million leaves: lazy expansion, bounded memory, amortised O(depth) per dispatched leaf. */
class RunLedgerScaleTest {

    private static final int LEAVES = 1_000_000;
    private static final int MAX_PARALLEL = 64;

    /** Runs every dispatched task to success (one step of 5 + 3 tokens, then the final event), oldest first. */
    private static long drive(RunLedger ledger, int maxParallel) {
        ArrayDeque<LeafTask> queue = new ArrayDeque<>(ledger.begin(0).tasks());
        long now = 0;
        long finished = 0;
        while (!queue.isEmpty()) {
            LeafTask t = queue.poll();
            now++;
            ledger.onUsage(new UsageEvent(t.runId(), t.path(), t.attempt(), "w", 1, 5, 3, 1, false, Status.RUNNING, null, null, now), now);
            Decisions d = ledger.onUsage(new UsageEvent(t.runId(), t.path(), t.attempt(), "w", 2, 0, 0, 0, true, Status.SUCCEEDED,
                    null, null, now), now);
            queue.addAll(d.tasks());
            finished++;
            // No per-leaf objects beyond those in flight, never more than max_parallel of them.
            assertThat(ledger.liveLeafObjects()).isLessThanOrEqualTo(maxParallel).isEqualTo(queue.size());
        }
        return finished;
    }

    @Test
    void shouldRunAMillionRepeatedLeavesInStrictModeInAFewSecondsWithBoundedMemory() {
        // given: one leaf repeated a million times, no per-leaf cap: a probe, then learned grants
        Workflow wf = new Workflow("big", budget(1_000_000_000L, null, null, null, null, MAX_PARALLEL), null,
                List.of(repeated("task", NONE, LEAVES)));
        RunLedger ledger = RunLedger.create(new Submission("run-big", Mode.STRICT, wf), LedgerConfig.defaults(), 0);
        assertThat(ledger.retainedLeafEntries()).isZero();

        // when
        long started = System.nanoTime();
        long finished = drive(ledger, MAX_PARALLEL);
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        System.out.printf("1,000,000-leaf strict run: %d ms%n", took.toMillis());

        // then
        assertThat(finished).isEqualTo(LEAVES);
        assertThat(ledger.isTerminal()).isTrue();
        LedgerEntry big = ledger.entry("big");
        assertThat(big.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(big.leaves()).isEqualTo(Map.of(Status.SUCCEEDED, (long) LEAVES));
        assertThat(big.spent().totalTokens()).isEqualTo(8L * LEAVES);
        assertThat(big.reserved().tokens()).isZero();
        assertThat(ledger.receipt().nodes()).hasSize(1);
        assertThat(ledger.liveLeafObjects()).isZero();
        // Typically 1–4 s (2 M events) depending on machine load; the bound only catches a lost O(depth) dispatch.
        assertThat(took).as("time for a million leaves").isLessThan(Duration.ofSeconds(20));
    }

    @Test
    void shouldDispatchAcrossAThousandNarrowBranchesWithoutRescanningThem() {
        // given: 1000 branches of 200 leaves, each branch one at a time, the workflow 64 at a time
        List<Node> branches = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            Branch b = branch("b" + i, Trees.parallel(1), repeated("l", NONE, 200));
            branches.add(b);
        }
        Workflow wf = new Workflow("wide", budget(null, null, null, null, null, MAX_PARALLEL), 10L, branches);
        RunLedger ledger = RunLedger.create(new Submission("run-wide", Mode.STRICT, wf), LedgerConfig.defaults(), 0);

        // when
        long started = System.nanoTime();
        long finished = drive(ledger, MAX_PARALLEL);
        long ms = (System.nanoTime() - started) / 1_000_000;
        System.out.printf("200,000 leaves over 1000 branches: %d ms%n", ms);

        // then
        assertThat(finished).isEqualTo(200_000);
        assertThat(ledger.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(ledger.receipt().nodes()).hasSize(1001);
    }
}
