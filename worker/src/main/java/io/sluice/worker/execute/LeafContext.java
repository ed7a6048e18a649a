package io.sluice.worker.execute;

import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.schemas.LeafTask;

/**
 * What an executor sees of the attempt it runs, and the only way it may spend.
 *
 * <p>Per model call (step): {@link #beginStep} with the prompt size, call the model with
 * {@code max_tokens = permit.maxOutputTokens()}, then {@link StepPermit#complete} with what the model reports. The
 * worker emits one usage event per completed step.
 *
 * <p>Cancellation is cooperative: a halt of the leaf's run, the task's deadline and the worker's shutdown all
 * "cancel" the context. Check {@link #isCancelled()} between steps, wait with {@link #awaitCancellation} instead of
 * sleeping, and abort blocking calls from {@link #onCancel}.
 *
 * <p>Thread-safety: {@link #isCancelled()}, {@link #awaitCancellation} and {@link #onCancel} may be called from any
 * thread; steps are begun and completed one at a time.
 */
public interface LeafContext {

    LeafTask task();

    /** The task's input, never null (a JSON null node when the task has none). */
    JsonNode input();

    /** What is left of the grant (after completed steps) and the deadline. */
    Allowance remaining();

    /**
     * Starts a step (a model call) whose prompt is {@code inputTokens} long and that would like up to
     * {@code wantedOutputTokens} of output.
     *
     * @return the permit, with the output tokens the step may produce at most:
     *         {@code min(wanted, output left, tokens left - input)}
     * @throws BudgetExhaustedException when {@code max_steps} is reached, the input alone does not fit what is left,
     *                                  or no output token would be left; nothing is spent
     * @throws LeafCancelledException   when the leaf was cancelled or its deadline passed
     * @throws IllegalStateException    when the previous step was not completed
     */
    default StepPermit beginStep(long inputTokens, long wantedOutputTokens) {
        return beginStep(inputTokens, wantedOutputTokens, null);
    }

    /**
     * {@link #beginStep(long, long)} for a step whose tokens cost {@code price}: the step is charged
     * {@link Price#cost} of what it reports, and under a cost limit its output is capped at what is left of it.
     *
     * @param price null when the executor cannot price the step; refused where a cost limit applies
     *              ({@link Allowance#costMicrousd()} not {@link Allowance#UNLIMITED})
     */
    StepPermit beginStep(long inputTokens, long wantedOutputTokens, Price price);

    /**
     * True while the leaf's grant keeps back a wrap-up reserve (its {@code wrap_up_tokens}) not yet used. Until then
     * {@link #remaining()} and the steps above see the grant without it.
     */
    boolean wrapUpAvailable();

    /**
     * Begins the leaf's one wrap-up step: like {@link #beginStep(long, long, Price)}, but against the whole grant, the
     * reserve included — for a final call that hands back what the leaf has (a summary) once the rest is used up.
     *
     * @throws BudgetExhaustedException when there is no reserve, it was used, or the step does not fit the grant
     */
    StepPermit beginWrapUpStep(long inputTokens, long wantedOutputTokens, Price price);

    /** {@link #beginStep(long, long)} asking for as much output as the grant allows. */
    default StepPermit beginStep(long inputTokens) {
        return beginStep(inputTokens, Long.MAX_VALUE);
    }

    /**
     * Records the output so far. It becomes the leaf's output when the leaf ends without returning one (an
     * exception, a cancellation), so that partial work is reported.
     */
    void recordOutput(JsonNode partialOutput);

    /** True once the leaf was halted, its deadline passed or the worker is shutting down. */
    boolean isCancelled();

    /** @throws LeafCancelledException when {@link #isCancelled()} */
    void throwIfCancelled();

    /**
     * Waits up to {@code duration}, returning early when the leaf is cancelled or its deadline passes.
     *
     * @return true when the leaf is cancelled (the wait was cut short or it already was)
     */
    boolean awaitCancellation(Duration duration) throws InterruptedException;

    /**
     * Runs {@code action} once when the leaf is cancelled (at once when it already is), on a thread the worker keeps
     * for these callbacks (never the executor's own thread): keep it short and non-blocking, e.g. abort an HTTP
     * request.
     */
    void onCancel(Runnable action);
}
