package io.sluice.worker;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sluice.schemas.Status;

/**
 * Registers the {@link WorkerMeters} of one worker on the registry it is given and removes exactly those on
 * {@link #close()}. Tagged meters (per status, executor, direction, reason) are registered on first use.
 *
 * <p>Thread-safety: thread-safe.
 */
final class WorkerMetrics implements AutoCloseable {

    static final String DROPPED_HALTED = "halted";
    static final String DROPPED_EXPIRED = "expired";
    static final String DROPPED_NOT_STARTED = "not_started";

    private final MeterRegistry registry;
    private final String workerId;
    private final AtomicInteger inflight = new AtomicInteger();
    private final List<Meter> registered = new CopyOnWriteArrayList<>();
    private final ConcurrentMap<String, Meter> byKey = new ConcurrentHashMap<>();
    /** After close, a straggling leaf must not register its meters again. */
    private volatile boolean closed;

    WorkerMetrics(MeterRegistry registry, String workerId, java.util.function.IntSupplier fetching,
                  java.util.function.IntSupplier slotsFree) {
        this.registry = registry;
        this.workerId = workerId;
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
    }

    WorkerMetrics(MeterRegistry registry, String workerId) {
        this(registry, workerId, () -> 0, () -> 0);
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
        Timer timer = (Timer) byKey.computeIfAbsent(WorkerMeters.STEP.name() + "|" + executor, k -> remember(
                Timer.builder(WorkerMeters.STEP.meterName())
                        .description(WorkerMeters.STEP.description())
                        .tag(WorkerMeters.WORKER_TAG, workerId)
                        .tag(WorkerMeters.STEP.tagKeys().get(0), executor)
                        .publishPercentileHistogram()
                        .register(registry)));
        timer.record(duration);
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

    private Meter remember(Meter meter) {
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
