package io.sluice.worker.execute;

import java.math.BigInteger;

/**
 * What a model charges, in millionths of a US dollar (µUSD) per million tokens — the unit price tables use:
 * {@code gpt-4o-mini} at $0.15 / $0.60 per million input / output tokens is {@code Price(150_000, 600_000)}.
 *
 * <p>A step's cost is {@code ceil((input × inputPrice + output × outputPrice) / 1,000,000)} µUSD, rounded up once for
 * the step, so that the ledger's cost is never below what the tokens cost. Exact integer arithmetic, saturating at
 * {@link Long#MAX_VALUE}. Immutable.
 */
public record Price(long inputPerMillionMicrousd, long outputPerMillionMicrousd) {

    private static final BigInteger MILLION = BigInteger.valueOf(1_000_000);
    private static final BigInteger MAX = BigInteger.valueOf(Long.MAX_VALUE);

    public Price {
        if (inputPerMillionMicrousd < 0 || outputPerMillionMicrousd < 0) {
            throw new IllegalArgumentException("prices: must be >= 0, got " + inputPerMillionMicrousd + " and "
                    + outputPerMillionMicrousd);
        }
    }

    /** The cost of a step of {@code input} and {@code output} tokens, in µUSD, rounded up. */
    public long cost(long input, long output) {
        BigInteger micro = BigInteger.valueOf(input).multiply(BigInteger.valueOf(inputPerMillionMicrousd))
                .add(BigInteger.valueOf(output).multiply(BigInteger.valueOf(outputPerMillionMicrousd)));
        BigInteger[] qr = micro.divideAndRemainder(MILLION);
        BigInteger cost = qr[1].signum() > 0 ? qr[0].add(BigInteger.ONE) : qr[0];
        return cost.min(MAX).longValueExact();
    }

    /**
     * The most output tokens a step of {@code input} tokens may produce within {@code costLeft} µUSD; -1 when even its
     * input does not fit; {@link Long#MAX_VALUE} when output is free.
     */
    public long maxOutputWithin(long costLeft, long input) {
        BigInteger budget = BigInteger.valueOf(costLeft).multiply(MILLION)
                .subtract(BigInteger.valueOf(input).multiply(BigInteger.valueOf(inputPerMillionMicrousd)));
        if (budget.signum() < 0) {
            return -1;
        }
        if (outputPerMillionMicrousd == 0) {
            return Long.MAX_VALUE;
        }
        return budget.divide(BigInteger.valueOf(outputPerMillionMicrousd)).min(MAX).longValueExact();
    }
}
