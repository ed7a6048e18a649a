package io.sluice.cli;

/** Exit codes of the {@code sluice} command. */
final class Exit {
    static final int OK = 0;
    /** The run did not behave as budgeted (spend beyond a limit), or did not finish. */
    static final int BUDGET_VIOLATED = 1;
    /** Invalid input: the submission, a file, an option. */
    static final int INVALID = 2;
    /** The broker could not be reached or refused. */
    static final int BROKER = 3;
    /** A long-running service (a coordinator or a worker) stopped on its own; a supervisor should restart it. */
    static final int SERVICE_FAILED = 4;
    /** {@code submit --wait}: the run ended budget_exceeded. */
    static final int RUN_BUDGET_EXCEEDED = 10;
    /** {@code submit --wait}: the run ended failed. */
    static final int RUN_FAILED = 11;
    /** {@code submit --wait}: the run ended timed_out (its deadline passed). */
    static final int RUN_TIMED_OUT = 12;
    /** {@code submit --wait}: the run ended cancelled. */
    static final int RUN_CANCELLED = 13;
    /** {@code submit --wait}: no receipt within {@code --timeout}; the run may still be running. */
    static final int NO_RECEIPT = 14;

    private Exit() {
    }

    /** The exit code of a run that ended with {@code status}: 0 only for succeeded. */
    static int of(io.sluice.schemas.Status status) {
        return switch (status) {
            case SUCCEEDED -> OK;
            case BUDGET_EXCEEDED -> RUN_BUDGET_EXCEEDED;
            case FAILED -> RUN_FAILED;
            case TIMED_OUT -> RUN_TIMED_OUT;
            case CANCELLED -> RUN_CANCELLED;
            case REJECTED -> INVALID;
            default -> throw new IllegalArgumentException("not a run's terminal status: " + status);
        };
    }
}
