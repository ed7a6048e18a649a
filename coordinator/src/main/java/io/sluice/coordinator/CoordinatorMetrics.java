package io.sluice.coordinator;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Status;

/**
 * The meters of one coordinator ({@link CoordinatorMeters}), every one tagged with its id ({@code coordinator}) so that
 * two coordinators in one registry never share or remove each other's meters; not {@code instance}, which Prometheus
 * sets to the scraped address. Every counter (each run status, halt cause, dead-letter kind and mode) exists from the
 * start, at zero. {@link #close()} removes exactly the meters registered here.
 *
 * <p>Thread-safety: meters are thread-safe; gauges read state the loop publishes through thread-safe suppliers.
 */
final class CoordinatorMetrics implements AutoCloseable {

    private static final Status[] RUN_STATUSES = {Status.SUCCEEDED, Status.FAILED, Status.BUDGET_EXCEEDED,
            Status.TIMED_OUT, Status.CANCELLED, Status.REJECTED};
    private static final Status[] HALT_CAUSES = {Status.BUDGET_EXCEEDED, Status.TIMED_OUT, Status.CANCELLED};
    static final String[] DEAD_LETTER_KINDS = {"submission", "usage", "heartbeat", "cancel", "run", "ledger"};
    /** The tag every meter carries: the coordinator's instance id. */
    static final String TAG = "coordinator";

    private final MeterRegistry registry;
    private final Tags instance;
    private final Set<Meter> meters = ConcurrentHashMap.newKeySet();
    private final Map<String, Counter> byKey = new ConcurrentHashMap<>();

    final Counter dispatched;
    final Counter tokensIn;
    final Counter tokensOut;
    final Counter costSpent;
    final Counter duplicates;
    final Counter usageRejected;
    final Counter submissionsRejected;
    final Counter abandoned;
    final Timer loop;
    private final DistributionSummary utilisation;

    CoordinatorMetrics(MeterRegistry registry, String instanceId) {
        this.registry = registry;
        this.instance = Tags.of(TAG, instanceId);
        dispatched = counter(CoordinatorMeters.LEAVES_DISPATCHED, Tags.empty());
        tokensIn = counter(CoordinatorMeters.TOKENS_SPENT, Tags.of("direction", "input"));
        tokensOut = counter(CoordinatorMeters.TOKENS_SPENT, Tags.of("direction", "output"));
        costSpent = counter(CoordinatorMeters.COST_SPENT, Tags.empty());
        duplicates = counter(CoordinatorMeters.USAGE_DUPLICATES, Tags.empty());
        usageRejected = counter(CoordinatorMeters.USAGE_REJECTED, Tags.empty());
        submissionsRejected = counter(CoordinatorMeters.SUBMISSIONS_REJECTED, Tags.empty());
        abandoned = counter(CoordinatorMeters.ATTEMPTS_ABANDONED, Tags.empty());
        for (Status s : RUN_STATUSES) {
            runs(s);
        }
        for (Status s : HALT_CAUSES) {
            halts(s);
        }
        for (String kind : DEAD_LETTER_KINDS) {
            deadLetters(kind);
        }
        for (Mode mode : Mode.values()) {
            overshoot(mode);
        }
        loop = track(Timer.builder(CoordinatorMeters.LOOP.meterName()).description(CoordinatorMeters.LOOP.description())
                .tags(instance).publishPercentileHistogram().register(registry));
        utilisation = track(DistributionSummary.builder(CoordinatorMeters.BUDGET_UTILISATION.meterName())
                .description(CoordinatorMeters.BUDGET_UTILISATION.description()).tags(instance).register(registry));
    }

    /** Registers the gauges; the suppliers are read from the registry's threads. */
    void gauges(Supplier<Number> activeRuns, Supplier<Number> reservedTokens, Supplier<Number> restoring,
                Supplier<Number> overdueSeconds) {
        gauge(CoordinatorMeters.RUNS_ACTIVE, activeRuns);
        gauge(CoordinatorMeters.TOKENS_RESERVED, reservedTokens);
        gauge(CoordinatorMeters.PARTITIONS_RESTORING, restoring);
        gauge(CoordinatorMeters.RUNS_OVERDUE, overdueSeconds);
    }

    Counter runs(Status status) {
        return keyed(CoordinatorMeters.RUNS, "status", status.wire());
    }

    Counter halts(Status cause) {
        return keyed(CoordinatorMeters.HALTS, "cause", cause.wire());
    }

    Counter overshoot(Mode mode) {
        return keyed(CoordinatorMeters.OVERSHOOT, "mode", mode.wire());
    }

    Counter deadLetters(String kind) {
        return keyed(CoordinatorMeters.DEAD_LETTERS, "kind", kind);
    }

    void utilisation(double fraction) {
        utilisation.record(fraction);
    }

    void loopTook(long nanos) {
        loop.record(nanos, TimeUnit.NANOSECONDS);
    }

    private Counter keyed(CoordinatorMeters meter, String tag, String value) {
        return byKey.computeIfAbsent(meter.name() + "|" + value, k -> counter(meter, Tags.of(tag, value)));
    }

    private Counter counter(CoordinatorMeters meter, Tags tags) {
        return track(Counter.builder(meter.meterName()).description(meter.description()).tags(instance).tags(tags)
                .register(registry));
    }

    private void gauge(CoordinatorMeters meter, Supplier<Number> value) {
        track(Gauge.builder(meter.meterName(), value).description(meter.description()).tags(instance).register(registry));
    }

    private <M extends Meter> M track(M meter) {
        meters.add(meter);
        return meter;
    }

    /** Removes every meter registered here, and no one else's. */
    @Override
    public void close() {
        meters.forEach(registry::remove);
        meters.clear();
        byKey.clear();
    }
}
