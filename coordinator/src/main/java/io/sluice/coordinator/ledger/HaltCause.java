package io.sluice.coordinator.ledger;

import io.sluice.schemas.Budget;
import io.sluice.schemas.Status;

/**
 * Why a workflow or branch stopped its own subtree: a budget dimension ran out, its deadline passed, or an operator
 * cancelled it.
 *
 * @param nodeStatus  what the halted node ends as (budget_exceeded, timed_out or cancelled)
 * @param haltStatus  what its dropped and stopped leaves end as (cancelled or timed_out)
 * @param dim         the exhausted dimension; null for a timeout or a cancel
 * @param limit       the dimension's limit, or the timeout in milliseconds; 0 for a cancel
 * @param share       the node's even share of its parent's limit ran out (then {@code limit} is the parent's)
 * @param cancelledBy for a cancel: who asked, and why ({@code CancelRequest.describe()}); else null
 */
record HaltCause(Status nodeStatus, Status haltStatus, Dim dim, long limit, boolean share, String cancelledBy) {

    /** The prefix of {@link #field()} for an even share: {@code share:max_tokens}. */
    static final String SHARE = "share:";
    /** {@link #field()} of a cancel. */
    static final String CANCELLED = "cancelled";

    static HaltCause budget(Dim dim, long limit) {
        return new HaltCause(Status.BUDGET_EXCEEDED, Status.CANCELLED, dim, limit, false, null);
    }

    /** The node's even share of its parent's {@code dim} limit {@code parentLimit} ran out. */
    static HaltCause share(Dim dim, long parentLimit) {
        return new HaltCause(Status.BUDGET_EXCEEDED, Status.CANCELLED, dim, parentLimit, true, null);
    }

    static HaltCause timeout(long timeoutMs) {
        return new HaltCause(Status.TIMED_OUT, Status.TIMED_OUT, null, timeoutMs, false, null);
    }

    /** An operator cancelled the node: {@code by} says who, and why. */
    static HaltCause cancel(String by) {
        return new HaltCause(Status.CANCELLED, Status.CANCELLED, null, 0, false, by);
    }

    boolean isCancel() {
        return cancelledBy != null;
    }

    /**
     * The cause named by {@code field} — a budget field, {@code timeout_ms} or {@code cancelled}, as {@link #field()}
     * gives it — of a node with these limits; null when the node has no such limit (or a cancel names no one).
     */
    static HaltCause of(String field, Budget limits, Budget parentLimits, String cancelledBy) {
        if (CANCELLED.equals(field)) {
            return cancelledBy == null ? null : cancel(cancelledBy);
        }
        if (field != null && field.startsWith(SHARE)) {
            HaltCause own = parentLimits == null ? null : of(field.substring(SHARE.length()), parentLimits, null, null);
            return own == null || own.dim == null ? null : share(own.dim, own.limit);
        }
        if ("timeout_ms".equals(field)) {
            return limits.timeoutMs() == null ? null : timeout(limits.timeoutMs());
        }
        for (Dim d : Dim.ALL) {
            if (d.field.equals(field)) {
                Long limit = d.limit(limits);
                return limit == null ? null : budget(d, limit);
            }
        }
        return null;
    }

    /** The limit that ran out: its budget field, or {@code timeout_ms}; {@code cancelled} for a cancel. */
    String field() {
        return isCancel() ? CANCELLED : dim == null ? "timeout_ms" : share ? SHARE + dim.field : dim.field;
    }

    /**
     * For the leaves it cancels: "max_tokens exhausted", "timeout_ms 5000 passed", "even share of max_tokens exhausted",
     * "cancelled by alice: not needed".
     */
    String shortText() {
        if (isCancel()) {
            return "cancelled by " + cancelledBy;
        }
        return dim == null ? "timeout_ms " + limit + " passed" : share ? "even share of " + dim.field + " exhausted"
                : dim.field + " exhausted";
    }

    /** The reason of what it ends below the halted node at {@code path}: "halted: audit/scan max_tokens exhausted". */
    String cancels(String path) {
        return "halted: " + path + " " + shortText();
    }

    /** For the node itself, with its current numbers, e.g. "audit/scan: max_tokens 600 exhausted (spent 560, remaining 40)". */
    String describe(GroupNode node) {
        if (isCancel()) {
            return node.path + ": " + shortText();
        }
        if (dim == null) {
            return node.path + ": timeout_ms " + limit + " passed";
        }
        long spent = node.spent[dim.ordinal()];
        if (share) {
            return node.path + ": its even share of " + node.parent.path + "'s " + dim.field + " " + limit + " exhausted (spent "
                    + spent + ")";
        }
        String tail = spent > limit ? "overshoot " + (spent - limit) : "remaining " + (limit - spent);
        return node.path + ": " + dim.field + " " + limit + " exhausted (spent " + spent + ", " + tail + ")";
    }
}
