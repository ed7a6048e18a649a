package io.sluice.coordinator;

import java.util.ArrayList;
import java.util.List;

import io.sluice.schemas.Branch;
import io.sluice.schemas.Leaf;
import io.sluice.schemas.Node;
import io.sluice.schemas.NodePaths;
import io.sluice.schemas.Submission;

/**
 * The retirement of one finished run once its retention has passed: a tombstone for every key the run can have on
 * the ledger (every workflow, branch and leaf path) and on the control topic (every workflow and branch path, the
 * nodes that can halt), then a retired run record that keeps only its id. Tombstones for keys the run never wrote are
 * harmless; the log cleaner drops them with the rest.
 *
 * <p>The keys are walked lazily, a bounded number per transaction, so that a run of a million leaves is retired over
 * many transactions; a coordinator that takes the partition over in the middle starts its retirement again (the
 * tombstones are idempotent). Not thread-safe: the loop's thread owns it.
 */
final class RunRetirement {

    final String runId;
    final int partition;
    final long startedAtMs;
    final long dueAtMs;
    private final List<String> groups = new ArrayList<>();
    /** A leaf definition: its parent's path, its id and how many copies it stands for. */
    private record LeafDef(String parent, String id, int copies) {
    }

    private final List<LeafDef> leaves = new ArrayList<>();
    private int group;
    private int leaf;
    private int copy;

    RunRetirement(String runId, int partition, long startedAtMs, long dueAtMs, Submission submission) {
        this.runId = runId;
        this.partition = partition;
        this.startedAtMs = startedAtMs;
        this.dueAtMs = dueAtMs;
        String root = submission.workflow().id();
        groups.add(root);
        walk(root, submission.workflow().nodes());
    }

    private void walk(String path, List<Node> nodes) {
        for (Node n : nodes) {
            String child = NodePaths.child(path, n.id());
            if (n instanceof Branch b) {
                groups.add(child);
                walk(child, b.nodes());
            } else {
                Leaf l = (Leaf) n;
                leaves.add(new LeafDef(path, l.id(), l.repeat() == null ? 1 : Math.max(1, l.repeat())));
            }
        }
    }

    /** The next path to tombstone, or null when every one was; {@code group} tells whether it can have halted. */
    record Key(String path, boolean group) {
    }

    Key next() {
        if (group < groups.size()) {
            return new Key(groups.get(group++), true);
        }
        while (leaf < leaves.size()) {
            LeafDef spec = leaves.get(leaf);
            if (copy < spec.copies()) {
                return new Key(NodePaths.child(spec.parent(), NodePaths.copy(spec.id(), copy++, spec.copies())), false);
            }
            leaf++;
            copy = 0;
        }
        return null;
    }
}
