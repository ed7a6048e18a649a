package io.sluice.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;

/**
 * A unit of work, run by the named executor on a worker.
 *
 * @param executor    the executor's name, e.g. {@code simulated}
 * @param input       free JSON for that executor
 * @param repeat      how many copies of this leaf to run (ids {@code id[0]} … {@code id[n-1]}); 1 when absent.
 *                    Lets a submission describe a very wide fan-out without listing every leaf.
 * @param maxAttempts how often a failed leaf is tried in all; absent = the coordinator's default
 */
public record Leaf(String id, Budget budget, String executor, JsonNode input, Integer repeat, Integer maxAttempts)
        implements Node {

    public Leaf {
        budget = budget == null ? Budget.NONE : budget;
        input = input == null ? NullNode.getInstance() : input;
    }

    public Leaf(String id, Budget budget, String executor, JsonNode input) {
        this(id, budget, executor, input, null, null);
    }

    /** The number of leaves this node stands for. */
    public int copies() {
        return repeat == null ? 1 : repeat;
    }
}
