package io.sluice.schemas;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One attempt of one leaf, as the coordinator publishes it to {@link Topics#TASKS}.
 *
 * @param path         the leaf's path, e.g. {@code audit/scan/readme}
 * @param attempt      1 for the first try; a retry gets a new number and a fresh grant
 * @param grant        what this attempt may spend; the worker caps every step to what is left of it
 * @param deadlineMs   epoch millis after which the worker stops the attempt ({@code timed_out}); null = none
 * @param dispatchedAtMs epoch millis when the coordinator dispatched it
 */
public record LeafTask(String runId, String path, int attempt, Grant grant, Long deadlineMs, String executor,
                       JsonNode input, long dispatchedAtMs) {
}
