package io.sluice.worker.execute;

import java.time.Instant;

/**
 * What is left of a leaf's grant. A dimension the grant does not limit is {@link #UNLIMITED}.
 *
 * @param deadline     when the leaf is stopped ({@code timed_out}); null when it has none
 * @param costMicrousd what is left of the grant's {@code max_cost_microusd}; {@link #UNLIMITED} when it has none (then
 *                     a step needs no price)
 */
public record Allowance(long tokens, long inputTokens, long outputTokens, long steps, Instant deadline, long costMicrousd) {

    public static final long UNLIMITED = Long.MAX_VALUE;

    /** An allowance without a cost limit. */
    public Allowance(long tokens, long inputTokens, long outputTokens, long steps, Instant deadline) {
        this(tokens, inputTokens, outputTokens, steps, deadline, UNLIMITED);
    }

    public Allowance {
        requireNonNegative("costMicrousd", costMicrousd);
        requireNonNegative("tokens", tokens);
        requireNonNegative("inputTokens", inputTokens);
        requireNonNegative("outputTokens", outputTokens);
        requireNonNegative("steps", steps);
    }

    private static void requireNonNegative(String field, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(field + ": must be >= 0, got " + value);
        }
    }
}
