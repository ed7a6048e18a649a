package io.sluice.worker;

import java.util.List;

import io.micrometer.core.instrument.Meter;

/**
 * Every meter a worker registers: name, type, description and tag keys, in one place. Each meter also carries the
 * tag {@code worker} (the worker's name, {@link WorkerConfig#name()}), so that several workers can share one registry.
 * Every meter exists from the worker's start, at zero, for each value of its tag that the worker can report.
 */
public enum WorkerMeters {

    TASKS("sluice.worker.tasks", Meter.Type.COUNTER, "Tasks that ended with a final usage event, by final status", "status"),
    INFLIGHT("sluice.worker.inflight", Meter.Type.GAUGE, "Leaves executing now"),
    FETCHING("sluice.worker.fetching", Meter.Type.GAUGE, "1 while the worker's task feed runs; 0 once it stopped (the worker is failing or shutting down)"),
    SLOTS_FREE("sluice.worker.slots.free", Meter.Type.GAUGE, "Slots (of the concurrency) not holding a leaf: the credit the task feed fetches for"),
    STEP("sluice.worker.step", Meter.Type.TIMER, "Duration of one executor step (a model call), begin to completion", "executor"),
    TOKENS("sluice.worker.tokens", Meter.Type.COUNTER, "Tokens reported by completed steps", "direction"),
    DEAD_LETTERS("sluice.worker.dead.letters", Meter.Type.COUNTER, "Records the worker sent to the DLQ, by the kind of record (task|halt)", "kind"),
    ABANDONED("sluice.worker.abandoned", Meter.Type.COUNTER, "Tasks accepted but not run, whose lease the worker lets lapse (their coordinator ends them lost): their start could not be announced, or the worker shut down first"),
    DROPPED("sluice.worker.dropped", Meter.Type.COUNTER, "Tasks ended without executing: a halt covers them, their deadline passed, or they could not be started (the worker shuts down, or held the record too long to trust its lock)", "reason");

    /** The tag every worker meter carries. */
    public static final String WORKER_TAG = "worker";

    private final String meterName;
    private final Meter.Type type;
    private final String description;
    private final List<String> tagKeys;

    WorkerMeters(String meterName, Meter.Type type, String description, String... tagKeys) {
        this.meterName = meterName;
        this.type = type;
        this.description = description;
        this.tagKeys = List.of(tagKeys);
    }

    public String meterName() {
        return meterName;
    }

    public Meter.Type type() {
        return type;
    }

    public String description() {
        return description;
    }

    /** Tag keys besides {@link #WORKER_TAG}. */
    public List<String> tagKeys() {
        return tagKeys;
    }
}
