package io.sluice.schemas;

import java.util.List;

/**
 * An inner node: its children run in parallel within its {@code max_parallel}. Branches may nest.
 *
 * @param leafMaxTokens default grant for descendant leaves without a {@code max_tokens} of their own
 * @param share         how the budget is divided among child branches; null = {@link Share#DOCUMENT}
 */
public record Branch(String id, Budget budget, Long leafMaxTokens, List<Node> nodes, Share share) implements Node {

    public Branch {
        budget = budget == null ? Budget.NONE : budget;
        nodes = nodes == null ? List.of() : List.copyOf(nodes);
    }

    /** A branch admitting its children in document order. */
    public Branch(String id, Budget budget, Long leafMaxTokens, List<Node> nodes) {
        this(id, budget, leafMaxTokens, nodes, null);
    }

    /** The share, {@link Share#DOCUMENT} when absent. */
    public Share shareOrDefault() {
        return share == null ? Share.DOCUMENT : share;
    }
}
