package io.sluice.coordinator.ledger;

/**
 * How a {@link RunLedger} sizes grants. Immutable; validated once, here.
 *
 * @param estimateMargin    a learned grant is the largest spend seen among finished sibling attempts times this
 *                          margin (rounded up); at least 1.0
 * @param minUsefulFraction a leaf that cannot get its desired grant, with nothing left in flight that could
 *                          refund the difference, is still dispatched with what remains if that is at least this
 *                          fraction of the desired grant (its last chance); in (0, 1]
 * @param receiptLeafLimit  runs with at most this many leaves list every leaf in their receipt (and keep one
 *                          ledger entry per leaf for it); larger runs list the workflow and branches only; ≥ 0
 */
public record LedgerConfig(double estimateMargin, double minUsefulFraction, int receiptLeafLimit) {

    public static final double DEFAULT_ESTIMATE_MARGIN = 1.25;
    public static final double DEFAULT_MIN_USEFUL_FRACTION = 0.5;
    public static final int DEFAULT_RECEIPT_LEAF_LIMIT = 1000;

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
    }

    public static LedgerConfig defaults() {
        return new LedgerConfig(DEFAULT_ESTIMATE_MARGIN, DEFAULT_MIN_USEFUL_FRACTION, DEFAULT_RECEIPT_LEAF_LIMIT);
    }
}
