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

    private Exit() {
    }
}
