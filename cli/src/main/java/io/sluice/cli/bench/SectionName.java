package io.sluice.cli.bench;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import com.fasterxml.jackson.annotation.JsonValue;

/**
 * The sections of {@code sluice bench}, in the order the report lists them.
 *
 * <p>They run in {@link #executionOrder()}: the same, except that {@link #SCALE} runs last. A scale run that does not
 * finish within its timeout stays unfinished on the ledger, and any coordinator started after it would restore it and
 * go on dispatching its leaves — which would load the sections measured after it (the idle workers above all).
 */
enum SectionName {
    BASELINE("baseline"),
    THROUGHPUT("throughput"),
    HALT("halt"),
    OVERSHOOT("overshoot"),
    SCALE("scale"),
    FOLD("fold"),
    IDLE("idle"),
    PROVIDER("provider");

    private final String wire;

    SectionName(String wire) {
        this.wire = wire;
    }

    /** The name on the command line and in the report. */
    @JsonValue
    String wire() {
        return wire;
    }

    /** Every section, in the order they run. */
    static List<SectionName> executionOrder() {
        return List.of(BASELINE, THROUGHPUT, HALT, OVERSHOOT, FOLD, IDLE, PROVIDER, SCALE);
    }

    /** @throws IllegalArgumentException naming the option and the names it accepts */
    static SectionName fromWire(String name) {
        for (SectionName s : values()) {
            if (s.wire.equals(name.trim().toLowerCase(java.util.Locale.ROOT))) {
                return s;
            }
        }
        throw new IllegalArgumentException("--sections: unknown section '" + name + "' (expected any of "
                + Arrays.stream(values()).map(SectionName::wire).collect(Collectors.joining(",")) + ")");
    }
}
