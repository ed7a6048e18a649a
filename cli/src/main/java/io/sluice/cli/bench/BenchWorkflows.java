package io.sluice.cli.bench;

import java.util.List;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.coordinator.ledger.LedgerConfig;
import io.sluice.coordinator.ledger.RunLedger;
import io.sluice.schemas.Budget;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Leaf;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Submission;
import io.sluice.schemas.Workflow;

/**
 * The workflows the bench submits. Each is one workflow holding one leaf definition with {@code repeat} (so that a
 * million leaves is a small submission), run by the simulated executor, whose {@code input} scripts the leaf's model
 * turns: {@code {"turns": []}} succeeds at once without a step (a no-op), a turn's {@code latency_ms} is how long
 * it takes, its {@code input_tokens} + {@code output_tokens} what it spends.
 */
final class BenchWorkflows {

    /** Tokens one "spending" turn of the halt workflow reports. */
    static final long HALT_TURN_TOKENS = 200;
    /** The limit and leaf size of the overrunning workflow. */
    static final long OVERSHOOT_LIMIT = 10_000;
    static final int OVERSHOOT_MAX_PARALLEL = 16;
    static final long OVERSHOOT_LEAF_MAX_TOKENS = 700;

    private BenchWorkflows() {
    }

    /** {@code leaves} no-op leaves: no step, no usage but the final event, succeeded. */
    static Submission noop(String runId, int leaves, int maxParallel) {
        return single(runId, Mode.STRICT, "noop", new Budget(null, null, null, null, null, maxParallel), null, "noop",
                leaves, turns());
    }

    /**
     * The halt workflow: each leaf reports a 1-token step at once (so every started attempt has a step event before its
     * final one), then two turns of {@code stepMs} and {@value #HALT_TURN_TOKENS} tokens. With {@code maxParallel}
     * above the workers' slots, tasks wait on Kafka (queued) while others run.
     *
     * @param maxTokens the workflow's limit, or null for none
     * @param timeoutMs the workflow's deadline from the run's start, or null for none
     */
    static Submission slow(String runId, Mode mode, int leaves, int maxParallel, Long maxTokens, Long timeoutMs, long stepMs) {
        long half = HALT_TURN_TOKENS / 2;
        return single(runId, mode, "halt", new Budget(maxTokens, null, null, null, timeoutMs, maxParallel), null, "slow",
                leaves, turns(new long[] {1, 0, 0}, new long[] {half, half, stepMs}, new long[] {half, half, stepMs}));
    }

    /**
     * The overrunning workflow: {@code leaves} leaves of three 200-token turns (600 tokens, 20 ms a turn) against a
     * workflow limit of {@value #OVERSHOOT_LIMIT} tokens, {@value #OVERSHOOT_MAX_PARALLEL} at once, each granted
     * {@value #OVERSHOOT_LEAF_MAX_TOKENS} ({@code leaf_max_tokens}) in strict mode.
     */
    static Submission overrunning(String runId, Mode mode, int leaves) {
        return single(runId, mode, "over", new Budget(OVERSHOOT_LIMIT, null, null, null, null, OVERSHOOT_MAX_PARALLEL),
                OVERSHOOT_LEAF_MAX_TOKENS, "step3", leaves,
                turns(new long[] {150, 50, 20}, new long[] {150, 50, 20}, new long[] {150, 50, 20}));
    }

    /**
     * Leaves that each hold a slot for {@code leafMs}: a 1-token step at once (it marks the start on the usage topic),
     * then one turn of {@code leafMs} (its final event marks the end).
     */
    static Submission timed(String runId, int leaves, int maxParallel, long leafMs) {
        return single(runId, Mode.STRICT, "inflight", new Budget(null, null, null, null, null, maxParallel), null, "hold",
                leaves, turns(new long[] {1, 0, 0}, new long[] {1, 0, leafMs}));
    }

    /** A real serialised leaf task: the first one the coordinator's ledger dispatches for the overrunning workflow. */
    static byte[] representativeTask() {
        long now = System.currentTimeMillis();
        RunLedger ledger = RunLedger.create(overrunning("run-bench0000000", Mode.STRICT, 100), LedgerConfig.defaults(), now);
        List<LeafTask> tasks = ledger.begin(now).tasks();
        return Json.write(tasks.get(0));
    }

    private static Submission single(String runId, Mode mode, String workflowId, Budget budget, Long leafMaxTokens,
                                     String leafId, int repeat, ObjectNode input) {
        Leaf leaf = new Leaf(leafId, null, "simulated", input, repeat, null);
        return new Submission(runId, mode, new Workflow(workflowId, budget, leafMaxTokens, List.of(leaf)));
    }

    /** Each turn: input tokens, output tokens, latency in ms. */
    private static ObjectNode turns(long[]... turns) {
        ObjectNode input = Json.mapper().createObjectNode();
        ArrayNode list = input.putArray("turns");
        for (long[] t : turns) {
            ObjectNode turn = list.addObject();
            turn.put("input_tokens", t[0]);
            turn.put("output_tokens", t[1]);
            if (t[2] > 0) {
                turn.put("latency_ms", t[2]);
            }
        }
        return input;
    }
}
