package io.sluice.schemas;

import java.util.List;

/**
 * What a worker writes to {@link Topics#HEARTBEATS}, keyed by run id, every interval for each run it holds attempts
 * of: the attempts of that run it is running. It renews their leases at the run's coordinator; an attempt whose lease
 * lapses is given up for lost, as if its worker had died.
 *
 * @param runId    the run, or null for a beacon: a worker's sign of life to a partition where it runs nothing — a
 *                 coordinator lets leases lapse only while its partitions hear from workers, so that a broker outage
 *                 (or its own) is never taken for dead workers
 * @param attempts the attempts of the run this worker is running now; none on a beacon
 */
public record Heartbeat(String runId, String workerId, List<Attempt> attempts, long atMs) {

    public Heartbeat {
        attempts = attempts == null ? List.of() : List.copyOf(attempts);
    }

    /** A beacon of a worker that runs nothing on the partition it goes to. */
    public static Heartbeat beacon(String workerId, long atMs) {
        return new Heartbeat(null, workerId, List.of(), atMs);
    }

    /** True for a beacon. */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isBeacon() {
        return runId == null;
    }

    /** One attempt of one leaf. */
    public record Attempt(String path, int attempt) {
    }
}
