package io.sluice.coordinator.ledger;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.sluice.schemas.Branch;
import io.sluice.schemas.Budget;
import io.sluice.schemas.Leaf;
import io.sluice.schemas.Share;
import io.sluice.schemas.Node;
import io.sluice.schemas.NodePaths;
import io.sluice.schemas.Status;
import io.sluice.schemas.Workflow;

/**
 * The static shape of a run: its groups in pre-order and its leaf definitions, built once from the workflow. Its
 * size is that of the submission, whatever the {@code repeat} of its leaves.
 */
final class RunTree {

    final GroupNode root;
    /** Pre-order: every group's subtree is a contiguous range. */
    final List<GroupNode> groups;
    final Map<String, GroupNode> groupsByPath;
    /** Groups with a timeout, by (deadline, pre-order). */
    final GroupNode[] byDeadline;
    final int totalLeaves;

    private RunTree(GroupNode root, List<GroupNode> groups, Map<String, GroupNode> groupsByPath, int totalLeaves) {
        this.root = root;
        this.groups = List.copyOf(groups);
        this.groupsByPath = groupsByPath;
        this.totalLeaves = totalLeaves;
        this.byDeadline = groups.stream().filter(g -> g.deadlineMs != null)
                .sorted(Comparator.<GroupNode>comparingLong(g -> g.deadlineMs).thenComparingInt(g -> g.index))
                .toArray(GroupNode[]::new);
    }

    /** One leaf of the run: a copy of a leaf definition. */
    record LeafRef(LeafSpec spec, int copy) {

        int ordinal() {
            return spec.firstOrdinal + copy;
        }
    }

    /** The leaf a path names, or null when it names no leaf of this run. */
    LeafRef leaf(String path) {
        String parentPath = NodePaths.parent(path);
        GroupNode parent = parentPath == null ? null : groupsByPath.get(parentPath);
        if (parent == null) {
            return null;
        }
        String last = path.substring(parentPath.length() + 1);
        LeafSpec spec = parent.specsById.get(last);
        if (spec != null && spec.copies == 1) {
            return new LeafRef(spec, 0);
        }
        int open = last.lastIndexOf('[');
        if (open <= 0 || !last.endsWith("]")) {
            return null;
        }
        spec = parent.specsById.get(last.substring(0, open));
        if (spec == null || spec.copies == 1) {
            return null;
        }
        try {
            int copy = Integer.parseInt(last.substring(open + 1, last.length() - 1));
            return copy >= 0 && copy < spec.copies && spec.path(copy).equals(path) ? new LeafRef(spec, copy) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * @throws IllegalArgumentException for what schema validation should have refused (duplicate sibling ids,
     *                                  negative limits, max_parallel or max_attempts below 1, more than 2^31−1
     *                                  leaves)
     */
    static RunTree build(Workflow workflow, long startedAtMs, int runMaxParallel) {
        Builder b = new Builder(startedAtMs);
        Branch asBranch = workflow.asBranch();
        checkBudget(workflow.id(), asBranch.budget());
        GroupNode root = new GroupNode(0, null, -1, workflow.id(), "workflow", asBranch.budget(), asBranch.leafMaxTokens(),
                startedAtMs, runMaxParallel, asBranch.shareOrDefault() == Share.EVEN);
        b.add(root);
        b.fill(root, asBranch.nodes());
        return new RunTree(root, b.groups, b.byPath, (int) b.leaves);
    }

    private static void checkBudget(String path, Budget budget) {
        for (Dim d : Dim.ALL) {
            Long v = d.limit(budget);
            if (v != null && v < 0) {
                throw new IllegalArgumentException(path + ": " + d.field + " must be ≥ 0, got " + v);
            }
        }
        if (budget.timeoutMs() != null && budget.timeoutMs() < 0) {
            throw new IllegalArgumentException(path + ": timeout_ms must be ≥ 0, got " + budget.timeoutMs());
        }
        if (budget.maxParallel() != null && budget.maxParallel() < 1) {
            throw new IllegalArgumentException(path + ": max_parallel must be ≥ 1, got " + budget.maxParallel());
        }
    }

    private static final class Builder {
        private final long startedAtMs;
        private final List<GroupNode> groups = new ArrayList<>();
        private final Map<String, GroupNode> byPath = new HashMap<>();
        private long leaves;

        Builder(long startedAtMs) {
            this.startedAtMs = startedAtMs;
        }

        void add(GroupNode g) {
            groups.add(g);
            byPath.put(g.path, g);
        }

        void fill(GroupNode g, List<Node> nodes) {
            Child[] children = new Child[nodes.size()];
            Map<String, LeafSpec> specs = new HashMap<>();
            Set<String> ids = new HashSet<>();
            long below = 0;
            int openGroups = 0;
            for (int i = 0; i < nodes.size(); i++) {
                Node n = nodes.get(i);
                if (!ids.add(n.id())) {
                    throw new IllegalArgumentException(g.path + ": duplicate child id '" + n.id() + "'");
                }
                String path = NodePaths.child(g.path, n.id());
                checkBudget(path, n.budget());
                if (n instanceof Branch br) {
                    GroupNode child = new GroupNode(groups.size(), g, i, path, "branch", br.budget(), br.leafMaxTokens(),
                            startedAtMs, null, br.shareOrDefault() == Share.EVEN);
                    add(child);
                    fill(child, br.nodes());
                    children[i] = child;
                    below += child.totalLeaves;
                    openGroups++;
                } else {
                    Leaf leaf = (Leaf) n;
                    if (g.shareEven) {
                        throw new IllegalArgumentException(g.path + ": even shares need branch children, but " + n.id()
                                + " is a leaf");
                    }
                    if (leaf.maxAttempts() != null && leaf.maxAttempts() < 1) {
                        throw new IllegalArgumentException(path + ": max_attempts must be ≥ 1, got " + leaf.maxAttempts());
                    }
                    if (leaves + Math.max(0, leaf.copies()) > Integer.MAX_VALUE) {
                        throw new IllegalArgumentException(path + ": a run may have at most " + Integer.MAX_VALUE + " leaves");
                    }
                    LeafSpec spec = new LeafSpec(leaf, g, i, (int) leaves);
                    leaves += spec.copies;
                    below += spec.copies;
                    children[i] = spec;
                    specs.put(leaf.id(), spec);
                    if (spec.copies > 0) {
                        g.runnable.set(i);
                    }
                }
            }
            for (Child c : children) {
                if (c instanceof GroupNode child && child.totalLeaves > 0) {
                    g.runnable.set(child.indexInParent());
                }
            }
            g.children = children;
            g.specsById = specs;
            g.totalLeaves = below;
            g.unfinishedLeaves = below;
            g.openChildGroups = openGroups;
            g.leafCounts[Status.PENDING.ordinal()] = below;
            g.subtreeGroups = groups.size() - g.index;
        }
    }
}
