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
 */
public record LedgerEntry(String runId, String path, String kind, Mode mode, Status status, String reason, Budget limits,
                          Reservation reserved, Usage spent, Map<Status, Long> leaves, long overshoot, long updatedAtMs) {

    public LedgerEntry {
        leaves = leaves == null ? Map.of() : Map.copyOf(leaves);
    }

    /** The record key on the ledger topic. */
    public String key() {
        return Topics.ledgerKey(runId, path);
    }
}
