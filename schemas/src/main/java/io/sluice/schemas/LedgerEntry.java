package io.sluice.schemas;

import java.util.Map;

/**
 * The state of one node of a run (or the run itself, at the workflow's path) as kept, latest value per key,
 * on the compacted {@link Topics#LEDGER}. Its size does not grow with the number of leaves below the node:
 * leaves are counted by status, not listed.
 *
 * @param kind      {@code workflow}, {@code branch} or {@code leaf}
 * @param limits    the node's own limits (not its ancestors')
 * @param reserved  grants outstanding below the node (tokens as input+output, steps)
 * @param spent     what the subtree has spent, dead attempts included
 * @param leaves    leaves below the node by status, terminal ones and pending/running
 * @param overshoot tokens spent beyond {@code max_tokens} (only ever non-zero in optimistic mode)
 * @param reason    why the node ended as it did, e.g. "not admitted: grant 600 &gt; remaining 400"
 * @param attempt   leaf only: its current (or last) attempt number
 * @param grant     leaf only, while an attempt is in flight: that attempt's grant
 * @param attemptSpent leaf only, while an attempt is in flight: what that attempt has reported so far
 * @param lastSeq   leaf only, while an attempt is in flight: the last usage sequence number folded
 * @param retryAtMs leaf only, while a retry waits: when it may be dispatched
 * @param workerId  leaf only, while an attempt is in flight: the worker its first event named (null before one
 *                  arrived); only that worker's events are folded
 * @param fold      only while the node is not terminal, and only when not all default: the rest of the budget
 *                  fold's own state, which a restoring coordinator needs and the other fields do not show
 *
 * <p>The leaf-only fields and {@code fold} are what a coordinator needs to rebuild a run from the ledger after a
 * crash or a partition hand-over: ledger entries and consumed offsets are committed in one transaction, so the
 * latest entries describe exactly the state after the last committed input.
 */
public record LedgerEntry(String runId, String path, String kind, Mode mode, Status status, String reason, Budget limits,
                          Reservation reserved, Usage spent, Map<Status, Long> leaves, long overshoot, long updatedAtMs,
                          Integer attempt, Grant grant, Usage attemptSpent, Long lastSeq, String workerId,
                          Long retryAtMs, Fold fold) {

    public LedgerEntry {
        leaves = leaves == null ? Map.of() : Map.copyOf(leaves);
    }

    /** An entry whose attempt names no worker. */
    public LedgerEntry(String runId, String path, String kind, Mode mode, Status status, String reason, Budget limits,
                       Reservation reserved, Usage spent, Map<Status, Long> leaves, long overshoot, long updatedAtMs,
                       Integer attempt, Grant grant, Usage attemptSpent, Long lastSeq, Long retryAtMs, Fold fold) {
        this(runId, path, kind, mode, status, reason, limits, reserved, spent, leaves, overshoot, updatedAtMs,
                attempt, grant, attemptSpent, lastSeq, null, retryAtMs, fold);
    }

    /** An entry without the leaf-only recovery fields (workflow and branch entries). */
    public LedgerEntry(String runId, String path, String kind, Mode mode, Status status, String reason, Budget limits,
                       Reservation reserved, Usage spent, Map<Status, Long> leaves, long overshoot, long updatedAtMs) {
        this(runId, path, kind, mode, status, reason, limits, reserved, spent, leaves, overshoot, updatedAtMs,
                null, null, null, null, null, null);
    }

    /** An entry with the leaf-only recovery fields and no {@code fold}. */
    public LedgerEntry(String runId, String path, String kind, Mode mode, Status status, String reason, Budget limits,
                       Reservation reserved, Usage spent, Map<Status, Long> leaves, long overshoot, long updatedAtMs,
                       Integer attempt, Grant grant, Usage attemptSpent, Long lastSeq, Long retryAtMs) {
        this(runId, path, kind, mode, status, reason, limits, reserved, spent, leaves, overshoot, updatedAtMs,
                attempt, grant, attemptSpent, lastSeq, retryAtMs, null);
    }

    /** The record key on the ledger topic. */
    public String key() {
        return Topics.ledgerKey(runId, path);
    }

    /**
     * What the coordinator's budget fold keeps about a node that is not terminal yet beyond the entry's other
     * fields — written so that a coordinator taking the run over decides exactly as this one would have. Every
     * field is optional: absent means zero, none or false. Nothing but a restoring coordinator should read it;
     * its meaning follows the fold's rules (see the coordinator's {@code RunLedger}).
     *
     * @param learned     workflow/branch: attempts of its direct leaves that ran to their own end (with one or more,
     *                    grants there are estimated rather than probed)
     * @param observed    workflow/branch: per dimension, the most one attempt of a direct leaf reported
     * @param floor       workflow/branch: per dimension, the least an estimated grant may be (twice a grant an
     *                    attempt used up)
     * @param worst       workflow/branch: the worst status among the children that ended so far
     * @param worstReason workflow/branch: the reason of the first child that ended with it
     * @param haltedFor   workflow/branch: the budget field it halted for ({@code max_tokens}, {@code max_input_tokens},
     *                    {@code max_output_tokens}, {@code max_steps}) or {@code timeout_ms}
     * @param paused      workflow/branch: nothing more below it is dispatched ahead of a leaf waiting for a refund
     * @param blocked     workflow/branch: its parent passes it over until an attempt below it finishes or a retry
     *                    below it is due
     * @param lostHistory leaf: what its earlier attempts that were lost were charged, as its later reasons repeat it
     * @param fault       leaf: usage its workers reported beyond their grants, or malformed, as its reasons repeat it
     * @param lastOutcome leaf between attempts: how the last one ended
     * @param lastLost    leaf between attempts: the last one was lost
     * @param due         leaf between attempts: its backoff is over and it waits for admission
     * @param abandonAtMs leaf in flight: when its attempt is given up for lost if no final event came (its deadline,
     *                    or the halt of a node above it, plus the ledger's grace)
     * @param cancelledBy workflow/branch cancelled by hand ({@code haltedFor} "cancelled"): who, and why
     */
    public record Fold(Long learned, Reservation observed, Reservation floor, Status worst, String worstReason,
                       String haltedFor, Boolean paused, Boolean blocked, String lostHistory, String fault,
                       String lastOutcome, Boolean lastLost, Boolean due, Long abandonAtMs, String cancelledBy) {

        /** The state of a workflow or branch. */
        public static Fold ofGroup(Long learned, Reservation observed, Reservation floor, Status worst,
                                   String worstReason, String haltedFor, Boolean paused, Boolean blocked,
                                   String cancelledBy) {
            return new Fold(learned, observed, floor, worst, worstReason, haltedFor, paused, blocked, null, null, null,
                    null, null, null, cancelledBy);
        }

        /** The state of a leaf. */
        public static Fold ofLeaf(String lostHistory, String fault, String lastOutcome, Boolean lastLost, Boolean due,
                                  Long abandonAtMs) {
            return new Fold(null, null, null, null, null, null, null, null, lostHistory, fault, lastOutcome, lastLost, due,
                    abandonAtMs, null);
        }
    }
}
