package io.sluice.schemas;

/**
 * A notice on {@link Topics#CONTROL}: nothing below {@code path} of the run may start, and attempts in flight
 * there must stop. Workers drop tasks under a halted path without executing them ({@code status}).
 *
 * @param path   a node path; the workflow's path halts the whole run
 * @param status what dropped and stopped leaves end as: cancelled or timed_out
 * @param cause  why the node halted: budget_exceeded, timed_out or cancelled (null in halts of older coordinators)
 * @param reason names the node and the budget, e.g. "audit/scan: max_tokens 600 exhausted"
 */
public record Halt(String runId, String path, Status status, Status cause, String reason, long atMs) {

    /** A halt that does not name its cause. */
    public Halt(String runId, String path, Status status, String reason, long atMs) {
        this(runId, path, status, null, reason, atMs);
    }

    /** True for the statuses a halt may give the leaves it stops: {@code cancelled} and {@code timed_out}. */
    public static boolean isHaltStatus(Status s) {
        return s == Status.CANCELLED || s == Status.TIMED_OUT;
    }

    public String key() {
        return Topics.ledgerKey(runId, path);
    }

    /** True when the given leaf path lies in the halted subtree. */
    public boolean covers(String leafPath) {
        return leafPath.equals(path) || leafPath.startsWith(path + "/");
    }
}
