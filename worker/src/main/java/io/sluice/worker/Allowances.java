package io.sluice.worker;

import java.time.Instant;
import java.util.Optional;

import io.sluice.schemas.Grant;
import io.sluice.schemas.Usage;
import io.sluice.worker.execute.Allowance;
import io.sluice.worker.execute.Price;

/**
 * The budget arithmetic of one attempt: pure functions of its grant and what it has used so far.
 *
 * <p>A step is admitted only when it cannot exceed the grant: {@code max_steps} not reached, its input fits
 * what is left of {@code max_input_tokens} and {@code max_tokens}, and at least one output token is left; its output
 * is then capped at {@code min(wanted, output left, tokens left - input)}. A step that could produce nothing
 * would only burn its input, so it is refused. A {@code null} grant dimension is unlimited. Under
 * {@code max_cost_microusd} a step must be priced ({@link Price}): its input's cost must fit what is left, and its
 * output is capped at what the rest buys; an unpriced step is refused there, never run as if free.
 */
final class Allowances {

    private Allowances() {
    }

    /** A step the grant allows, with its output cap, or the reason it is refused. */
    record Admission(long maxOutputTokens, String outputLimit, String refusal) {

        static Admission refuse(String why) {
            return new Admission(0, null, why);
        }

        boolean admitted() {
            return refusal == null;
        }
    }

    static Allowance remaining(Grant grant, Usage used, Instant deadline) {
        return new Allowance(left(grant.maxTokens(), used.totalTokens()), left(grant.maxInputTokens(), used.inputTokens()),
                left(grant.maxOutputTokens(), used.outputTokens()), left(grant.maxSteps(), used.steps()), deadline,
                left(grant.maxCostMicrousd(), used.costMicrousd()));
    }

    static Admission admit(Grant grant, Usage used, long inputTokens, long wantedOutputTokens) {
        return admit(grant, used, inputTokens, wantedOutputTokens, null);
    }

    /** @param price what the step's tokens cost; null when the executor does not price it */
    static Admission admit(Grant grant, Usage used, long inputTokens, long wantedOutputTokens, Price price) {
        if (inputTokens < 0) {
            throw new IllegalArgumentException("inputTokens: must be >= 0, got " + inputTokens);
        }
        if (wantedOutputTokens < 0) {
            throw new IllegalArgumentException("wantedOutputTokens: must be >= 0, got " + wantedOutputTokens);
        }
        if (grant.maxSteps() != null && used.steps() >= grant.maxSteps()) {
            return Admission.refuse("max_steps " + grant.maxSteps() + " reached");
        }
        long inputLeft = left(grant.maxInputTokens(), used.inputTokens());
        if (inputTokens > inputLeft) {
            return Admission.refuse("max_input_tokens " + grant.maxInputTokens() + ": step input " + inputTokens
                    + " does not fit in the " + inputLeft + " left");
        }
        long tokensLeft = left(grant.maxTokens(), used.totalTokens());
        if (inputTokens > tokensLeft) {
            return Admission.refuse("max_tokens " + grant.maxTokens() + ": step input " + inputTokens
                    + " does not fit in the " + tokensLeft + " left");
        }
        long cap = wantedOutputTokens;
        String limit = null;
        long outputLeft = left(grant.maxOutputTokens(), used.outputTokens());
        if (outputLeft < cap) {
            cap = outputLeft;
            limit = "max_output_tokens " + grant.maxOutputTokens();
        }
        if (tokensLeft != Allowance.UNLIMITED && tokensLeft - inputTokens < cap) {
            cap = tokensLeft - inputTokens;
            limit = "max_tokens " + grant.maxTokens();
        }
        if (grant.maxCostMicrousd() != null) {
            long costLeft = left(grant.maxCostMicrousd(), used.costMicrousd());
            if (price == null) {
                return Admission.refuse("max_cost_microusd " + grant.maxCostMicrousd() + " applies and the step has no price");
            }
            long byCost = price.maxOutputWithin(costLeft, inputTokens);
            if (byCost < 0) {
                return Admission.refuse("max_cost_microusd " + grant.maxCostMicrousd() + ": step input " + inputTokens
                        + " costs " + price.cost(inputTokens, 0) + " µUSD, more than the " + costLeft + " left");
            }
            if (byCost < cap) {
                cap = byCost;
                limit = "max_cost_microusd " + grant.maxCostMicrousd();
            }
        }
        if (cap == 0 && wantedOutputTokens > 0) {
            return Admission.refuse(limit + ": no output tokens left for a step with input " + inputTokens);
        }
        return new Admission(cap, limit, null);
    }

    /** The first grant dimension {@code used} exceeds, e.g. "max_tokens 600 exceeded: 650 used". */
    static Optional<String> violation(Grant grant, Usage used) {
        if (exceeds(grant.maxTokens(), used.totalTokens())) {
            return Optional.of("max_tokens " + grant.maxTokens() + " exceeded: " + used.totalTokens() + " used");
        }
        if (exceeds(grant.maxInputTokens(), used.inputTokens())) {
            return Optional.of("max_input_tokens " + grant.maxInputTokens() + " exceeded: " + used.inputTokens() + " used");
        }
        if (exceeds(grant.maxOutputTokens(), used.outputTokens())) {
            return Optional.of("max_output_tokens " + grant.maxOutputTokens() + " exceeded: " + used.outputTokens() + " used");
        }
        if (exceeds(grant.maxSteps(), used.steps())) {
            return Optional.of("max_steps " + grant.maxSteps() + " exceeded: " + used.steps() + " used");
        }
        if (exceeds(grant.maxCostMicrousd(), used.costMicrousd())) {
            return Optional.of("max_cost_microusd " + grant.maxCostMicrousd() + " exceeded: " + used.costMicrousd() + " used");
        }
        return Optional.empty();
    }

    private static long left(Long limit, long used) {
        return limit == null ? Allowance.UNLIMITED : Math.max(0, limit - used);
    }

    private static boolean exceeds(Long limit, long used) {
        return limit != null && used > limit;
    }
}
