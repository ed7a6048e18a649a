package io.sluice.coordinator.ledger;

import java.util.Arrays;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.Map;

import io.sluice.schemas.Budget;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Reservation;
import io.sluice.schemas.Status;

/**
 * The mutable state of the workflow or of one branch. Its size does not depend on how many leaves lie below it:
 * leaves are counted by status, and the copies of a repeated leaf are a cursor in its {@link LeafSpec}.
 */
final class GroupNode implements Child {

    private static final Status[] STATUSES = Status.values();

    /** Position in the run's pre-order list of groups; a subtree is the range {@code [index, index + subtreeGroups)}. */
    final int index;
    final GroupNode parent;
    private final int indexInParent;
    final String path;
    final String kind;
    final Budget limits;
    /** Most attempts in flight below: the node's own max_parallel; for the workflow, else the ledger's run cap. */
    final Integer maxParallel;
    /** The default grant for leaves below without a max_tokens of their own: this node's or the nearest ancestor's. */
    final Long leafMaxTokens;
    /** Absolute deadline of this node's own timeout, or null. */
    final Long deadlineMs;
    /** The earliest deadline of this node and its ancestors, or null: the cap of a leaf task's deadline. */
    final Long pathDeadlineMs;
    /** Per dimension: whether this node or an ancestor limits it. */
    final boolean[] limitedOnPath = new boolean[Dim.COUNT];
    /** {@code share: even}: children (all branches) are admitted in turn, each within its share of the budget. */
    final boolean shareEven;

    Child[] children = new Child[0];
    Map<String, LeafSpec> specsById = Map.of();
    int subtreeGroups = 1;
    long totalLeaves;

    // ---- accounting (S and R of the class Javadoc of RunLedger)
    final long[] spent = new long[Dim.COUNT];
    final long[] reserved = new long[Dim.COUNT];
    /** Leaves below by status, PENDING and RUNNING included; sums to totalLeaves. */
    final long[] leafCounts = new long[STATUSES.length];
    int inFlight;

    // ---- scheduling
    /** Children that may have a dispatchable leaf; cleared when one is found blocked, set again on a finish below. */
    final BitSet runnable = new BitSet();
    /** Set when the next leaf in document order waits for a refund below this node; cleared by any finish below. */
    boolean paused;
    /** Set when this node or an ancestor halted: nothing below is dispatched any more. */
    boolean closed;
    /** Once closed: what leaves below that can no longer run end with ("halted: audit/scan max_tokens exhausted"). */
    String closedReason;
    /** Once closed: the status of the halt that closed it, for its in-flight attempts (cancelled or timed_out). */
    Status closedLeafStatus;
    /** The probe attempt among the direct leaf children, while in flight. */
    LiveLeaf probe;

    // ---- learning from finished attempts of direct leaf children
    /** Attempts that ran to their own end (succeeded, failed, budget_exceeded): only these make an estimate known. */
    long learnedFrom;
    final long[] maxObserved = new long[Dim.COUNT];
    final long[] estimateFloor = new long[Dim.COUNT];

    // ---- outcome
    boolean started;
    HaltCause halt;
    Status worstChild;
    String worstChildReason;
    long unfinishedLeaves;
    int openChildGroups;
    boolean terminal;
    Status finalStatus;
    String finalReason;
    long updatedAtMs;

    GroupNode(int index, GroupNode parent, int indexInParent, String path, String kind, Budget limits,
              Long ownLeafMaxTokens, long startedAtMs, Integer runMaxParallel, boolean shareEven) {
        this.index = index;
        this.shareEven = shareEven;
        this.parent = parent;
        this.indexInParent = indexInParent;
        this.path = path;
        this.kind = kind;
        this.limits = limits;
        this.maxParallel = limits.maxParallel() != null ? limits.maxParallel() : parent == null ? runMaxParallel : null;
        this.leafMaxTokens = ownLeafMaxTokens != null ? ownLeafMaxTokens : parent == null ? null : parent.leafMaxTokens;
        this.deadlineMs = limits.timeoutMs() == null ? null : Dim.saturatedAdd(startedAtMs, limits.timeoutMs());
        Long inherited = parent == null ? null : parent.pathDeadlineMs;
        if (inherited == null || deadlineMs == null) {
            this.pathDeadlineMs = inherited == null ? deadlineMs : inherited;
        } else {
            this.pathDeadlineMs = Math.min(inherited, deadlineMs);
        }
        for (Dim d : Dim.ALL) {
            limitedOnPath[d.ordinal()] = d.limit(limits) != null || (parent != null && parent.limitedOnPath[d.ordinal()]);
        }
        this.updatedAtMs = startedAtMs;
    }

    @Override
    public int indexInParent() {
        return indexInParent;
    }

    boolean hasSlot() {
        return maxParallel == null || inFlight < maxParallel;
    }

    /** What may still be reserved in dimension {@code d} here: {@code max(0, L − S − R)}; only for limited dimensions. */
    long headroom(Dim d, long limit) {
        return Math.max(0, limit - spent[d.ordinal()] - reserved[d.ordinal()]);
    }

