package io.sluice.coordinator.ledger;

import java.util.List;

import io.sluice.schemas.Branch;
import io.sluice.schemas.Budget;
import io.sluice.schemas.Leaf;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Node;
import io.sluice.schemas.Submission;
import io.sluice.schemas.Workflow;

/** Small builders for test trees. */
final class Trees {

    static final Budget NONE = Budget.NONE;

    private Trees() {
    }

    static Submission strict(Workflow wf) {
        return new Submission("run-1", Mode.STRICT, wf);
    }

    static Submission optimistic(Workflow wf) {
        return new Submission("run-1", Mode.OPTIMISTIC, wf);
    }

    static Workflow workflow(String id, Budget budget, Node... nodes) {
        return new Workflow(id, budget, null, List.of(nodes));
    }

    static Workflow workflow(String id, Budget budget, Long leafMaxTokens, Node... nodes) {
        return new Workflow(id, budget, leafMaxTokens, List.of(nodes));
    }

    static Branch branch(String id, Budget budget, Node... nodes) {
        return new Branch(id, budget, null, List.of(nodes));
    }

    static Branch branch(String id, Budget budget, Long leafMaxTokens, Node... nodes) {
        return new Branch(id, budget, leafMaxTokens, List.of(nodes));
    }

    static Leaf leaf(String id) {
        return new Leaf(id, NONE, "simulated", null);
    }

    static Leaf leaf(String id, Budget budget) {
        return new Leaf(id, budget, "simulated", null);
    }

    static Leaf repeated(String id, Budget budget, int repeat) {
        return new Leaf(id, budget, "simulated", null, repeat, null);
    }

    static Budget tokens(long maxTokens) {
        return Budget.ofTokens(maxTokens);
    }

    static Budget budget(Long maxTokens, Long maxInput, Long maxOutput, Long maxSteps, Long timeoutMs, Integer maxParallel) {
        return new Budget(maxTokens, maxInput, maxOutput, maxSteps, timeoutMs, maxParallel);
    }

    static Budget parallel(int maxParallel) {
        return Budget.NONE.withMaxParallel(maxParallel);
    }
}
