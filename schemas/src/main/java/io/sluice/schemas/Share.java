package io.sluice.schemas;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** How a workflow or branch divides its budget among its child branches. */
public enum Share {
    /** Children are admitted in document order, each taking what it needs while the budget lasts (the default). */
    DOCUMENT("document"),
    /**
     * Children are admitted in turn, and while siblings run each child branch may hold at most an even share of what
     * the node has not given to finished children: {@code (limit − spent by finished children) ÷ unfinished children}.
     */
    EVEN("even");

    private final String wire;

    Share(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static Share fromWire(String value) {
        for (Share s : values()) {
            if (s.wire.equals(value)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown share '" + value + "' (expected document or even)");
    }
}
