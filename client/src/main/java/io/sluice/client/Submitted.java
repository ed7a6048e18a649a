package io.sluice.client;

import io.sluice.schemas.Source;
import io.sluice.schemas.Submission;

/**
 * A submission as it was written: with its run id, and where it landed on the submissions topic — by which the
 * receipt of the run it started, or the rejection of it, is told apart from the outcome of another submission of the
 * same run id ({@link RunWatch#expect}).
 */
public record Submitted(Submission submission, Source source) {

    public String runId() {
        return submission.runId();
    }
}
