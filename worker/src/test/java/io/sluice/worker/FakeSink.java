package io.sluice.worker;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import io.sluice.schemas.Heartbeat;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.Topics;
import io.sluice.schemas.UsageEvent;

/** Records what a worker reports; every write succeeds at once unless {@link #failing} is set. */
final class FakeSink implements UsageSink {

    final List<UsageEvent> events = new CopyOnWriteArrayList<>();
    final List<Rejection> rejections = new CopyOnWriteArrayList<>();
    final List<Heartbeat> heartbeats = new CopyOnWriteArrayList<>();
    volatile RuntimeException failing;

    @Override
    public CompletableFuture<Void> usage(UsageEvent event) {
        events.add(event);
        return result();
    }

    @Override
    public CompletableFuture<Void> reject(Rejection rejection) {
        rejections.add(rejection);
        return result();
    }

    @Override
    public CompletableFuture<Void> heartbeat(Heartbeat heartbeat) {
        heartbeats.add(heartbeat);
        return result();
    }

    @Override
    public CompletableFuture<Void> beacon(Heartbeat beacon, int partition) {
        heartbeats.add(beacon);
        return result();
    }

    @Override
    public int heartbeatPartitions() {
        return Topics.DEFAULT_RUN_PARTITIONS;
    }

    private CompletableFuture<Void> result() {
        RuntimeException f = failing;
        return f == null ? CompletableFuture.completedFuture(null) : CompletableFuture.failedFuture(f);
    }

    UsageEvent last() {
        return events.get(events.size() - 1);
    }

    List<UsageEvent> steps() {
        return events.stream().filter(e -> !e.isFinal()).toList();
    }
}
