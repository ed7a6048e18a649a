package io.sluice.schemas;

import java.util.List;

/**
 * What a worker writes to {@link Topics#HEARTBEATS}, keyed by run id, every interval for each run it holds attempts
 * of: the attempts of that run it is running. It renews their leases at the run's coordinator; an attempt whose lease
 * lapses is given up for lost, as if its worker had died.
 *
 * @param attempts the attempts of the run this worker is running now
 */
public record Heartbeat(String runId, String workerId, List<Attempt> attempts, long atMs) {

    public Heartbeat {
        attempts = attempts == null ? List.of() : List.copyOf(attempts);
    }

    /** One attempt of one leaf. */
    public record Attempt(String path, int attempt) {
    }
}
