package io.sluice.worker;

import java.util.concurrent.CompletableFuture;

import io.sluice.schemas.Heartbeat;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.UsageEvent;

/**
 * Where a worker writes what it reports: usage events (keyed by run) and rejected tasks. A returned future
 * completes when the record is durably written (acknowledged by all in-sync replicas), or exceptionally.
 *
 * <p>Thread-safety: implementations are called concurrently from every leaf; records of one run keep their order.
 */
interface UsageSink {

    CompletableFuture<Void> usage(UsageEvent event);

    CompletableFuture<Void> reject(Rejection rejection);

    /** A heartbeat, to the run's partition of the heartbeats topic. */
    CompletableFuture<Void> heartbeat(Heartbeat heartbeat);

    /** A beacon (a heartbeat without a run), to the given partition of the heartbeats topic. */
    CompletableFuture<Void> beacon(Heartbeat beacon, int partition);

    /** The partitions of the heartbeats topic. */
    int heartbeatPartitions();
}
