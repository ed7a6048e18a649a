package io.sluice.schemas;

/**
 * A notice on {@link Topics#CONTROL}: nothing below {@code path} of the run may start, and attempts in flight
 * there must stop. Workers drop tasks under a halted path without executing them ({@code status}).
 *
 * @param path   a node path; the workflow's path halts the whole run
 * @param status what dropped and stopped leaves end as: cancelled or timed_out
 * @param cause  why the node halted: budget_exceeded, timed_out or cancelled (null in halts of older coordinators)
 * @param reason  names the node and the budget, e.g. "audit/scan: max_tokens 600 exhausted"
 * @param attempt when set, the halt stops only this attempt of the leaf at {@code path} (its lease lapsed: the
 *                coordinator gave it up), not the leaf's later attempts nor anything else
 */
public record Halt(String runId, String path, Status status, Status cause, String reason, long atMs, Integer attempt) {

    /** A halt of a node's subtree. */
    public Halt(String runId, String path, Status status, Status cause, String reason, long atMs) {
        this(runId, path, status, cause, reason, atMs, null);
    }

    /** A halt that does not name its cause. */
    public Halt(String runId, String path, Status status, String reason, long atMs) {
        this(runId, path, status, null, reason, atMs, null);
    }

    /** The halt of one attempt of a leaf: it stops that attempt alone. */
    public static Halt ofAttempt(String runId, String leafPath, int attempt, String reason, long atMs) {
        return new Halt(runId, leafPath, Status.CANCELLED, Status.CANCELLED, reason, atMs, attempt);
    }

    /** True for the statuses a halt may give the leaves it stops: {@code cancelled} and {@code timed_out}. */
    public static boolean isHaltStatus(Status s) {
        return s == Status.CANCELLED || s == Status.TIMED_OUT;
    }

    public String key() {
        return attempt == null ? Topics.ledgerKey(runId, path) : Topics.ledgerKey(runId, path) + "#" + attempt;
    }

    /** True when the given leaf path lies in the halted subtree (for an attempt's halt: is its leaf). */
    public boolean covers(String leafPath) {
        return leafPath.equals(path) || (attempt == null && leafPath.startsWith(path + "/"));
    }

    /** True when the halt stops the given attempt of the given leaf. */
    public boolean covers(String leafPath, int leafAttempt) {
        return covers(leafPath) && (attempt == null || attempt == leafAttempt);
    }
}
