package io.sluice.coordinator.ledger;

import java.util.Arrays;
import java.util.Map;

import io.sluice.schemas.Grant;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Reservation;
import io.sluice.schemas.Status;

/**
 * A leaf the ledger currently holds state for: one whose attempt is in flight. These are the only per-leaf objects
 * of a run (besides the receipt entries of small runs), so their number is bounded by the workflow's
 * {@code max_parallel}.
 *
 * <p>Spend is kept per leaf (across attempts, for the leaf's own limits) and per attempt (for learning grants),
 * so that retries can reuse this object with a new attempt number and a fresh grant.
 */
final class LiveLeaf {

    final LeafSpec spec;
    final int copy;
    final int ordinal;
    final String path;

    int attempt;
    /** The highest usage sequence number accepted for the current attempt. */
    long lastSeq;
    long[] grant;
    /** What is left of the current attempt's grant per dimension ({@link Dim#UNLIMITED} where unlimited). */
    final long[] grantLeft = new long[Dim.COUNT];
    final long[] attemptSpent = new long[Dim.COUNT];
    /** Spend of all attempts of this leaf. */
    final long[] spent = new long[Dim.COUNT];
    boolean probe;
    long updatedAtMs;
    /** Usage reported beyond the grant (a worker fault), or null. */
    private String fault;

    LiveLeaf(LeafSpec spec, int copy, String path) {
        this.spec = spec;
        this.copy = copy;
        this.ordinal = spec.firstOrdinal + copy;
        this.path = path;
    }

    /** Starts an attempt with the given grant. */
    void startAttempt(int number, long[] newGrant, boolean isProbe, long nowMs) {
        attempt = number;
        lastSeq = 0;
        grant = newGrant.clone();
        System.arraycopy(newGrant, 0, grantLeft, 0, Dim.COUNT);
        Arrays.fill(attemptSpent, 0);
        probe = isProbe;
        updatedAtMs = nowMs;
    }

    Grant grantRecord() {
        return Dim.grant(grant);
    }

    /** The grant still outstanding, as reserved at every ancestor. */
    long[] outstanding() {
        long[] r = new long[Dim.COUNT];
        for (int i = 0; i < Dim.COUNT; i++) {
            r[i] = grantLeft[i] == Dim.UNLIMITED ? 0 : grantLeft[i];
        }
        return r;
    }

    void noteFault(String text) {
        fault = fault == null ? text : fault + "; " + text;
    }

    /** The human-readable reason of a finished attempt. */
    String reason(Status status, String error) {
        String base = switch (status) {
            case SUCCEEDED -> "succeeded";
            case BUDGET_EXCEEDED -> "budget_exceeded: " + exhausted();
            case FAILED -> "failed";
            case CANCELLED -> "cancelled";
            case TIMED_OUT -> "timed_out";
            default -> status.wire();
        };
        if (error != null && !error.isBlank()) {
            base = base + " (worker: " + error + ")";
        }
        return fault == null ? base : base + "; worker fault: " + fault;
    }

    private String exhausted() {
        StringBuilder sb = new StringBuilder();
        for (Dim d : Dim.ALL) {
            int i = d.ordinal();
            if (grant[i] != Dim.UNLIMITED && attemptSpent[i] >= grant[i]) {
                sb.append(sb.length() == 0 ? "used its grant of " : ", ").append(d.field).append(' ').append(grant[i]);
            }
        }
        return sb.length() == 0 ? "stopped by its worker" : sb.toString();
    }

    LedgerEntry entry(String runId, Mode mode, Status status, String reason) {
        Reservation reserved = status.isTerminal() ? Reservation.ZERO : Dim.reservation(outstanding());
        Long max = spec.leaf.budget().maxTokens();
        long over = max == null ? 0 : Math.max(0, spent[Dim.TOKENS.ordinal()] - max);
        return new LedgerEntry(runId, path, "leaf", mode, status, reason, spec.leaf.budget(), reserved,
                Dim.usage(spent), Map.of(status, 1L), over, updatedAtMs);
    }
}
