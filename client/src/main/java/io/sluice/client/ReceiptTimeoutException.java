package io.sluice.client;

import java.time.Duration;

/** No receipt came within the wait: the run may still be running (waiting again finds its receipt). */
public final class ReceiptTimeoutException extends IllegalStateException {

    private final String runId;
    private final Duration waited;

    public ReceiptTimeoutException(String runId, Duration waited) {
        super("run " + runId + ": no receipt within " + waited);
        this.runId = runId;
        this.waited = waited;
    }

    public String runId() {
        return runId;
    }

    public Duration waited() {
        return waited;
    }
}
