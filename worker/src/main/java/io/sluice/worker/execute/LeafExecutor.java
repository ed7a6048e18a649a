package io.sluice.worker.execute;

/**
 * Runs one attempt of a leaf: the plug-in point of the worker (an LLM agent turn loop, a tool call, a simulation).
 *
 * <p>The worker enforces the grant, {@code max_steps} and the deadline <em>around</em> the executor: every unit of
 * spend goes through {@link LeafContext#beginStep} and {@link StepPermit#complete}, which refuse a step that could
 * exceed what is left and tell the executor how many output tokens it may ask for (the model call's
 * {@code max_tokens}). The executor only decides what to do within that.
 *
 * <p>Executors are found by {@link #name()}: registered explicitly on an {@link ExecutorRegistry} or discovered with
 * {@link java.util.ServiceLoader} (a provider needs a public no-argument constructor and a
 * {@code META-INF/services/io.sluice.worker.execute.LeafExecutor} entry).
 *
 * <p>Thread-safety: one instance serves every leaf the worker runs, concurrently from several threads; keep
 * per-leaf state in local variables.
 */
public interface LeafExecutor {

    /** The name tasks refer to in {@code LeafTask.executor}, e.g. {@code "simulated"}. */
    String name();

    /**
     * Runs the leaf and returns how it ended. Throwing ends the leaf {@code failed} with the exception's message;
     * a {@link BudgetExhaustedException} that escapes ends it {@code budget_exceeded}, a
     * {@link LeafCancelledException} with the status of whatever stopped it.
     */
    Outcome execute(LeafContext ctx) throws Exception;
}
