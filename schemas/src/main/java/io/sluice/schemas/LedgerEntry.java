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
 *
 * <p>The leaf-only fields are what a coordinator needs to rebuild a run from the ledger after a crash or a
 * partition hand-over: ledger entries and consumed offsets are committed in one transaction, so the latest
 * entries describe exactly the state after the last committed input.
 */
public record LedgerEntry(String runId, String path, String kind, Mode mode, Status status, String reason, Budget limits,
                          Reservation reserved, Usage spent, Map<Status, Long> leaves, long overshoot, long updatedAtMs,
                          Integer attempt, Grant grant, Usage attemptSpent, Long lastSeq, Long retryAtMs) {

    public LedgerEntry {
        leaves = leaves == null ? Map.of() : Map.copyOf(leaves);
    }

    /** An entry without the leaf-only recovery fields (workflow and branch entries). */
    public LedgerEntry(String runId, String path, String kind, Mode mode, Status status, String reason, Budget limits,
                       Reservation reserved, Usage spent, Map<Status, Long> leaves, long overshoot, long updatedAtMs) {
        this(runId, path, kind, mode, status, reason, limits, reserved, spent, leaves, overshoot, updatedAtMs,
                null, null, null, null, null);
    }

    /** The record key on the ledger topic. */
    public String key() {
        return Topics.ledgerKey(runId, path);
    }
}
