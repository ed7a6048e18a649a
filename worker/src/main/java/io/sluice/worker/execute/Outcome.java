package io.sluice.worker.execute;

import java.util.Objects;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * How an executor says its leaf ended. The worker turns it into the final usage event's status; a cancellation,
 * an overspend or a passed deadline observed by the worker take precedence over what the executor returned.
 *
 * @param output    the (possibly partial) output, or null
 * @param reason    why a leaf did not succeed; null on success
 * @param permanent only with {@link Kind#FAILED}: another attempt cannot help, so the leaf is not retried
 */
public record Outcome(Kind kind, JsonNode output, String reason, boolean permanent) {

    public enum Kind {
        SUCCEEDED,
        FAILED,
        /** The executor ran out of budget with work left (a refused step, a truncated output). */
        BUDGET_EXCEEDED,
        /** The executor stopped because its context was cancelled; the worker supplies the status. */
        CANCELLED
    }

    public Outcome {
        Objects.requireNonNull(kind, "kind");
        if (kind != Kind.SUCCEEDED && kind != Kind.CANCELLED && (reason == null || reason.isBlank())) {
            throw new IllegalArgumentException("reason: required for " + kind);
        }
        if (permanent && kind != Kind.FAILED) {
            throw new IllegalArgumentException("permanent: only a failure is permanent, got " + kind);
        }
    }

    public Outcome(Kind kind, JsonNode output, String reason) {
        this(kind, output, reason, false);
    }

    public static Outcome succeeded(JsonNode output) {
        return new Outcome(Kind.SUCCEEDED, output, null);
    }

    public static Outcome failed(JsonNode partialOutput, String reason) {
        return new Outcome(Kind.FAILED, partialOutput, reason);
    }

    /** A failure another attempt cannot help (e.g. an input the executor can never accept): not retried. */
    public static Outcome failedPermanently(JsonNode partialOutput, String reason) {
        return new Outcome(Kind.FAILED, partialOutput, reason, true);
    }

    public static Outcome budgetExceeded(JsonNode partialOutput, String reason) {
        return new Outcome(Kind.BUDGET_EXCEEDED, partialOutput, reason);
    }

    public static Outcome cancelled(JsonNode partialOutput) {
        return new Outcome(Kind.CANCELLED, partialOutput, null);
    }
}
