package io.sluice.schemas;

import java.util.List;

/**
 * The public account of a finished run, written to {@link Topics#RESULTS} and printed by {@code sluice submit
 * --wait --json}: one entry for the workflow and each branch, and (for small runs) each leaf.
 *
 * @param source where the submission this receipt answers was written; a producer recognises its own by it
 * @param status the workflow's status, or {@link Status#REJECTED} for a refused submission
 * @param reason why the run ended as it did (for a rejection, the validation errors)
 */
public record Receipt(String runId, Source source, Mode mode, Status status, String reason, long startedAtMs,
                      long finishedAtMs, List<LedgerEntry> nodes) {

    public Receipt {
        nodes = nodes == null ? List.of() : List.copyOf(nodes);
    }

    /** A receipt that does not name its submission's source. */
    public Receipt(String runId, Mode mode, Status status, String reason, long startedAtMs, long finishedAtMs,
                   List<LedgerEntry> nodes) {
        this(runId, null, mode, status, reason, startedAtMs, finishedAtMs, nodes);
    }

    public Receipt withSource(Source s) {
        return new Receipt(runId, s, mode, status, reason, startedAtMs, finishedAtMs, nodes);
    }
}
