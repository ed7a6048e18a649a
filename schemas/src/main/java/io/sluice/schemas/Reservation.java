package io.sluice.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;

/** Grants outstanding below a node: reserved at dispatch, consumed by usage, the rest refunded at the end. */
public record Reservation(long tokens, long inputTokens, long outputTokens, long steps,
                          @JsonInclude(JsonInclude.Include.NON_DEFAULT) Long costMicrousd) {

    public static final Reservation ZERO = new Reservation(0, 0, 0, 0, 0L);

    public Reservation {
        costMicrousd = costMicrousd == null ? 0L : costMicrousd;
    }

    /** A reservation of no cost. */
    public Reservation(long tokens, long inputTokens, long outputTokens, long steps) {
        this(tokens, inputTokens, outputTokens, steps, 0L);
    }
}
