package io.sluice.schemas;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * A run as the coordinator accepted it, kept (latest per run id) on the compacted {@link Topics#RUNS}: the
 * submission with its run id, where it was submitted, when the run started (deadlines count from it) and whether it
 * has finished. A coordinator that gains a partition rebuilds the unfinished runs on it from these records and the
 * ledger. Once a finished run's retention has passed, its record is replaced by a {@link #retired} one that keeps
 * only the id — forever, so that no later submission can reuse it.
 *
 * @param submission  the accepted submission; null only when retired
 * @param source      where the submission was written (null in records of older coordinators)
 * @param startedAtMs epoch millis when the coordinator accepted the run
 * @param finished    true once the run's receipt was published
 * @param retired     true once the finished run's ledger entries were deleted; null or false before
 */
public record RunRecord(String runId, Submission submission, Source source, long startedAtMs, boolean finished,
                        long updatedAtMs, Boolean retired) {

    /** The record of a run that is not retired. */
    public RunRecord(String runId, Submission submission, Source source, long startedAtMs, boolean finished, long updatedAtMs) {
        this(runId, submission, source, startedAtMs, finished, updatedAtMs, null);
    }

    /** What remains of a finished run once its retention has passed: its id, kept so that it is never reused. */
    public static RunRecord retired(String runId, long startedAtMs, long nowMs) {
        return new RunRecord(runId, null, null, startedAtMs, true, nowMs, Boolean.TRUE);
    }

    @JsonIgnore
    public boolean isRetired() {
        return Boolean.TRUE.equals(retired);
    }
}
