package io.sluice.worker.execute;

/** Thrown by {@link LeafContext} once the leaf was halted, its deadline passed or the worker is shutting down. */
public final class LeafCancelledException extends RuntimeException {

    public LeafCancelledException(String message) {
        super(message);
    }
}
