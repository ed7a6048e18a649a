package io.sluice.schemas;

/**
 * An operator's request, on {@link Topics#CANCELLATIONS} keyed by run id, to cancel a run or one workflow/branch of
 * it (see {@code cancel-request.schema.json}). The run's coordinator halts the node as a budget halt would, or
 * dead-letters the request with the reason.
 *
 * @param path        the workflow or branch; null for the whole run
 * @param reason      why, for the receipt; may be null
 * @param requestedBy who asks, for the receipt
 */
public record CancelRequest(String runId, String path, String reason, String requestedBy, long requestedAtMs) {

    /** What the cancelled node's reason names: "alice@ops-1" or "alice@ops-1: the scan is no longer needed". */
    public String describe() {
        return reason == null || reason.isBlank() ? requestedBy : requestedBy + ": " + reason;
    }
}
