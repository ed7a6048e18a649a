package io.sluice.schemas;

/**
 * What one attempt of a leaf may spend, reserved for it at every ancestor before it was dispatched.
 * A {@code null} field is unlimited (no ancestor limits that dimension).
 *
 * @param maxCostMicrousd what the attempt may cost, in millionths of a US dollar
 * @param wrapUpTokens    of {@code max_tokens}, what is kept back for one final wrap-up step (the leaf's
 *                        {@code wrap_up_tokens}, at most the grant); null = none
 */
public record Grant(Long maxTokens, Long maxInputTokens, Long maxOutputTokens, Long maxSteps, Long maxCostMicrousd,
                    Long wrapUpTokens) {

    public static final Grant UNLIMITED = new Grant(null, null, null, null, null, null);

    /** A grant without a cost limit. */
    public Grant(Long maxTokens, Long maxInputTokens, Long maxOutputTokens, Long maxSteps) {
        this(maxTokens, maxInputTokens, maxOutputTokens, maxSteps, null, null);
    }

    /** A grant without a wrap-up reserve. */
    public Grant(Long maxTokens, Long maxInputTokens, Long maxOutputTokens, Long maxSteps, Long maxCostMicrousd) {
        this(maxTokens, maxInputTokens, maxOutputTokens, maxSteps, maxCostMicrousd, null);
    }

    /** This grant keeping back {@code tokens} (at most its {@code max_tokens}) for a wrap-up step; null = none. */
    public Grant withWrapUpTokens(Long tokens) {
        Long reserve = tokens == null || tokens <= 0 ? null : maxTokens == null ? tokens : Math.min(tokens, maxTokens);
        return new Grant(maxTokens, maxInputTokens, maxOutputTokens, maxSteps, maxCostMicrousd, reserve);
    }
}
