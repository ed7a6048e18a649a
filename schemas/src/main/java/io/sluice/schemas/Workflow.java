package io.sluice.schemas;

import java.util.List;

/**
 * The root of a submitted tree.
 *
 * @param leafMaxTokens default grant for leaves without a {@code max_tokens} of their own
 * @param share         how the budget is divided among child branches; null = {@link Share#DOCUMENT}
 */
public record Workflow(String id, Budget budget, Long leafMaxTokens, List<Node> nodes, Share share) {

    public Workflow {
        budget = budget == null ? Budget.NONE : budget;
        nodes = nodes == null ? List.of() : List.copyOf(nodes);
    }

    /** A workflow admitting its children in document order. */
    public Workflow(String id, Budget budget, Long leafMaxTokens, List<Node> nodes) {
        this(id, budget, leafMaxTokens, nodes, null);
    }

    /** The workflow seen as the root branch of its tree. */
    public Branch asBranch() {
        return new Branch(id, budget, leafMaxTokens, nodes, share);
    }
}
