package io.sluice.worker.execute;

/**
 * Leave to run one step: its prompt size and the most output it may produce. Complete it exactly once with what
 * the step really used (spend is truth: more than allowed is still reported, and then ends the leaf
 * {@code budget_exceeded}).
 */
public interface StepPermit {

    /** 1 for the leaf's first step. */
    int step();

    /** The input tokens the step was begun with. */
    long inputTokens();

    /** The cap for the model call's {@code max_tokens}. */
    long maxOutputTokens();

    /**
     * What bounds {@link #maxOutputTokens()} when the grant does, e.g. {@code "max_output_tokens 500"} or
     * {@code "max_tokens 600"}; null when the executor's own wish is the bound.
     */
    String outputLimit();

    /** Completes the step with the begun input and {@code outputTokens}. */
    default void complete(long outputTokens) {
        complete(inputTokens(), outputTokens);
    }

    /**
     * Completes the step with the usage the model reported.
     *
     * @throws BudgetExhaustedException when the reported usage exceeds the grant (it was still reported)
     * @throws IllegalStateException    when the permit was already completed
     */
    void complete(long inputTokens, long outputTokens);
}
