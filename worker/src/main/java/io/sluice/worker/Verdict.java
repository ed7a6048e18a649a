package io.sluice.worker;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.schemas.Status;
import io.sluice.worker.execute.BudgetExhaustedException;
import io.sluice.worker.execute.Outcome;
import io.sluice.worker.execute.PermanentFailureException;

/**
 * How an attempt ends, from what its executor returned or threw and what the worker observed: a pure function.
 *
 * <p>Precedence: an overspend ends the leaf {@code budget_exceeded} whatever else happened (the grant was broken);
 * then a stop (halt, deadline, the worker's shutdown) ends a leaf that did not succeed with the stop's status,
 * keeping the partial output; then an exception ({@code budget_exceeded} for a refused step, else {@code failed}
 * with its message); then the executor's outcome. A leaf that succeeded as it was being stopped keeps its success:
 * the work is done.
 */
final class Verdict {

    private Verdict() {
    }

    /**
     * A final event's content.
     *
     * @param permanent a failure that another attempt cannot help
     */
    record Final(Status status, String error, JsonNode output, boolean permanent) {

        Final(Status status, String error, JsonNode output) {
            this(status, error, output, false);
        }
    }

    /** @return the final event to write */
    static Final decide(String executorName, Outcome outcome, Throwable thrown, StopSignal.Stop stop, String overspend,
                        JsonNode recordedOutput) {
        JsonNode output = outcome != null && outcome.output() != null ? outcome.output() : recordedOutput;
        boolean succeeded = thrown == null && outcome != null && outcome.kind() == Outcome.Kind.SUCCEEDED;
        if (overspend != null) {
            return new Final(Status.BUDGET_EXCEEDED, overspend, output);
        }
        if (stop != null && !succeeded) {
            return new Final(stop.status(), stop.reason(), output);
        }
        if (thrown != null) {
            if (thrown instanceof BudgetExhaustedException) {
                return new Final(Status.BUDGET_EXCEEDED, thrown.getMessage(), output);
            }
            if (thrown instanceof PermanentFailureException) {
                return new Final(Status.FAILED, message(thrown), output, true);
            }
            return new Final(Status.FAILED, message(thrown), output);
        }
        if (outcome == null) {
            return new Final(Status.FAILED, "executor '" + executorName + "' returned no outcome", output);
        }
        return switch (outcome.kind()) {
            case SUCCEEDED -> new Final(Status.SUCCEEDED, null, output);
            case FAILED -> new Final(Status.FAILED, outcome.reason(), output, outcome.permanent());
            case BUDGET_EXCEEDED -> new Final(Status.BUDGET_EXCEEDED, outcome.reason(), output);
            case CANCELLED -> new Final(Status.FAILED,
                    "executor '" + executorName + "' returned cancelled but nothing cancelled the leaf", output);
        };
    }

    static String message(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }
}
