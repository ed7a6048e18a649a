package io.sluice.schemas;

import java.util.List;

/**
 * An inner node: its children run in parallel within its {@code max_parallel}. Branches may nest.
 *
 * @param leafMaxTokens default grant for descendant leaves without a {@code max_tokens} of their own
 */
public record Branch(String id, Budget budget, Long leafMaxTokens, List<Node> nodes) implements Node {

    public Branch {
        budget = budget == null ? Budget.NONE : budget;
        nodes = nodes == null ? List.of() : List.copyOf(nodes);
    }
}
