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
 * @param wrapUpTokens tokens of each attempt's grant kept back for one final step once the rest is used up, so that
 *                    the executor can hand back what it has (a summary) instead of losing the work; null = none
 */
public record Leaf(String id, Budget budget, String executor, JsonNode input, Integer repeat, Integer maxAttempts,
                   Long wrapUpTokens) implements Node {

    public Leaf {
        budget = budget == null ? Budget.NONE : budget;
        input = input == null ? NullNode.getInstance() : input;
    }

    public Leaf(String id, Budget budget, String executor, JsonNode input) {
        this(id, budget, executor, input, null, null, null);
    }

    /** A leaf without a wrap-up reserve. */
    public Leaf(String id, Budget budget, String executor, JsonNode input, Integer repeat, Integer maxAttempts) {
        this(id, budget, executor, input, repeat, maxAttempts, null);
    }

    /** The number of leaves this node stands for. */
    public int copies() {
        return repeat == null ? 1 : repeat;
    }
}
