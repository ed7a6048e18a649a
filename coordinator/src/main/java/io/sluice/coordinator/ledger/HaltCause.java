package io.sluice.coordinator.ledger;

import io.sluice.schemas.Status;

/**
 * Why a workflow or branch stopped its own subtree: a budget dimension ran out, or its deadline passed.
 *
 * @param nodeStatus what the halted node ends as (budget_exceeded or timed_out)
 * @param haltStatus what its dropped and stopped leaves end as (cancelled or timed_out)
 * @param dim        the exhausted dimension; null for a timeout
 * @param limit      the dimension's limit, or the timeout in milliseconds
 */
record HaltCause(Status nodeStatus, Status haltStatus, Dim dim, long limit) {

    static HaltCause budget(Dim dim, long limit) {
        return new HaltCause(Status.BUDGET_EXCEEDED, Status.CANCELLED, dim, limit);
    }

    static HaltCause timeout(long timeoutMs) {
        return new HaltCause(Status.TIMED_OUT, Status.TIMED_OUT, null, timeoutMs);
    }

    /** For the leaves it cancels: "max_tokens exhausted", "timeout_ms 5000 passed". */
    String shortText() {
        return dim == null ? "timeout_ms " + limit + " passed" : dim.field + " exhausted";
    }

    /** For the node itself, with its current numbers, e.g. "audit/scan: max_tokens 600 exhausted (spent 560, remaining 40)". */
    String describe(GroupNode node) {
        if (dim == null) {
            return node.path + ": timeout_ms " + limit + " passed";
        }
        long spent = node.spent[dim.ordinal()];
        String tail = spent > limit ? "overshoot " + (spent - limit) : "remaining " + (limit - spent);
        return node.path + ": " + dim.field + " " + limit + " exhausted (spent " + spent + ", " + tail + ")";
    }
}
