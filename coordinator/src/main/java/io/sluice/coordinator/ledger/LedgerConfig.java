package io.sluice.coordinator.ledger;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link RunLedger} sizes grants and retries leaves. Immutable; validated once, here.
 *
 * @param estimateMargin    a learned grant is the largest spend seen among finished sibling attempts times this
 *                          margin (rounded up); at least 1.0
 * @param minUsefulFraction a leaf that cannot get its desired grant, with nothing left in flight that could
 *                          refund the difference, is still dispatched with what remains if that is at least this
 *                          fraction of the desired grant (its last chance); in (0, 1]
 * @param receiptLeafLimit  runs with at most this many leaves list every leaf in their receipt (and keep one
 *                          ledger entry per leaf for it); larger runs list the workflow and branches only; ≥ 0
 * @param maxAttempts       how often a leaf is tried in all when its own {@code max_attempts} is absent; ≥ 1
 * @param baseBackoff       the wait before a leaf's first retry, doubled for every further one (then jittered
 *                          down to between half and all of it); ≥ 0, whole milliseconds count
 * @param maxBackoff        the cap of the doubled wait; ≥ {@code baseBackoff}
 * @param runMaxParallel    the workflow's {@code max_parallel} when its submission sets none: no run has more leaf
 *                          attempts in flight than this; ≥ 1
 * @param maxDispatchPerCall most leaf attempts one call of the ledger dispatches; the rest follow in the next calls
 *                          (the ledger asks for one at once, see {@code RunLedger#nextDeadlineMs}), so that what one
 *                          input makes a coordinator publish in one transaction stays bounded; ≥ 1
 * @param abandonGrace      how long an attempt may go without its final event past its deadline, or past the halt of a
 *                          node above it, before the ledger gives it up for lost — so that a deadline ends a run
 *                          whatever usage arrives; ≥ 0, whole milliseconds count
 * @param lease             how long an attempt whose worker was heard of (a usage event or a heartbeat naming it) may
 *                          go unheard before it is given up for lost, as if its worker died; zero for no leases
 */
public record LedgerConfig(double estimateMargin, double minUsefulFraction, int receiptLeafLimit, int maxAttempts,
                           Duration baseBackoff, Duration maxBackoff, int runMaxParallel, int maxDispatchPerCall,
                           Duration abandonGrace, Duration lease) {

    public static final double DEFAULT_ESTIMATE_MARGIN = 1.25;
    public static final double DEFAULT_MIN_USEFUL_FRACTION = 0.5;
    public static final int DEFAULT_RECEIPT_LEAF_LIMIT = 1000;
    public static final int DEFAULT_MAX_ATTEMPTS = 3;
    public static final Duration DEFAULT_BASE_BACKOFF = Duration.ofMillis(200);
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(10);
    public static final int DEFAULT_RUN_MAX_PARALLEL = 1000;
    public static final int DEFAULT_MAX_DISPATCH_PER_CALL = 1000;
    public static final Duration DEFAULT_ABANDON_GRACE = Duration.ofSeconds(30);
    /** With workers' heartbeats every 3 s ({@code WorkerConfig#DEFAULT_HEARTBEAT_INTERVAL}): a dead worker in ~10 s. */
    public static final Duration DEFAULT_LEASE = Duration.ofSeconds(10);

    public LedgerConfig {
        if (!(estimateMargin >= 1.0) || Double.isInfinite(estimateMargin)) {
            throw new IllegalArgumentException("estimateMargin must be a finite number ≥ 1.0, got " + estimateMargin);
        }
        if (!(minUsefulFraction > 0.0 && minUsefulFraction <= 1.0)) {
            throw new IllegalArgumentException("minUsefulFraction must be in (0, 1], got " + minUsefulFraction);
        }
        if (receiptLeafLimit < 0) {
            throw new IllegalArgumentException("receiptLeafLimit must be ≥ 0, got " + receiptLeafLimit);
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be ≥ 1, got " + maxAttempts);
        }
        Objects.requireNonNull(baseBackoff, "baseBackoff");
        Objects.requireNonNull(maxBackoff, "maxBackoff");
        if (baseBackoff.isNegative()) {
            throw new IllegalArgumentException("baseBackoff must be ≥ 0, got " + baseBackoff);
        }
        if (maxBackoff.compareTo(baseBackoff) < 0) {
            throw new IllegalArgumentException("maxBackoff must be ≥ baseBackoff (" + baseBackoff + "), got " + maxBackoff);
        }
        if (maxBackoff.compareTo(Duration.ofMillis(Long.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException("maxBackoff must fit in a long of milliseconds, got " + maxBackoff);
        }
        if (runMaxParallel < 1) {
            throw new IllegalArgumentException("runMaxParallel must be ≥ 1, got " + runMaxParallel);
        }
        if (maxDispatchPerCall < 1) {
            throw new IllegalArgumentException("maxDispatchPerCall must be ≥ 1, got " + maxDispatchPerCall);
        }
        Objects.requireNonNull(abandonGrace, "abandonGrace");
        if (abandonGrace.isNegative() || abandonGrace.compareTo(Duration.ofDays(7)) > 0) {
            throw new IllegalArgumentException("abandonGrace must be within [0, 7 days], got " + abandonGrace);
        }
        Objects.requireNonNull(lease, "lease");
        if (lease.isNegative() || lease.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalArgumentException("lease must be within [0, 1 day] (0: no leases), got " + lease);
        }
    }

    /** The given settings with the default lease. */
    public LedgerConfig(double estimateMargin, double minUsefulFraction, int receiptLeafLimit, int maxAttempts,
                        Duration baseBackoff, Duration maxBackoff, int runMaxParallel, int maxDispatchPerCall,
                        Duration abandonGrace) {
        this(estimateMargin, minUsefulFraction, receiptLeafLimit, maxAttempts, baseBackoff, maxBackoff, runMaxParallel,
                maxDispatchPerCall, abandonGrace, DEFAULT_LEASE);
    }

    /** The given settings with the default grace for abandoned attempts. */
    public LedgerConfig(double estimateMargin, double minUsefulFraction, int receiptLeafLimit, int maxAttempts,
                        Duration baseBackoff, Duration maxBackoff, int runMaxParallel, int maxDispatchPerCall) {
        this(estimateMargin, minUsefulFraction, receiptLeafLimit, maxAttempts, baseBackoff, maxBackoff, runMaxParallel,
                maxDispatchPerCall, DEFAULT_ABANDON_GRACE);
    }

    /** The given grant and retry settings with the default in-flight cap and dispatch chunk. */
    public LedgerConfig(double estimateMargin, double minUsefulFraction, int receiptLeafLimit, int maxAttempts,
                        Duration baseBackoff, Duration maxBackoff) {
        this(estimateMargin, minUsefulFraction, receiptLeafLimit, maxAttempts, baseBackoff, maxBackoff,
                DEFAULT_RUN_MAX_PARALLEL, DEFAULT_MAX_DISPATCH_PER_CALL);
    }

    public LedgerConfig withRunMaxParallel(int cap) {
        return new LedgerConfig(estimateMargin, minUsefulFraction, receiptLeafLimit, maxAttempts, baseBackoff, maxBackoff,
                cap, maxDispatchPerCall, abandonGrace, lease);
    }

    public LedgerConfig withMaxDispatchPerCall(int chunk) {
        return new LedgerConfig(estimateMargin, minUsefulFraction, receiptLeafLimit, maxAttempts, baseBackoff, maxBackoff,
                runMaxParallel, chunk, abandonGrace, lease);
    }

    public LedgerConfig withAbandonGrace(Duration grace) {
        return new LedgerConfig(estimateMargin, minUsefulFraction, receiptLeafLimit, maxAttempts, baseBackoff, maxBackoff,
                runMaxParallel, maxDispatchPerCall, grace, lease);
    }

    public LedgerConfig withLease(Duration value) {
        return new LedgerConfig(estimateMargin, minUsefulFraction, receiptLeafLimit, maxAttempts, baseBackoff, maxBackoff,
                runMaxParallel, maxDispatchPerCall, abandonGrace, value);
    }

    /** The given grant settings with the default retry settings. */
    public LedgerConfig(double estimateMargin, double minUsefulFraction, int receiptLeafLimit) {
        this(estimateMargin, minUsefulFraction, receiptLeafLimit, DEFAULT_MAX_ATTEMPTS, DEFAULT_BASE_BACKOFF,
                DEFAULT_MAX_BACKOFF);
    }

    public static LedgerConfig defaults() {
        return new LedgerConfig(DEFAULT_ESTIMATE_MARGIN, DEFAULT_MIN_USEFUL_FRACTION, DEFAULT_RECEIPT_LEAF_LIMIT);
    }
}
