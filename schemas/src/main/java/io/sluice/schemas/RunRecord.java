package io.sluice.schemas;

/**
 * A run as the coordinator accepted it, kept (latest per run id) on the compacted {@link Topics#RUNS}: the
 * submission with its run id, when the run started (deadlines count from it) and whether it has finished. A
 * coordinator that gains a partition rebuilds the unfinished runs on it from these records and the ledger.
 *
 * @param startedAtMs epoch millis when the coordinator accepted the run
 * @param finished    true once the run's receipt was published
 */
public record RunRecord(String runId, Submission submission, long startedAtMs, boolean finished, long updatedAtMs) {
}
