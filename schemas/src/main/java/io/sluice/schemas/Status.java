package io.sluice.schemas;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * The status of a run or node, in the seed system's vocabulary.
 *
 * <p>A parent's status ranks its children's: {@code cancelled > budget_exceeded > failed > succeeded}, and
 * {@code timed_out} where the node's own deadline passed. {@link #REJECTED} is only ever a run's status: its
 * submission was invalid and nothing ran. {@link #LOST} is only ever an attempt's outcome on a usage event.
 */
public enum Status {
    PENDING("pending", false, 0),
    RUNNING("running", false, 0),
    SUCCEEDED("succeeded", true, 1),
    FAILED("failed", true, 2),
    BUDGET_EXCEEDED("budget_exceeded", true, 3),
    TIMED_OUT("timed_out", true, 4),
    CANCELLED("cancelled", true, 5),
    REJECTED("rejected", true, 6),
    /**
     * Only on a usage event, never a node's status: a worker received an attempt whose previous delivery never
     * finished (its worker died or lost the task's lock) and did not run it again. What the lost delivery spent
     * is unknown, so strict mode charges the attempt's whole grant; the leaf may then be retried.
     */
    LOST("lost", true, 2);

    private final String wire;
    private final boolean terminal;
    private final int rank;

    Status(String wire, boolean terminal, int rank) {
        this.wire = wire;
        this.terminal = terminal;
        this.rank = rank;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    public boolean isTerminal() {
        return terminal;
    }

    /** Of two terminal statuses, the one a parent takes when its children end in both. */
    public static Status worse(Status a, Status b) {
        return a.rank >= b.rank ? a : b;
    }

    @JsonCreator
    public static Status fromWire(String value) {
        for (Status s : values()) {
            if (s.wire.equals(value)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown status '" + value + "'");
    }
}