    /**
     * Under a {@code share: even} parent: per dimension, what this child may still reserve within its share,
     * {@code max(0, (L − spent by finished siblings) ÷ unfinished siblings − S − R)}, L the parent's limit, and
     * {@link Dim#UNLIMITED} where the parent sets none; null when the parent shares nothing. Computed from the
     * children's numbers (one pass over the siblings), so a restored ledger sees the same.
     */
    long[] shareHeadrooms() {
        if (!underEvenShare()) {
            return null;
        }
        long[] finishedSpent = new long[Dim.COUNT];
        int unfinished = 0;
        for (Child c : parent.children) {
            GroupNode sibling = (GroupNode) c;
            if (sibling.terminal) {
                for (int i = 0; i < Dim.COUNT; i++) {
                    finishedSpent[i] = Dim.saturatedAdd(finishedSpent[i], sibling.spent[i]);
                }
            } else {
                unfinished++;
            }
        }
        long[] head = new long[Dim.COUNT];
        for (Dim d : Dim.ALL) {
            int i = d.ordinal();
            Long limit = d.limit(parent.limits);
            if (limit == null) {
                head[i] = Dim.UNLIMITED;
            } else {
                long share = Math.max(0, limit - finishedSpent[i]) / Math.max(1, unfinished);
                head[i] = Math.max(0, share - spent[i] - reserved[i]);
            }
        }
        return head;
    }

    /** True when this node's budget is divided evenly among its children, and so among its parent's. */
    boolean underEvenShare() {
        return parent != null && parent.shareEven;
    }

    /** The learned grant for dimension {@code d} (at least 1); only meaningful once {@code learnedFrom > 0}. */
    long estimate(Dim d, double margin) {
        int i = d.ordinal();
        return Math.max(1, Math.max(Dim.ceilTimes(maxObserved[i], margin), estimateFloor[i]));
    }

    /**
     * Learns from one finished attempt of a direct leaf child. A cancelled or timed-out attempt was stopped from
     * outside, and a lost one's report may be incomplete: what it reported is a lower bound of the need, kept, but
     * it does not make the estimate known (the next sibling probes again rather than trusting a truncated number).
     * What a lost attempt was charged beyond its report is not learned: it is the grant, not a need.
     */
    void learn(long[] attemptSpent, long[] grant, Status status) {
        if (status == Status.SUCCEEDED || status == Status.FAILED || status == Status.BUDGET_EXCEEDED) {
            learnedFrom++;
        }
        for (int i = 0; i < Dim.COUNT; i++) {
            maxObserved[i] = Math.max(maxObserved[i], attemptSpent[i]);
            // An attempt stopped by its grant says nothing about its need except that it was larger.
            if (status == Status.BUDGET_EXCEEDED && grant[i] != Dim.UNLIMITED && attemptSpent[i] >= grant[i]) {
                long doubled = grant[i] > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : grant[i] * 2;
                estimateFloor[i] = Math.max(estimateFloor[i], doubled);
            }
        }
    }

    /** Records that a child (leaf or group) ended; the first child reaching the worst status so far names the reason. */
    void childEnded(Status status, String reason) {
        if (worstChild == null || (status != worstChild && Status.worse(worstChild, status) == status)) {
            worstChild = status;
            worstChildReason = reason;
        }
    }

    /** Ends this node: its own halt cause if it halted, else its children's worst status. */
    void finish() {
        terminal = true;
        if (halt != null) {
            finalStatus = halt.nodeStatus();
            finalReason = withOvershoot(halt.describe(this));
        } else if (worstChild == null || worstChild == Status.SUCCEEDED) {
            finalStatus = Status.SUCCEEDED;
            finalReason = withOvershoot(totalLeaves == 0 ? "no leaves" : "all " + totalLeaves + " leaves succeeded");
        } else {
            finalStatus = worstChild;
            finalReason = withOvershoot(worstChildReason);
        }
        if (shareEven) {
            finalReason = finalReason + "; budget shared evenly among " + children.length + " branches";
        }
    }

    Status status() {
        if (terminal) {
            return finalStatus;
        }
        return started ? Status.RUNNING : Status.PENDING;
    }

    String reason() {
        if (terminal) {
            return finalReason;
        }
        if (halt != null) {
            return withOvershoot(halt.describe(this));
        }
        return overshoot() > 0 ? withOvershoot(null) : null;
    }

    /** Tokens spent beyond this node's max_tokens. */
    long overshoot() {
        Long max = limits.maxTokens();
        return max == null ? 0 : Math.max(0, spent[Dim.TOKENS.ordinal()] - max);
    }

    private String withOvershoot(String reason) {
        long over = overshoot();
        if (over == 0 || (halt != null && halt.dim() == Dim.TOKENS)) {
            return reason; // a max_tokens halt's own text already states it
        }
        String note = "overshoot " + over + " tokens beyond max_tokens " + limits.maxTokens();
        return reason == null ? note : reason + "; " + note;
    }

