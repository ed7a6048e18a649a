package io.sluice.schemas;

/**
 * What other systems write to {@link Topics#SUBMISSIONS}: a workflow tree to run under its budgets.
 *
 * @param runId optional on the wire (the coordinator or client generates one); unique per run
 * @param mode  {@link Mode#STRICT} when absent
 */
public record Submission(String runId, Mode mode, Workflow workflow) {

    public Submission {
        mode = mode == null ? Mode.STRICT : mode;
    }

    public Submission withRunId(String id) {
        return new Submission(id, mode, workflow);
    }
}
