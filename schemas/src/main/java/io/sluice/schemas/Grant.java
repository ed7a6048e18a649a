package io.sluice.schemas;

/**
 * What one attempt of a leaf may spend, reserved for it at every ancestor before it was dispatched.
 * A {@code null} field is unlimited (no ancestor limits that dimension).
 *
 * @param maxCostMicrousd what the attempt may cost, in millionths of a US dollar
 */
public record Grant(Long maxTokens, Long maxInputTokens, Long maxOutputTokens, Long maxSteps, Long maxCostMicrousd) {

    public static final Grant UNLIMITED = new Grant(null, null, null, null, null);

    /** A grant without a cost limit. */
    public Grant(Long maxTokens, Long maxInputTokens, Long maxOutputTokens, Long maxSteps) {
        this(maxTokens, maxInputTokens, maxOutputTokens, maxSteps, null);
    }
}
