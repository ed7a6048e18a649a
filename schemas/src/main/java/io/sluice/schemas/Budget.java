package io.sluice.schemas;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * The limits a node puts on itself and its subtree. Every field is optional ({@code null} = no limit of
 * its own; the ancestors' limits still apply). A child's budget may only narrow what its ancestors allow.
 *
 * @param maxTokens       input + output tokens the subtree may spend
 * @param maxInputTokens  input (prompt) tokens the subtree may spend
 * @param maxOutputTokens output (completion) tokens the subtree may spend
 * @param maxSteps        model turns the subtree may take
 * @param timeoutMs       for a workflow or branch: from the run's start; for a leaf: per attempt, from dispatch
 * @param maxParallel     leaves of the subtree in flight at once
 * @param maxCostMicrousd what the subtree may cost, in millionths of a US dollar, priced by the executors' price
 *                        tables (an executor that cannot price a step is refused where this applies)
 */
public record Budget(Long maxTokens, Long maxInputTokens, Long maxOutputTokens, Long maxSteps, Long timeoutMs,
                     Integer maxParallel, Long maxCostMicrousd) {

    public static final Budget NONE = new Budget(null, null, null, null, null, null, null);

    /** A budget without a cost limit. */
    public Budget(Long maxTokens, Long maxInputTokens, Long maxOutputTokens, Long maxSteps, Long timeoutMs,
                  Integer maxParallel) {
        this(maxTokens, maxInputTokens, maxOutputTokens, maxSteps, timeoutMs, maxParallel, null);
    }

    public static Budget ofTokens(long maxTokens) {
        return new Budget(maxTokens, null, null, null, null, null);
    }

    public Budget withMaxTokens(Long v) {
        return new Budget(v, maxInputTokens, maxOutputTokens, maxSteps, timeoutMs, maxParallel, maxCostMicrousd);
    }

    public Budget withMaxSteps(Long v) {
        return new Budget(maxTokens, maxInputTokens, maxOutputTokens, v, timeoutMs, maxParallel, maxCostMicrousd);
    }

    public Budget withTimeoutMs(Long v) {
        return new Budget(maxTokens, maxInputTokens, maxOutputTokens, maxSteps, v, maxParallel, maxCostMicrousd);
    }

    public Budget withMaxCostMicrousd(Long v) {
        return new Budget(maxTokens, maxInputTokens, maxOutputTokens, maxSteps, timeoutMs, maxParallel, v);
    }

    public Budget withMaxParallel(Integer v) {
        return new Budget(maxTokens, maxInputTokens, maxOutputTokens, maxSteps, timeoutMs, v, maxCostMicrousd);
    }

    /** True when no field is set. Not on the wire: Jackson would write it as an "empty" field no reader accepts. */
    @JsonIgnore
    public boolean isEmpty() {
        return maxTokens == null && maxInputTokens == null && maxOutputTokens == null && maxSteps == null
                && timeoutMs == null && maxParallel == null && maxCostMicrousd == null;
    }
}
