package io.sluice.cli.bench;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import io.sluice.coordinator.ledger.Decisions;
import io.sluice.coordinator.ledger.LedgerConfig;
import io.sluice.coordinator.ledger.RunLedger;
import io.sluice.schemas.Budget;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Leaf;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.UsageEvent;
import io.sluice.schemas.WireRecords;
import io.sluice.schemas.Workflow;

/**
 * The coordinator's budget fold alone, in this thread: {@link RunLedger} (the pure state machine the coordinator runs
 * per run) folds the usage of a strict-mode run — a workflow with a token limit and {@code max_parallel} 1000, one
 * leaf definition repeated, each leaf granted 1000 tokens ({@code leaf_max_tokens}) — with no Kafka, no JSON and no
 * transaction. Each dispatched task gets {@code stepsPerLeaf} step events (1 input + 1 output token, one step) and a
 * final {@code succeeded} one; the tasks each call dispatches are queued and played in turn until the run is terminal.
 * The rate is events ÷ the time of all {@code onUsage} calls (and the event objects' creation), after one unmeasured
 * run of a fifth the size to warm the JIT.
 *
 * <p>{@link #decodeRate} times the other CPU cost of each event in the coordinator: {@link WireRecords#decode} of its
 * JSON (parse + schema validation).
 */
final class LedgerFoldBench {

    static final int STEPS_PER_LEAF = 4;
    private static final String WORKER = "bench-fold";

    private LedgerFoldBench() {
    }

    /** @param seconds time of the measured fold; {@code events} were folded, {@code leaves} ended succeeded */
    record Measurement(long events, long leaves, int stepsPerLeaf, double seconds, double eventsPerS) {
    }

    static Measurement run(int events) {
        fold(Math.max(STEPS_PER_LEAF + 1, events / 5)); // warm-up
        return fold(events);
    }

    private static Measurement fold(int events) {
        int leaves = Math.max(1, events / (STEPS_PER_LEAF + 1));
        String runId = "bench-fold-pure";
        Leaf leaf = new Leaf("leaf", null, "simulated", null, leaves, null);
        Workflow workflow = new Workflow("fold", new Budget(4L * leaves * 1000, null, null, null, null, 1000), 1000L,
                List.of(leaf));
        long now = System.currentTimeMillis();
        RunLedger ledger = RunLedger.create(new Submission(runId, Mode.STRICT, workflow), LedgerConfig.defaults(), now);
        Deque<LeafTask> queue = new ArrayDeque<>(ledger.begin(now).tasks());
        long folded = 0;
        long start = System.nanoTime();
        while (!queue.isEmpty()) {
            LeafTask t = queue.poll();
            for (int s = 1; s <= STEPS_PER_LEAF; s++) {
                Decisions d = ledger.onUsage(new UsageEvent(runId, t.path(), t.attempt(), WORKER, s, 1, 1, 1, false,
                        Status.RUNNING, null, null, now), now);
                queue.addAll(d.tasks());
                folded++;
            }
            Decisions d = ledger.onUsage(new UsageEvent(runId, t.path(), t.attempt(), WORKER, STEPS_PER_LEAF + 1, 0, 0, 0,
                    true, Status.SUCCEEDED, null, null, now), now);
            queue.addAll(d.tasks());
            folded++;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (!ledger.isTerminal() || ledger.status() != Status.SUCCEEDED) {
            throw new IllegalStateException("the folded run ended " + ledger.status().wire() + ", not succeeded");
        }
        return new Measurement(folded, leaves, STEPS_PER_LEAF, seconds, folded / seconds);
    }

    /** Usage events decoded per second by {@link WireRecords#decode} (as the coordinator decodes each), after a warm-up. */
    static double decodeRate(int samples) {
        List<byte[]> encoded = new ArrayList<>(samples);
        for (int i = 0; i < samples; i++) {
            encoded.add(Json.write(new UsageEvent("bench-fold-decode", "fold/leaf[" + i + "]", 1, WORKER, 1 + i % 5, 150, 50,
                    1, false, Status.RUNNING, null, null, System.currentTimeMillis())));
        }
        for (int i = 0; i < Math.min(samples, 5_000); i++) {
            WireRecords.decode(encoded.get(i), UsageEvent.class);
        }
        long start = System.nanoTime();
        for (byte[] b : encoded) {
            WireRecords.decode(b, UsageEvent.class);
        }
        return samples / ((System.nanoTime() - start) / 1e9);
    }
}
