package io.sluice.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.schemas.Branch;
import io.sluice.schemas.Budget;
import io.sluice.schemas.Json;
import io.sluice.schemas.Leaf;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Node;
import io.sluice.schemas.Submission;
import io.sluice.schemas.Workflow;

/**
 * The built-in workflow of {@code sluice demo}: 550 leaves in three branches, run by the deterministic
 * simulated executor, sized so that two branches finish within budget and one ("deep-dive") overruns its
 * {@code max_tokens} and is halted. The same seed always yields the same workflow.
 */
final class DemoWorkflow {

    static final int RESEARCH_LEAVES = 200;
    static final int SUMMARY_LEAVES = 200;
    static final int DEEP_DIVE_LEAVES = 150;

    private DemoWorkflow() {
    }

    static Submission build(String runId, Mode mode, long seed) {
        Random rnd = new Random(seed);
        // research: no per-leaf size hint — the coordinator probes one leaf, then sizes grants from what
        // siblings actually spent. Two leaves fail on purpose.
        List<Node> research = new ArrayList<>();
        for (int i = 0; i < RESEARCH_LEAVES; i++) {
            int turns = 2 + rnd.nextInt(2);
            research.add(leaf("source-" + i, null, turns, 300, 700, 100, 300, rnd, i == 57 || i == 143 ? 2 : 0));
        }
        // summaries: a per-leaf default grant (leaf_max_tokens) — all admitted in parallel at once.
        List<Node> summaries = new ArrayList<>();
        for (int i = 0; i < SUMMARY_LEAVES; i++) {
            summaries.add(leaf("doc-" + i, null, 1 + rnd.nextInt(2), 200, 400, 80, 200, rnd, 0));
        }
        // deep-dive: ~3000 tokens a leaf against 120 000 for 150 leaves — it must halt, not overshoot.
        List<Node> deep = new ArrayList<>();
        for (int i = 0; i < DEEP_DIVE_LEAVES; i++) {
            deep.add(leaf("topic-" + i, new Budget(4000L, null, null, 4L, null, null), 3, 700, 900, 150, 250, rnd, 0));
        }
        Workflow workflow = new Workflow("demo", new Budget(900_000L, null, null, null, 120_000L, 24), null, List.of(
                new Branch("research", new Budget(400_000L, null, null, null, null, 12), null, research),
                new Branch("summaries", new Budget(250_000L, null, null, null, null, 8), 1_200L, summaries),
                new Branch("deep-dive", new Budget(120_000L, null, null, null, null, 8), null, deep)));
        return new Submission(runId, mode, workflow);
    }

    private static Leaf leaf(String id, Budget budget, int turns, int inMin, int inMax, int outMin, int outMax, Random rnd,
                             int failAtTurn) {
        ObjectNode input = Json.mapper().createObjectNode();
        ArrayNode list = input.putArray("turns");
        for (int t = 0; t < turns; t++) {
            ObjectNode turn = list.addObject();
            turn.put("input_tokens", inMin + rnd.nextInt(inMax - inMin + 1));
            turn.put("output_tokens", outMin + rnd.nextInt(outMax - outMin + 1));
            turn.put("latency_ms", 10 + rnd.nextInt(25));
        }
        if (failAtTurn > 0) {
            input.put("fail_at_turn", failAtTurn);
        }
        return new Leaf(id, budget, "simulated", input);
    }
}
