package io.sluice.coordinator.ledger;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Status;

/**
 * Rebuilds a {@link RunLedger} (fresh from {@link RunLedger#restore}) from the latest ledger entries of its run, in
 * one pass over them plus one over the tree: O(entries + nodes + depth × leaves live) time, and nothing kept per
 * finished leaf but, in runs small enough for leaf-level receipts, its final entry. The rules are in the class
 * Javadoc of {@link RunLedger}, under Recovery.
 *
 * <p>Entries are checked against each other as well as against the submission: a node's leaf counts and
 * reservations must be those of the leaf entries below it, and the copies of a leaf must have entries in document
 * order. What does not fit throws {@link IllegalArgumentException} naming the paths.
 */
final class LedgerRestore {

    /** How many offending entries a message names before it only counts the rest. */
    private static final int NAMED = 10;

    private final RunLedger ledger;
    private final RunTree tree;
    private final String runId;
    private final Mode mode;
    /**
     * Per group (by pre-order index): leaves in flight, and leaves between attempts or never dispatched, directly
     * below it — then, summed up the tree, below it.
     */
    private final long[] running;
    private final long[] pending;
    /** Per group, what the attempts in flight directly below it (then: below it) have left of their grants. */
    private final long[][] reservedBelow;

    LedgerRestore(RunLedger ledger) {
        this.ledger = ledger;
        this.tree = ledger.tree();
        this.runId = ledger.runId();
        this.mode = ledger.mode();
        this.running = new long[tree.groups.size()];
        this.pending = new long[tree.groups.size()];
        this.reservedBelow = new long[tree.groups.size()][Dim.COUNT];
    }

    void restore(Collection<LedgerEntry> entries) {
        LedgerEntry[] groupEntries = new LedgerEntry[tree.groups.size()];
        // Leaves in flight or between attempts; a later entry of a path replaces an earlier one, whatever its status.
        Map<String, LedgerEntry> live = new LinkedHashMap<>();
        BitSet seen = new BitSet(tree.totalLeaves);
        List<String> foreign = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        long latest = ledger.startedAtMs();
        for (LedgerEntry e : entries) {
            Objects.requireNonNull(e, "entries: null entry");
            if (!runId.equals(e.runId())) {
                foreign.add(e.runId() + "|" + e.path());
                continue;
            }
            String path = e.path();
            GroupNode g = path == null ? null : tree.groupsByPath.get(path);
            RunTree.LeafRef ref = g != null || path == null ? null : tree.leaf(path);
            if (g == null && ref == null) {
                unknown.add(path);
                continue;
            }
            if (e.mode() != mode) {
                throw new IllegalArgumentException(path + ": entry in " + (e.mode() == null ? "no" : e.mode().wire())
                        + " mode, but run " + runId + " runs in " + mode.wire() + " mode");
            }
            latest = Math.max(latest, e.updatedAtMs());
            if (g != null) {
                groupEntries[g.index] = e;
                continue;
            }
            if (!"leaf".equals(e.kind())) {
                throw new IllegalArgumentException(path + ": entry of kind " + e.kind() + " for a leaf");
            }
            Status status = e.status();
            if (status == null || status == Status.LOST || status == Status.REJECTED) {
                throw new IllegalArgumentException(path + ": a leaf cannot have status "
                        + (status == null ? "null" : status.wire()));
            }
            seen.set(ref.ordinal());
            LeafSpec spec = ref.spec();
            spec.nextCopy = Math.max(spec.nextCopy, ref.copy() + 1);
            if (status.isTerminal()) {
                live.remove(path);
                ledger.adoptFinished(ref.ordinal(), e);
            } else {
                live.put(path, e);
                ledger.adoptFinished(ref.ordinal(), null);
            }
        }
        if (!foreign.isEmpty()) {
            throw new IllegalArgumentException("entries of other runs given to restore run " + runId + ": " + named(foreign));
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("entries of paths run " + runId + " does not have: " + named(unknown));
        }
        restoreGroups(groupEntries);
        restoreLeaves(live.values());
        restoreCursors(seen);
        checkCounts();
        restoreScheduling(groupEntries);
        ledger.adoptClock(latest);
    }

