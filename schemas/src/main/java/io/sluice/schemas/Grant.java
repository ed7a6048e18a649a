package io.sluice.schemas;

/**
 * What one attempt of a leaf may spend, reserved for it at every ancestor before it was dispatched.
 * A {@code null} field is unlimited (no ancestor limits that dimension).
 */
public record Grant(Long maxTokens, Long maxInputTokens, Long maxOutputTokens, Long maxSteps) {

    public static final Grant UNLIMITED = new Grant(null, null, null, null);
}
