package io.sluice.coordinator.ledger;

import io.sluice.schemas.Budget;
import io.sluice.schemas.Grant;
import io.sluice.schemas.Reservation;
import io.sluice.schemas.Usage;

/**
 * The budget dimensions. Amounts per dimension live in {@code long[COUNT]} arrays indexed by ordinal;
 * {@link #TOKENS} is always input + output; {@link #COST} is what the executors priced the usage at, in millionths of
 * a US dollar (the ledger never prices anything itself).
 */
enum Dim {
    TOKENS("max_tokens", "tokens", "tokens"),
    INPUT("max_input_tokens", "input tokens", "input_tokens"),
    OUTPUT("max_output_tokens", "output tokens", "output_tokens"),
    STEPS("max_steps", "steps", "steps"),
    COST("max_cost_microusd", "µUSD", "cost_microusd");

    static final Dim[] ALL = values();
    static final int COUNT = ALL.length;
    /** In a grant array: no limit in this dimension. */
    static final long UNLIMITED = -1;

    /** The budget field's wire name, used in reasons. */
    final String field;
    /** What an amount of this dimension is called in reasons: "600 tokens". */
    final String unit;
    /** The usage field of the dimension on the wire ({@code input_tokens}); tokens have none of their own. */
    final String wireName;

    Dim(String field, String unit, String wireName) {
        this.field = field;
        this.unit = unit;
        this.wireName = wireName;
    }

    Long limit(Budget b) {
        return switch (this) {
            case TOKENS -> b.maxTokens();
            case INPUT -> b.maxInputTokens();
            case OUTPUT -> b.maxOutputTokens();
            case STEPS -> b.maxSteps();
            case COST -> b.maxCostMicrousd();
        };
    }

    static long[] amounts(long input, long output, long steps, long cost) {
        return new long[] {saturatedAdd(input, output), input, output, steps, cost};
    }

    static Grant grant(long[] g) {
        return new Grant(boxed(g[TOKENS.ordinal()]), boxed(g[INPUT.ordinal()]), boxed(g[OUTPUT.ordinal()]),
                boxed(g[STEPS.ordinal()]), boxed(g[COST.ordinal()]));
    }

    static Reservation reservation(long[] r) {
        return new Reservation(r[TOKENS.ordinal()], r[INPUT.ordinal()], r[OUTPUT.ordinal()], r[STEPS.ordinal()],
                r[COST.ordinal()]);
    }

    static Usage usage(long[] s) {
        return new Usage(s[INPUT.ordinal()], s[OUTPUT.ordinal()], s[STEPS.ordinal()], s[COST.ordinal()]);
    }

    /** Per dimension (tokens as input + output); zero when null. */
    static long[] of(Usage u) {
        return u == null ? new long[COUNT] : amounts(u.inputTokens(), u.outputTokens(), u.steps(), u.costMicrousd());
    }

    /** Per dimension; zero when null. */
    static long[] of(Reservation r) {
        return r == null ? new long[COUNT]
                : new long[] {r.tokens(), r.inputTokens(), r.outputTokens(), r.steps(), r.costMicrousd()};
    }

    /** Per dimension, {@link #UNLIMITED} where the grant sets no limit. */
    static long[] of(Grant g) {
        return new long[] {unboxed(g.maxTokens()), unboxed(g.maxInputTokens()), unboxed(g.maxOutputTokens()),
                unboxed(g.maxSteps()), unboxed(g.maxCostMicrousd())};
    }

    /** Sums that saturate instead of wrapping: a worker reporting absurd numbers must not flip a sign. */
    static long saturatedAdd(long a, long b) {
        long r = a + b;
        if (((a ^ r) & (b ^ r)) < 0) {
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return r;
    }

    /** {@code ceil(value × factor)}, saturating at {@link Long#MAX_VALUE}. */
    static long ceilTimes(long value, double factor) {
        double r = Math.ceil(value * factor);
        return r >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) r;
    }

    private static Long boxed(long v) {
        return v == UNLIMITED ? null : v;
    }

    private static long unboxed(Long v) {
        return v == null ? UNLIMITED : v;
    }
}