    /** Every group's own state, then (pre-order: parents first) what it inherits from halted ancestors. */
    private void restoreGroups(LedgerEntry[] groupEntries) {
        List<String> missing = new ArrayList<>();
        for (GroupNode g : tree.groups) {
            if (groupEntries[g.index] == null) {
                missing.add(g.path);
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("no entry for " + named(missing)
                    + ": every workflow and branch has one from the run's start");
        }
        for (GroupNode g : tree.groups) {
            g.restore(groupEntries[g.index]);
            GroupNode parent = g.parent;
            if (g.halt != null) {
                close(g, g.halt.cancels(g.path), g.halt.haltStatus());
            } else if (parent != null && parent.closed) {
                close(g, parent.closedReason, parent.closedLeafStatus);
            }
            if (parent != null && g.terminal) {
                parent.openChildGroups--;
            }
            if (parent != null && parent.terminal && !g.terminal) {
                throw new IllegalArgumentException(g.path + " is " + g.status().wire() + ", but " + parent.path
                        + " above it ended " + parent.finalStatus.wire());
            }
        }
    }

    /**
     * Closed by its own halt or a halted ancestor's. Halts close whole subtrees and a closed node never halts, so a
     * node's closing halt is its deepest halted ancestor's (or its own).
     */
    private static void close(GroupNode g, String reason, Status leafStatus) {
        g.closed = true;
        g.closedReason = reason;
        g.closedLeafStatus = leafStatus;
        g.paused = false;
    }

    private void restoreLeaves(Collection<LedgerEntry> live) {
        for (LedgerEntry e : live) {
            RunTree.LeafRef ref = tree.leaf(e.path());
            LeafSpec spec = ref.spec();
            GroupNode parent = spec.parent;
            if (parent.terminal) {
                throw new IllegalArgumentException(e.path() + ": " + e.status().wire() + ", but " + parent.path
                        + " above it ended " + parent.finalStatus.wire());
            }
            if (e.attempt() == null || e.attempt() < 1) {
                throw new IllegalArgumentException(e.path() + ": a " + e.status().wire()
                        + " leaf's entry needs its attempt (≥ 1), got " + e.attempt());
            }
            long[] spent = Dim.of(e.spent());
            int maxAttempts = ledger.maxAttempts(spec);
            if (e.status() == Status.RUNNING) {
                List<String> absent = new ArrayList<>();
                if (e.grant() == null) {
                    absent.add("grant");
                }
                if (e.attemptSpent() == null) {
                    absent.add("attempt_spent");
                }
                if (e.lastSeq() == null) {
                    absent.add("last_seq");
                }
                if (!absent.isEmpty()) {
                    throw new IllegalArgumentException(e.path() + ": a running leaf's entry needs attempt, grant, "
                            + "attempt_spent and last_seq; it has no " + String.join(", ", absent));
                }
                long[] grant = Dim.of(e.grant());
                long[] left = grantLeft(e, grant);
                LiveLeaf leaf = LiveLeaf.inFlight(spec, ref.copy(), maxAttempts, e, grant, left,
                        Dim.of(e.attemptSpent()), spent);
                ledger.adoptInFlight(leaf);
                running[parent.index]++;
                for (int i = 0; i < Dim.COUNT; i++) {
                    reservedBelow[parent.index][i] += left[i] == Dim.UNLIMITED ? 0 : left[i];
                }
                adoptProbe(leaf);
            } else {
                if (e.retryAtMs() == null) {
                    throw new IllegalArgumentException(e.path() + ": a pending leaf's entry needs attempt and "
                            + "retry_at_ms (a leaf never dispatched has no entry)");
                }
                if (parent.closed) {
                    throw new IllegalArgumentException(e.path() + ": waits for a retry below a halted node ("
                            + parent.closedReason + ")");
                }
                ledger.adoptBetweenAttempts(LiveLeaf.between(spec, ref.copy(), maxAttempts, e, spent));
                pending[parent.index]++;
            }
        }
    }

    /**
     * In strict mode, while nothing under a node is learned, its leaves that need an estimate are dispatched one at
     * a time as probes (the others wait for the probe's result): such a leaf in flight is the probe. Once something
     * is learned, probes no longer matter.
     */
    private void adoptProbe(LiveLeaf leaf) {
        GroupNode parent = leaf.spec.parent;
        if (mode != Mode.STRICT || parent.learnedFrom > 0 || !GrantPolicy.probes(leaf.spec)) {
            return;
        }
        if (parent.probe != null) {
            throw new IllegalArgumentException(leaf.path + " and " + parent.probe.path + " are both in flight as probes"
                    + " under " + parent.path + ", where nothing is learned yet: one waits for the other");
        }
        parent.probe = leaf;
        leaf.probe = true;
    }

    /** What is left of the grant: the leaf's reservation, which its grant must cover. */
    private static long[] grantLeft(LedgerEntry e, long[] grant) {
        long[] reserved = Dim.of(e.reserved());
        long[] left = new long[Dim.COUNT];
        for (Dim d : Dim.ALL) {
            int i = d.ordinal();
            boolean fits = grant[i] == Dim.UNLIMITED ? reserved[i] == 0 : reserved[i] >= 0 && reserved[i] <= grant[i];
            if (!fits) {
                throw new IllegalArgumentException(e.path() + ": reserved " + e.reserved() + " is not within its grant "
                        + e.grant());
            }
            left[i] = grant[i] == Dim.UNLIMITED ? Dim.UNLIMITED : reserved[i];
        }
        return left;
    }

    /**
     * Each leaf definition's cursor: its copies are dispatched (or refused) in document order, so those with entries
     * come first, without gaps. Below a halted node, and below a node that ended, the rest were cancelled with a halt
     * (listed only in runs small enough for leaf-level receipts).
     */
    private void restoreCursors(BitSet seen) {
        for (GroupNode g : tree.groups) {
            for (Child c : g.children) {
                if (!(c instanceof LeafSpec spec)) {
                    continue;
                }
                int gap = seen.nextClearBit(spec.firstOrdinal) - spec.firstOrdinal;
                if (gap < spec.nextCopy) {
                    throw new IllegalArgumentException("no entry for " + spec.path(gap) + ", though "
                            + spec.path(spec.nextCopy - 1) + " has one: copies are dispatched in order");
                }
                if (g.closed || g.terminal) {
                    spec.nextCopy = spec.copies; // (a terminal node's entry no longer says whether it halted)
                }
            }
        }
    }

    /**
     * Every node's counts of running and pending leaves, and its reservations, must be those of the leaves below it:
     * in flight, between attempts, and never dispatched. Summed per parent, then up the tree (reverse pre-order).
     */
    private void checkCounts() {
        for (GroupNode g : tree.groups) {
            for (Child c : g.children) {
                if (c instanceof LeafSpec spec) {
                    pending[g.index] += spec.pending();
                }
            }
        }
        for (int i = tree.groups.size() - 1; i > 0; i--) {
            GroupNode g = tree.groups.get(i);
            running[g.parent.index] += running[i];
            pending[g.parent.index] += pending[i];
            for (int d = 0; d < Dim.COUNT; d++) {
                reservedBelow[g.parent.index][d] += reservedBelow[i][d];
            }
        }
        for (GroupNode g : tree.groups) {
            long r = g.leafCounts[Status.RUNNING.ordinal()];
            long p = g.leafCounts[Status.PENDING.ordinal()];
            if (r != running[g.index] || p != pending[g.index]) {
                throw new IllegalArgumentException(g.path + ": its entry counts " + r + " running and " + p
                        + " pending leaves, but the leaf entries below it make " + running[g.index] + " and "
                        + pending[g.index]);
            }
            for (int d = 0; d < Dim.COUNT; d++) {
                if (g.reserved[d] != reservedBelow[g.index][d]) {
                    throw new IllegalArgumentException(g.path + ": reserved " + Dim.reservation(g.reserved)
                            + ", but the leaves in flight below it hold " + Dim.reservation(reservedBelow[g.index]));
                }
            }
        }
    }

    /**
     * Each node's runnable children: a leaf definition while it has copies or due retries to admit (a bit set
     * without them only costs a look), a branch not ended unless its entry shows it blocked.
     */
    private void restoreScheduling(LedgerEntry[] groupEntries) {
        for (GroupNode g : tree.groups) {
            g.runnable.clear();
            for (Child c : g.children) {
                boolean runnable;
                if (c instanceof LeafSpec spec) {
                    runnable = spec.hasPending();
                } else {
                    GroupNode child = (GroupNode) c;
                    LedgerEntry.Fold f = groupEntries[child.index].fold();
                    runnable = !child.terminal && child.totalLeaves > 0 && (f == null || !Boolean.TRUE.equals(f.blocked()));
                }
                if (runnable) {
                    g.runnable.set(c.indexInParent());
                }
            }
        }
    }

    /** "a, b, c" — at most {@link #NAMED} of them, then how many more. */
    private static String named(List<String> items) {
        String shown = String.join(", ", items.subList(0, Math.min(NAMED, items.size())));
        return items.size() <= NAMED ? shown : shown + " and " + (items.size() - NAMED) + " more";
    }
}
