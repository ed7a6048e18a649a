package io.sluice.coordinator.ledger;

import static io.sluice.coordinator.ledger.Trees.NONE;
import static io.sluice.coordinator.ledger.Trees.branch;
import static io.sluice.coordinator.ledger.Trees.budget;
import static io.sluice.coordinator.ledger.Trees.repeated;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.AbstractCollection;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

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

/**
 * A million leaves: lazy expansion, bounded memory, amortised O(depth) per dispatched leaf; restoring such a run
 * mid-way costs O(entries) and keeps no object per finished leaf.
 */
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
        RunLedger ledger = RunLedger.create(new Submission("run-big", Mode.STRICT, wf), LedgerConfig.defaults().withLease(java.time.Duration.ZERO), 0);
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

    /** The compacted ledger topic of a run: the latest entry per path, finished leaves' kept apart (in a list). */
    private static final class LedgerTopic {
        final List<LedgerEntry> finishedLeaves = new ArrayList<>();
        final Map<String, LedgerEntry> others = new HashMap<>();

        void publish(Decisions d) {
            for (LedgerEntry e : d.entries()) {
                if (e.kind().equals("leaf") && e.status().isTerminal()) {
                    others.remove(e.path());
                    finishedLeaves.add(e); // a leaf ends once: no older entry of it is in this list
                } else {
                    others.put(e.path(), e);
                }
            }
        }

        Collection<LedgerEntry> entries() {
            return new AbstractCollection<>() {
                @Override
                public Iterator<LedgerEntry> iterator() {
                    return Stream.concat(finishedLeaves.stream(), others.values().stream()).iterator();
                }

                @Override
                public int size() {
                    return finishedLeaves.size() + others.size();
                }
            };
        }
    }

    private static UsageEvent step(LeafTask t, long now) {
        return new UsageEvent(t.runId(), t.path(), t.attempt(), "w", 1, 5, 3, 1, false, Status.RUNNING, null, null, now);
    }

    private static UsageEvent success(LeafTask t, long now) {
        return new UsageEvent(t.runId(), t.path(), t.attempt(), "w", 2, 0, 0, 0, true, Status.SUCCEEDED, null, null, now);
    }

    @Test
    void shouldRestoreAMillionLeafRunMidWayQuicklyWithoutAnObjectPerFinishedLeaf() {
        // given: a million-leaf strict run, half of it done, and its compacted ledger as the topic keeps it
        Workflow wf = new Workflow("big", budget(1_000_000_000L, null, null, null, null, MAX_PARALLEL), null,
                List.of(repeated("task", NONE, LEAVES)));
        Submission submission = new Submission("run-big", Mode.STRICT, wf);
        RunLedger original = RunLedger.create(submission, LedgerConfig.defaults().withLease(java.time.Duration.ZERO), 0);
        LedgerTopic topic = new LedgerTopic();
        Decisions begun = original.begin(0);
        topic.publish(begun);
        ArrayDeque<LeafTask> queue = new ArrayDeque<>(begun.tasks());
        long now = 0;
        for (int finished = 0; finished < LEAVES / 2; finished++) {
            LeafTask t = queue.poll();
            now++;
            topic.publish(original.onUsage(step(t, now), now));
            Decisions d = original.onUsage(success(t, now), now);
            topic.publish(d);
            queue.addAll(d.tasks());
        }

        // when
        long started = System.nanoTime();
        RunLedger restored = RunLedger.restore(submission, 0, topic.entries(), LedgerConfig.defaults().withLease(java.time.Duration.ZERO));
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        System.out.printf("restoring a 1,000,000-leaf run from %d entries: %d ms%n", topic.entries().size(), took.toMillis());

        // then: only the attempts in flight are objects; the run as the ledger says
        assertThat(topic.entries()).hasSize(LEAVES / 2 + MAX_PARALLEL + 1);
        assertThat(restored.liveLeafObjects()).isEqualTo(MAX_PARALLEL).isEqualTo(queue.size());
        assertThat(restored.retainedLeafEntries()).isZero();
        assertThat(restored.entry("big")).isEqualTo(original.entry("big"));
        // Typically 0.1–0.5 s; the bound only catches work per leaf of the run rather than per entry.
        assertThat(took).as("time to restore").isLessThan(Duration.ofSeconds(5));

        // when: both get the same events for the next 20,000 leaves, after the restored one's first tick; then the
        // restored one alone the rest
        assertThat(restored.onTick(now).isEmpty()).isTrue();
        for (int finished = 0; finished < 20_000; finished++) {
            LeafTask t = queue.poll();
            now++;
            for (UsageEvent e : List.of(step(t, now), success(t, now))) {
                Decisions expected = original.onUsage(e, now);
                Decisions actual = restored.onUsage(e, now);
                if (!actual.equals(expected)) {
                    assertThat(actual).as("decisions on %s", e).isEqualTo(expected);
                }
                queue.addAll(expected.tasks());
            }
        }
        while (!queue.isEmpty()) {
            LeafTask t = queue.poll();
            now++;
            restored.onUsage(step(t, now), now);
            queue.addAll(restored.onUsage(success(t, now), now).tasks());
            assertThat(restored.liveLeafObjects()).isLessThanOrEqualTo(MAX_PARALLEL);
        }

        // then: every leaf ran once; the run as a run never restored would have ended
        LedgerEntry big = restored.entry("big");
        assertThat(restored.isTerminal()).isTrue();
        assertThat(big.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(big.leaves()).isEqualTo(Map.of(Status.SUCCEEDED, (long) LEAVES));
        assertThat(big.spent().totalTokens()).isEqualTo(8L * LEAVES);
        assertThat(big.reserved().tokens()).isZero();
        assertThat(restored.receipt().reason()).isEqualTo("all 1000000 leaves succeeded");
        assertThat(restored.liveLeafObjects()).isZero();
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
        RunLedger ledger = RunLedger.create(new Submission("run-wide", Mode.STRICT, wf), LedgerConfig.defaults().withLease(java.time.Duration.ZERO), 0);

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
