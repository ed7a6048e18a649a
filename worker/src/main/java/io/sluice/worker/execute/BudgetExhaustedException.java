package io.sluice.worker.execute;

/**
 * A step the grant does not allow: refused before it started ({@link LeafContext#beginStep}), or reported after
 * the fact beyond the grant ({@link StepPermit#complete}). The message names the limit, e.g.
 * {@code "max_steps 3 reached"}.
 */
public final class BudgetExhaustedException extends RuntimeException {

    public BudgetExhaustedException(String message) {
        super(message);
    }
}
