package io.sluice.schemas;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The rules of a submission that its JSON Schema cannot express, checked on the parsed tree:
 * <ul>
 *   <li>sibling ids are unique;</li>
 *   <li>a budget only narrows: no limit is wider than the tightest ancestor's for the same field, no
 *       {@code max_input_tokens} / {@code max_output_tokens} exceeds the node's own {@code max_tokens}, and no
 *       {@code leaf_max_tokens} exceeds the {@code max_tokens} in force at its node;</li>
 *   <li>integers are written as integers ({@code 1.0} is refused: the records read only exact integers);</li>
 *   <li>the tree is at most {@link ValidationLimits#maxDepth()} deep and has at most
 *       {@link ValidationLimits#maxNodes()} nodes and {@link ValidationLimits#maxLeaves()} leaves, every copy of a
 *       repeated leaf counted.</li>
 * </ul>
 *
 * <p>The tree may also have failed the schema, so every value is type-checked before use and anything ill-typed
 * is skipped: the schema has reported it already. One instance checks one tree; not thread-safe.
 */
final class SubmissionRules {

    /** The budget fields a child may only narrow, in the order the schema lists them. */
    private static final List<String> DIMENSIONS =
            List.of("max_tokens", "max_input_tokens", "max_output_tokens", "max_steps", "timeout_ms", "max_parallel",
                    "max_cost_microusd");
    private static final List<String> NODE_INTEGERS = List.of("leaf_max_tokens", "repeat", "max_attempts", "wrap_up_tokens");
    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final int MAX_REPEAT = 1_000_000;

    private final ValidationLimits limits;
    private final List<Problem> problems = new ArrayList<>();
    private long nodes;
    private long leaves;

    private SubmissionRules(ValidationLimits limits) {
        this.limits = limits;
    }

    /** The problems of {@code root} (any JSON value), in no particular order. */
    static List<Problem> check(JsonNode root, ValidationLimits limits) {
        SubmissionRules rules = new SubmissionRules(limits);
        JsonNode workflow = root == null ? null : root.get("workflow");
        if (workflow != null && workflow.isObject()) {
            rules.checkTree(workflow);
        }
        return rules.problems;
    }

    /** The tightest limit of one budget field among a node's ancestors, and the node that set it. */
    private record Limit(long value, String ownerPath, JsonNode owner) {
    }

    private void checkTree(JsonNode workflow) {
        List<Object> path = List.of("workflow");
        checkNode(workflow, path, nodeName(workflow, "workflow"), 0, Map.of());
        if (nodes > limits.maxNodes()) {
            problems.add(Problem.at(path, nodes + " nodes exceed the limit of " + limits.maxNodes()));
        }
        if (leaves > limits.maxLeaves()) {
            problems.add(Problem.at(path, leaves + " leaves (repeat counted) exceed the limit of " + limits.maxLeaves()));
        }
    }

    /**
     * Checks one node (the workflow, a branch or a leaf) and, below a workflow or branch, its children.
     *
     * @param nodePath  the node's path (ids joined by '/'), used to name it as an ancestor
     * @param inherited per budget field, the tightest limit among the node's ancestors
     */
    private void checkNode(JsonNode node, List<Object> path, String nodePath, int depth, Map<String, Limit> inherited) {
        checkIntegers(node, path);
        Map<String, Limit> effective = checkBudget(node, path, nodePath, inherited);
        checkLeafMaxTokens(node, path, effective);

        JsonNode children = node.get("nodes");
        if (children == null || !children.isArray() || "leaf".equals(textOf(node.get("kind")))) {
            return;
        }
        checkShare(node, path, children);
        Map<String, Integer> firstIndexOfId = new HashMap<>();
        for (int i = 0; i < children.size(); i++) {
            JsonNode child = children.get(i);
            if (!child.isObject()) {
                continue;
            }
            nodes++;
            List<Object> childPath = Problem.append(path, "nodes", i);
            String id = textOf(child.get("id"));
            if (id != null && NODE_ID.matcher(id).matches()) {
                Integer first = firstIndexOfId.putIfAbsent(id, i);
                if (first != null) {
                    problems.add(Problem.at(Problem.append(childPath, "id"), "duplicate id '" + id
                            + "' among siblings (first at " + Problem.pathText(Problem.append(path, "nodes", first)) + ")"));
                }
            }
            String childNodePath = NodePaths.child(nodePath, nodeName(child, "nodes[" + i + "]"));
            int childDepth = depth + 1;
            if (childDepth > limits.maxDepth()) {
                problems.add(Problem.at(childPath, "depth " + childDepth + " exceeds the limit of " + limits.maxDepth()));
                continue;
            }
            String kind = textOf(child.get("kind"));
            if ("leaf".equals(kind)) {
                leaves += copies(child);
                checkWrapUp(child, childPath);
                checkNode(child, childPath, childNodePath, childDepth, effective);
            } else if ("branch".equals(kind)) {
                checkNode(child, childPath, childNodePath, childDepth, effective);
            }
            // Any other kind: the schema has reported it, and what lies below has no meaning to check.
        }
    }

    /** Checks the node's own budget against its ancestors' and returns the limits in force below the node. */
    private Map<String, Limit> checkBudget(JsonNode node, List<Object> path, String nodePath, Map<String, Limit> inherited) {
        JsonNode budget = node.get("budget");
        if (budget == null || !budget.isObject()) {
            return inherited;
        }
        Map<String, Limit> effective = new LinkedHashMap<>(inherited);
        List<Object> budgetPath = Problem.append(path, "budget");
        for (String field : DIMENSIONS) {
            Long value = longOf(budget.get(field));
            if (value == null || value < 0) {
                continue; // a negative limit is the schema's error; comparing against it would only add noise
            }
            Limit ancestor = inherited.get(field);
            if (ancestor != null && value > ancestor.value()) {
                problems.add(Problem.at(Problem.append(budgetPath, field), value + " is wider than the "
                        + ancestor.value() + " allowed by ancestor '" + ancestor.ownerPath() + "'"));
            } else {
                // On a tie the nearer node becomes the one to name: it is where a user would look first.
                effective.put(field, new Limit(value, nodePath, node));
            }
        }
        Long maxTokens = longOf(budget.get("max_tokens"));
        for (String field : List.of("max_input_tokens", "max_output_tokens")) {
            Long value = longOf(budget.get(field));
            if (maxTokens != null && value != null && value > maxTokens) {
                problems.add(Problem.at(Problem.append(budgetPath, field),
                        value + " is more than this node's max_tokens " + maxTokens));
            }
        }
        return effective;
    }

    /** Even shares divide a budget among child branches: every child must be one. */
    private void checkShare(JsonNode node, List<Object> path, JsonNode children) {
        if (!"even".equals(textOf(node.get("share")))) {
            return;
        }
        for (int i = 0; i < children.size(); i++) {
            if ("leaf".equals(textOf(children.get(i).get("kind")))) {
                problems.add(Problem.at(Problem.append(path, "share"), "even shares divide the budget among child "
                        + "branches, but nodes[" + i + "] is a leaf: put leaves in branches of their own"));
                return;
            }
        }
    }

    /** A wrap-up reserve must leave the leaf something of its own {@code max_tokens} to work with. */
    private void checkWrapUp(JsonNode leaf, List<Object> path) {
        Long wrapUp = longOf(leaf.get("wrap_up_tokens"));
        JsonNode budget = leaf.get("budget");
        Long maxTokens = budget != null && budget.isObject() ? longOf(budget.get("max_tokens")) : null;
        if (wrapUp != null && maxTokens != null && wrapUp >= maxTokens) {
            problems.add(Problem.at(Problem.append(path, "wrap_up_tokens"), wrapUp
                    + " leaves nothing of the leaf's max_tokens " + maxTokens + " for its work"));
        }
    }

    private void checkLeafMaxTokens(JsonNode node, List<Object> path, Map<String, Limit> effective) {
        Long leafMaxTokens = longOf(node.get("leaf_max_tokens"));
        Limit maxTokens = effective.get("max_tokens");
        if (leafMaxTokens == null || maxTokens == null || leafMaxTokens <= maxTokens.value()) {
            return;
        }
        String why = maxTokens.owner() == node
                ? " is more than this node's max_tokens " + maxTokens.value()
                : " is wider than the " + maxTokens.value() + " max_tokens allowed by ancestor '" + maxTokens.ownerPath() + "'";
        problems.add(Problem.at(Problem.append(path, "leaf_max_tokens"), leafMaxTokens + why));
    }

    /**
     * JSON Schema counts {@code 1.0} as an integer, but the records read only integers written as such; every
     * integer field of a node and its budget is checked here. (1.5 is reported by the schema too, in the same
     * words, and the validator drops the duplicate.)
     */
    private void checkIntegers(JsonNode node, List<Object> path) {
        for (String field : NODE_INTEGERS) {
            checkInteger(node.get(field), Problem.append(path, field));
        }
        JsonNode budget = node.get("budget");
        if (budget != null && budget.isObject()) {
            for (String field : DIMENSIONS) {
                checkInteger(budget.get(field), Problem.append(path, "budget", field));
            }
        }
    }

    private void checkInteger(JsonNode value, List<Object> path) {
        if (value != null && value.isNumber() && !value.isIntegralNumber()) {
            problems.add(Problem.at(path, "must be an integer, got " + Problem.describe(value)));
        }
    }

    private static long copies(JsonNode leaf) {
        Long repeat = longOf(leaf.get("repeat"));
        return repeat == null || repeat < 1 || repeat > MAX_REPEAT ? 1 : repeat;
    }

    /** The node's id when it is a valid one, else {@code fallback}: a node path must name every node somehow. */
    private static String nodeName(JsonNode node, String fallback) {
        String id = textOf(node.get("id"));
        return id != null && NODE_ID.matcher(id).matches() ? id : fallback;
    }

    private static String textOf(JsonNode value) {
        return value != null && value.isTextual() ? value.textValue() : null;
    }

    /** An integer that fits a long, else null (absent, not a number, fractional or too large: reported elsewhere). */
    private static Long longOf(JsonNode value) {
        return value != null && value.isIntegralNumber() && value.canConvertToLong() ? value.longValue() : null;
    }
}
