package io.sluice.schemas;

import java.util.List;

/**
 * The public account of a finished run, written to {@link Topics#RESULTS} and printed by {@code sluice submit
 * --wait --json}: one entry for the workflow and each branch, and (for small runs) each leaf.
 *
 * @param status the workflow's status, or {@link Status#REJECTED} for an invalid submission
 * @param reason why the run ended as it did (for a rejection, the validation errors)
 */
public record Receipt(String runId, Mode mode, Status status, String reason, long startedAtMs, long finishedAtMs,
                      List<LedgerEntry> nodes) {

    public Receipt {
        nodes = nodes == null ? List.of() : List.copyOf(nodes);
    }
}
