package io.sluice.coordinator.ledger;

import java.util.Arrays;

import io.sluice.schemas.Budget;

/**
 * Admission of the next pending copy of a leaf: the grant it would get, or why it waits or is refused. A pure
 * function of the tree's current numbers; {@link RunLedger} carries the verdict out. The rules are documented on
 * {@link RunLedger}.
 */
final class GrantPolicy {

    private GrantPolicy() {
    }

    /** The outcome of one admission attempt. */
    sealed interface Verdict permits Dispatch, Wait, Refuse {
    }

    /** Dispatch now with this grant ({@link Dim#UNLIMITED} per unlimited dimension). */
    record Dispatch(long[] grant, boolean probe) implements Verdict {
    }

    /** Wait: a refund (or the probe's result) may come from in-flight attempts below {@code pauseAt}. */
    record Wait(GroupNode pauseAt) implements Verdict {
    }

    /**
     * The leaf ends budget_exceeded without spending; {@code haltAt}, if not null, halts for {@code dim} with limit
     * {@code limit} — or, with {@code share}, for its even share of its parent's {@code limit}.
     */
    record Refuse(String reason, GroupNode haltAt, Dim dim, long limit, boolean share) implements Verdict {
        Refuse(String reason, GroupNode haltAt, Dim dim, long limit) {
            this(reason, haltAt, dim, limit, false);
        }
    }

    /**
     * @param spentBefore for a retry, what the leaf's earlier attempts were charged (its own limits get only the
     *                    rest); null for a first attempt
     */
    static Verdict strict(LeafSpec spec, long[] spentBefore, LedgerConfig config) {
        GroupNode parent = spec.parent;
        Budget own = spec.leaf.budget();
        long[] desired = new long[Dim.COUNT];
        boolean[] probeDim = new boolean[Dim.COUNT];
        boolean needsProbe = false;
        for (Dim d : Dim.ALL) {
            int i = d.ordinal();
            Long ownLimit = d.limit(own);
            if (ownLimit != null) {
                desired[i] = ownLeft(ownLimit, spentBefore, i); // a leaf's own budget limits it across its attempts
            } else if (learns(spec, d)) {
                if (parent.learnedFrom > 0) {
                    desired[i] = parent.estimate(d, config.estimateMargin());
                } else {
                    probeDim[i] = true;
                    needsProbe = true;
                }
            } else if (d == Dim.TOKENS && parent.leafMaxTokens != null) {
                desired[i] = Math.max(1, parent.leafMaxTokens);
            } else {
                desired[i] = Dim.UNLIMITED;
            }
        }

        long[] minHead = new long[Dim.COUNT];
        Arrays.fill(minHead, Long.MAX_VALUE);
        int depth = 0;
        for (GroupNode a = parent; a != null; a = a.parent) {
            depth++;
        }
        long[][] shareHeads = new long[depth][]; // per ancestor from the parent up: its even-share headroom, or null
        int k = 0;
        for (GroupNode a = parent; a != null; a = a.parent, k++) {
            shareHeads[k] = a.shareHeadrooms();
            for (Dim d : Dim.ALL) {
                Long limit = d.limit(a.limits);
                if (limit != null) {
                    minHead[d.ordinal()] = Math.min(minHead[d.ordinal()], a.headroom(d, limit));
                }
                if (shareHeads[k] != null && shareHeads[k][d.ordinal()] != Dim.UNLIMITED) {
                    minHead[d.ordinal()] = Math.min(minHead[d.ordinal()], shareHeads[k][d.ordinal()]);
                }
            }
        }
        for (int i = 0; i < Dim.COUNT; i++) {
            if (probeDim[i]) {
                desired[i] = minHead[i]; // a probe takes all that is available, to learn the need
            }
        }

        // The leaf's own limits: never a reason to halt anything. The desired grant there is what the leaf has left
        // of its own budget (all of it on a first attempt), so it only blocks when nothing is left (max_tokens: 0).
        for (Dim d : Dim.ALL) {
            Long ownLimit = d.limit(own);
            if (ownLimit != null && ownLeft(ownLimit, spentBefore, d.ordinal()) < 1) {
                return refuseOwn(d, ownLimit, spentBefore);
            }
        }

        // Ancestors, from the leaf's parent up: blocking nodes are busy (wait) or idle (last chance or refuse).
        GroupNode highestBusy = null;
        k = 0;
        for (GroupNode a = parent; a != null; a = a.parent, k++) {
            for (Dim d : Dim.ALL) {
                int i = d.ordinal();
                Long limit = d.limit(a.limits);
                if (limit == null || desired[i] == Dim.UNLIMITED) {
                    continue;
                }
                long head = a.headroom(d, limit);
                long required = Math.max(desired[i], 1);
                if (head >= required) {
                    continue;
                }
                if (a.inFlight > 0) {
                    highestBusy = a;
                } else if (head < useful(desired[i], config)) {
                    // Idle and short even for a last chance: nothing below it can refund, so this is final. The
                    // deepest such node halts; an exhausted ancestor halts when one of its own leaves is refused.
                    return new Refuse("not admitted: grant " + required + " > remaining " + head + " at " + a.path + " ("
                            + d.field + ")", a, d, limit);
                }
            }
            Refuse share = shareCheck(a, shareHeads[k], desired, config);
            if (share == WAIT) {
                highestBusy = a;
            } else if (share != null) {
                return share;
            }
        }
        if (needsProbe && parent.probe != null && highestBusy == null) {
            // Siblings wait for the probe's result. (Also implied by the budget: the probe holds all the headroom.)
            highestBusy = parent;
        }
        if (highestBusy != null) {
            return new Wait(highestBusy);
        }
        long[] grant = new long[Dim.COUNT];
        for (int i = 0; i < Dim.COUNT; i++) {
            // Where the desired grant does not fit (all blockers idle), this is the last chance: what remains.
            grant[i] = desired[i] == Dim.UNLIMITED ? Dim.UNLIMITED : Math.min(desired[i], minHead[i]);
        }
        return new Dispatch(grant, needsProbe);
    }

