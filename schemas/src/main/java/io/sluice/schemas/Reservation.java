package io.sluice.schemas;

/** Grants outstanding below a node: reserved at dispatch, consumed by usage, the rest refunded at the end. */
public record Reservation(long tokens, long inputTokens, long outputTokens, long steps) {

    public static final Reservation ZERO = new Reservation(0, 0, 0, 0);
}
