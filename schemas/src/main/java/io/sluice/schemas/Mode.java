package io.sluice.schemas;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** How a run enforces its budgets. */
public enum Mode {
    /** A leaf is dispatched only against a grant every ancestor can cover: spend never exceeds any limit. */
    STRICT("strict"),
    /** The seed system's behaviour: dispatch while spent &lt; limit, halt on the first crossing; overshoot is reported. */
    OPTIMISTIC("optimistic");

    private final String wire;

    Mode(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static Mode fromWire(String value) {
        for (Mode m : values()) {
            if (m.wire.equals(value)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown mode '" + value + "' (expected strict or optimistic)");
    }
}