    /** {@link #shareCheck}: wait at the child. */
    private static final Refuse WAIT = new Refuse("wait", null, null, 0, true);

    /**
     * Under a {@code share: even} parent, whether the child {@code a} can take the desired grant within its share
     * ({@code heads}, {@link GroupNode#shareHeadrooms}): null when it can (or gets a last chance), {@link #WAIT} when an attempt
     * in flight below it — or below a sibling, whose end may leave its share to the others — may make room, else the
     * refusal that halts the child for its share.
     */
    private static Refuse shareCheck(GroupNode a, long[] heads, long[] desired, LedgerConfig config) {
        if (heads == null) {
            return null;
        }
        for (Dim d : Dim.ALL) {
            int i = d.ordinal();
            Long parentLimit = d.limit(a.parent.limits);
            if (parentLimit == null || desired[i] == Dim.UNLIMITED) {
                continue;
            }
            long head = heads[i];
            long required = Math.max(desired[i], 1);
            if (head >= required) {
                continue;
            }
            if (a.inFlight > 0 || a.parent.inFlight > 0) {
                return WAIT;
            }
            if (head < useful(desired[i], config)) {
                return new Refuse("not admitted: grant " + required + " > remaining " + head + " of " + a.path
                        + "'s even share of " + a.parent.path + " (" + d.field + ")", a, d, parentLimit, true);
            }
        }
        return null;
    }

    /**
     * True when strict mode sizes the spec's grant in dimension {@code d} from what its siblings spent: neither the
     * leaf nor {@code leaf_max_tokens} sets it, and a node on its path limits it.
     */
    static boolean learns(LeafSpec spec, Dim d) {
        return d.limit(spec.leaf.budget()) == null && !(d == Dim.TOKENS && spec.parent.leafMaxTokens != null)
                && spec.parent.limitedOnPath[d.ordinal()];
    }

    /** True when the spec's leaves are dispatched as probes while nothing under their parent is learned yet. */
    static boolean probes(LeafSpec spec) {
        for (Dim d : Dim.ALL) {
            if (learns(spec, d)) {
                return true;
            }
        }
        return false;
    }

    /** @param spentBefore as for {@link #strict} */
    static Verdict optimistic(LeafSpec spec, long[] spentBefore) {
        GroupNode parent = spec.parent;
        Budget own = spec.leaf.budget();
        for (GroupNode a = parent; a != null; a = a.parent) {
            for (Dim d : Dim.ALL) {
                Long limit = d.limit(a.limits);
                if (limit != null && a.spent[d.ordinal()] >= limit) {
                    return new Refuse("not admitted: " + a.path + " " + d.field + " " + limit + " exhausted (spent "
                            + a.spent[d.ordinal()] + ")", a, d, limit);
                }
            }
        }
        long[] grant = new long[Dim.COUNT];
        for (Dim d : Dim.ALL) {
            int i = d.ordinal();
            Long ownLimit = d.limit(own);
            if (ownLimit != null && ownLeft(ownLimit, spentBefore, i) < 1) {
                return refuseOwn(d, ownLimit, spentBefore);
            }
            if (ownLimit != null) {
                grant[i] = ownLeft(ownLimit, spentBefore, i);
            } else if (d == Dim.TOKENS && parent.leafMaxTokens != null) {
                grant[i] = parent.leafMaxTokens;
            } else {
                grant[i] = Dim.UNLIMITED;
            }
        }
        return new Dispatch(grant, false);
    }

    /** What the leaf's own limit leaves for its next attempt. */
    private static long ownLeft(long ownLimit, long[] spentBefore, int i) {
        return spentBefore == null ? ownLimit : Math.max(0, ownLimit - spentBefore[i]);
    }

    private static Refuse refuseOwn(Dim d, long ownLimit, long[] spentBefore) {
        String reason = spentBefore == null || ownLimit < 1
                ? "not admitted: its own " + d.field + " " + ownLimit + " allows no grant"
                : "not admitted: its own " + d.field + " " + ownLimit + " is used up (charged "
                        + spentBefore[d.ordinal()] + ")";
        return new Refuse(reason, null, d, ownLimit);
    }

    /** The least grant worth dispatching when {@code desired} does not fit: {@code max(1, ceil(desired × fraction))}. */
    private static long useful(long desired, LedgerConfig config) {
        return Math.max(1, Dim.ceilTimes(desired, config.minUsefulFraction()));
    }
}
