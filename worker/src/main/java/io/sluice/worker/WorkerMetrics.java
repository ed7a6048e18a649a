package io.sluice.worker;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sluice.schemas.Heartbeat;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.Status;
import io.sluice.schemas.UsageEvent;

/**
 * Registers the {@link WorkerMeters} of one worker on the registry it is given and removes exactly those on
 * {@link #close()}. Every meter is registered at once, at zero, for each tag value the worker can report (each final
 * status, drop reason, direction, dead-letter kind and executor): a dashboard of an idle worker has every series.
 *
 * <p>Thread-safety: thread-safe.
 */
final class WorkerMetrics implements AutoCloseable {

    static final String DROPPED_HALTED = "halted";
    static final String DROPPED_EXPIRED = "expired";
    static final String DROPPED_NOT_STARTED = "not_started";
    static final String DEAD_LETTER_TASK = "task";
    static final String DEAD_LETTER_HALT = "halt";
    private static final Status[] FINAL_STATUSES = {Status.SUCCEEDED, Status.FAILED, Status.BUDGET_EXCEEDED,
            Status.TIMED_OUT, Status.CANCELLED, Status.LOST};

    private final MeterRegistry registry;
    /** The worker's name: the tag of its meters. */
    private final String workerId;
    private final Counter abandoned;
    private final AtomicInteger inflight = new AtomicInteger();
    private final List<Meter> registered = new CopyOnWriteArrayList<>();
    private final ConcurrentMap<String, Meter> byKey = new ConcurrentHashMap<>();
    /** After close, a straggling leaf must not register its meters again. */
    private volatile boolean closed;

    /**
     * @param name      the {@code worker} tag of every meter
     * @param executors the executors' names: each gets its step timer at once
     */
    WorkerMetrics(MeterRegistry registry, String name, IntSupplier fetching,
                  IntSupplier slotsFree, Collection<String> executors) {
        this.registry = registry;
        this.workerId = name;
        registered.add(Gauge.builder(WorkerMeters.INFLIGHT.meterName(), inflight, AtomicInteger::get)
                .description(WorkerMeters.INFLIGHT.description())
                .tag(WorkerMeters.WORKER_TAG, workerId)
                .register(registry));
        registered.add(Gauge.builder(WorkerMeters.FETCHING.meterName(), fetching::getAsInt)
                .description(WorkerMeters.FETCHING.description())
                .tag(WorkerMeters.WORKER_TAG, workerId)
                .register(registry));
        registered.add(Gauge.builder(WorkerMeters.SLOTS_FREE.meterName(), slotsFree::getAsInt)
                .description(WorkerMeters.SLOTS_FREE.description())
                .tag(WorkerMeters.WORKER_TAG, workerId)
                .register(registry));
        for (Status status : FINAL_STATUSES) {
            counter(WorkerMeters.TASKS, status.wire());
        }
        for (String reason : List.of(DROPPED_HALTED, DROPPED_EXPIRED, DROPPED_NOT_STARTED)) {
            counter(WorkerMeters.DROPPED, reason);
        }
        for (String direction : List.of("input", "output")) {
            counter(WorkerMeters.TOKENS, direction);
        }
        for (String kind : List.of(DEAD_LETTER_TASK, DEAD_LETTER_HALT)) {
            counter(WorkerMeters.DEAD_LETTERS, kind);
        }
        abandoned = remember(Counter.builder(WorkerMeters.ABANDONED.meterName())
                .description(WorkerMeters.ABANDONED.description())
                .tag(WorkerMeters.WORKER_TAG, name)
                .register(registry));
        executors.forEach(this::timer);
    }

    WorkerMetrics(MeterRegistry registry, String name) {
        this(registry, name, () -> 0, () -> 0, List.of());
    }

    void taskEnded(Status status) {
        if (closed) {
            return;
        }
        counter(WorkerMeters.TASKS, status.wire()).increment();
    }

    void dropped(String reason) {
        if (closed) {
            return;
        }
        counter(WorkerMeters.DROPPED, reason).increment();
    }

    void tokens(long input, long output) {
        if (closed) {
            return;
        }
        counter(WorkerMeters.TOKENS, "input").increment(input);
        counter(WorkerMeters.TOKENS, "output").increment(output);
    }

    void step(String executor, Duration duration) {
        if (closed) {
            return;
        }
        timer(executor).record(duration);
    }

    void deadLettered(String kind) {
        if (closed) {
            return;
        }
        counter(WorkerMeters.DEAD_LETTERS, kind).increment();
    }

    void abandoned() {
        if (!closed) {
            abandoned.increment();
        }
    }

    /** The sink, counting the rejections it wrote by their kind. */
    UsageSink counting(UsageSink sink) {
        return new UsageSink() {
            @Override
            public CompletableFuture<Void> usage(UsageEvent event) {
                return sink.usage(event);
            }

            @Override
            public CompletableFuture<Void> reject(Rejection rejection) {
                return sink.reject(rejection).thenRun(() -> deadLettered(rejection.kind()));
            }

            @Override
            public CompletableFuture<Void> heartbeat(Heartbeat heartbeat) {
                return sink.heartbeat(heartbeat);
            }

            @Override
            public CompletableFuture<Void> beacon(Heartbeat beacon, int partition) {
                return sink.beacon(beacon, partition);
            }

            @Override
            public int heartbeatPartitions() {
                return sink.heartbeatPartitions();
            }
        };
    }

    private Timer timer(String executor) {
        return (Timer) byKey.computeIfAbsent(WorkerMeters.STEP.name() + "|" + executor, k -> remember(
                Timer.builder(WorkerMeters.STEP.meterName())
                        .description(WorkerMeters.STEP.description())
                        .tag(WorkerMeters.WORKER_TAG, workerId)
                        .tag(WorkerMeters.STEP.tagKeys().get(0), executor)
                        .publishPercentileHistogram()
                        .register(registry)));
    }

    AtomicInteger inflight() {
        return inflight;
    }

    private Counter counter(WorkerMeters meter, String tagValue) {
        return (Counter) byKey.computeIfAbsent(meter.name() + "|" + tagValue, k -> remember(
                Counter.builder(meter.meterName())
                        .description(meter.description())
                        .tag(WorkerMeters.WORKER_TAG, workerId)
                        .tag(meter.tagKeys().get(0), tagValue.toLowerCase(Locale.ROOT))
                        .register(registry)));
    }

    private <M extends Meter> M remember(M meter) {
        registered.add(meter);
        return meter;
    }

    @Override
    public void close() {
        closed = true;
        for (Meter meter : registered) {
            registry.remove(meter);
        }
        registered.clear();
        byKey.clear();
    }
}