    LedgerEntry entry(String runId, Mode mode) {
        Map<Status, Long> counts = new EnumMap<>(Status.class);
        for (Status s : STATUSES) {
            if (leafCounts[s.ordinal()] != 0) {
                counts.put(s, leafCounts[s.ordinal()]);
            }
        }
        return new LedgerEntry(runId, path, kind, mode, status(), reason(), limits, Dim.reservation(reserved),
                Dim.usage(spent), counts, overshoot(), updatedAtMs, null, null, null, null, null, fold());
    }

    /** True when the parent passes this node over until an attempt below it finishes or a retry below it is due. */
    boolean blocked() {
        return parent != null && !parent.runnable.get(indexInParent);
    }

    /** What a restoring coordinator needs beyond the entry's other fields; null once terminal or when all default. */
    private LedgerEntry.Fold fold() {
        if (terminal) {
            return null;
        }
        Long learned = learnedFrom == 0 ? null : learnedFrom;
        Reservation observed = isZero(maxObserved) ? null : Dim.reservation(maxObserved);
        Reservation floor = isZero(estimateFloor) ? null : Dim.reservation(estimateFloor);
        String haltedFor = halt == null ? null : halt.field();
        String cancelledBy = halt == null ? null : halt.cancelledBy();
        Boolean isPaused = paused ? Boolean.TRUE : null;
        Boolean isBlocked = blocked() ? Boolean.TRUE : null;
        if (learned == null && observed == null && floor == null && worstChild == null && haltedFor == null
                && isPaused == null && isBlocked == null) {
            return null;
        }
        return LedgerEntry.Fold.ofGroup(learned, observed, floor, worstChild, worstChildReason, haltedFor, isPaused,
                isBlocked, cancelledBy);
    }

    private static boolean isZero(long[] amounts) {
        for (long a : amounts) {
            if (a != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Takes this node's own state from its latest entry: spend, reservations, leaf counts, status, and the fold
     * state (learned estimates, worst child, halt, pause). What depends on other nodes — closure by a halted
     * ancestor, open child groups, the parent's runnable bit, the probe — {@link LedgerRestore} sets.
     *
     * @throws IllegalArgumentException naming the path and the field, when the entry cannot be this node's
     */
    void restore(LedgerEntry e) {
        if (!kind.equals(e.kind())) {
            throw new IllegalArgumentException(path + ": entry of kind " + e.kind() + " for a " + kind);
        }
        Status status = e.status();
        if (status == null || status == Status.REJECTED || status == Status.LOST) {
            throw new IllegalArgumentException(path + ": a " + kind + " cannot have status "
                    + (status == null ? "null" : status.wire()));
        }
        System.arraycopy(Dim.of(e.spent()), 0, spent, 0, Dim.COUNT);
        System.arraycopy(Dim.of(e.reserved()), 0, reserved, 0, Dim.COUNT);
        Arrays.fill(leafCounts, 0);
        long sum = 0;
        for (Map.Entry<Status, Long> c : e.leaves().entrySet()) {
            if (c.getKey() == Status.REJECTED || c.getKey() == Status.LOST || c.getValue() == null || c.getValue() < 0) {
                throw new IllegalArgumentException(path + ": leaves " + e.leaves() + " are not counts of leaf statuses");
            }
            leafCounts[c.getKey().ordinal()] = c.getValue();
            sum += c.getValue();
        }
        if (sum != totalLeaves) {
            throw new IllegalArgumentException(path + ": leaves " + e.leaves() + " count " + sum + " leaves, but it has "
                    + totalLeaves);
        }
        unfinishedLeaves = leafCounts[Status.PENDING.ordinal()] + leafCounts[Status.RUNNING.ordinal()];
        inFlight = Math.toIntExact(leafCounts[Status.RUNNING.ordinal()]);
        terminal = status.isTerminal();
        if (terminal) {
            if (unfinishedLeaves > 0) {
                throw new IllegalArgumentException(path + ": " + status.wire() + " with leaves " + e.leaves()
                        + " unfinished");
            }
            finalStatus = status;
            finalReason = e.reason();
        }
        started = status != Status.PENDING;
        updatedAtMs = e.updatedAtMs();
        LedgerEntry.Fold f = e.fold();
        if (f == null) {
            return;
        }
        learnedFrom = f.learned() == null ? 0 : f.learned();
        System.arraycopy(Dim.of(f.observed()), 0, maxObserved, 0, Dim.COUNT);
        System.arraycopy(Dim.of(f.floor()), 0, estimateFloor, 0, Dim.COUNT);
        worstChild = f.worst();
        worstChildReason = f.worstReason();
        if (f.haltedFor() != null) {
            halt = HaltCause.of(f.haltedFor(), limits, parent == null ? null : parent.limits, f.cancelledBy());
            if (halt == null) {
                throw new IllegalArgumentException(path + ": halted for " + f.haltedFor() + ", a limit it does not have");
            }
        }
        paused = Boolean.TRUE.equals(f.paused());
    }
}
