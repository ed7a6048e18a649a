package io.sluice.worker;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.schemas.Halt;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.Status;
import io.sluice.schemas.UsageEvent;
import io.sluice.schemas.WireFormatException;
import io.sluice.schemas.WireRecords;
import io.sluice.worker.execute.ExecutorRegistry;
import io.sluice.worker.execute.LeafExecutor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides what to do with one delivered task record, on the task feed's thread and without waiting for any write:
 * <ol>
 *   <li>not a valid task → a {@link Rejection} on the DLQ (and a final {@code failed} event when the record names
 *       its run, path and attempt);</li>
 *   <li>delivered before ({@code deliveryCount() > 1}) → never run again: a final {@code lost} event (seq 0, no
 *       usage). A worker accepts a task only after it announced the attempt durably and before it runs it, so a
 *       redelivery means the earlier one's worker died or lost the record between delivery and acceptance — it may
 *       have announced the attempt, and the coordinator cannot tell whether it started. This comes before the
 *       checks below: their seq-1 final event could collide with an earlier delivery's first step event. On the
 *       record's last delivery ({@code share.delivery.count.limit}) a rejection goes to the DLQ too, as the broker
 *       would archive it silently if this one failed as well;</li>
 *   <li>covered by a halt → a final event with the halt's status and "halted: ..." reason, no usage, not executed;</li>
 *   <li>deadline passed → a final {@code timed_out} event, no usage, not executed;</li>
 *   <li>unknown executor → a final {@code failed} event "unknown executor 'x'" and a rejection;</li>
 *   <li>not to be started — the worker is shutting down, or the feed held the record too long to trust its lock
 *       — → a final {@code cancelled} event with the reason, no usage (the coordinator retries it as a new
 *       attempt);</li>
 *   <li>else {@link Start}: registered as running, to be announced, accepted and then {@link #execute executed}.</li>
 * </ol>
 * Every other path is {@link Settled}: its record may be accepted once the returned writes are durable.
 *
 * <p>Thread-safety: stateless apart from thread-safe collaborators. {@link #admit} runs on the feed's thread,
 * {@link #execute} on the executor pool's.
 */
final class TaskHandler {

    private static final Logger log = LoggerFactory.getLogger(TaskHandler.class);

    /** What admitting a record led to. */
    sealed interface Admission permits Settled, Start {
    }

    /** Ended without running; {@code written} completes once its events are durable (exceptionally if they cannot be). */
    record Settled(CompletableFuture<Void> written) implements Admission {
    }

    /** To be run: registered as running, not yet announced to its coordinator. */
    record Start(LeafTask task, LeafExecutor executor, RunningLeaves.Leaf leaf) implements Admission {
    }

    private final String workerId;
    private final ExecutorRegistry executors;
    private final LeafRuntime runtime;
    private final UsageSink sink;
    private final Halts halts;
    private final RunningLeaves running;
    private final WorkerMetrics metrics;
    private final Clock clock;
    private final int deliveryLimit;
    private final BooleanSupplier draining;
    private final Executor cancelCallbacks;

    /**
     * @param draining        true once the worker is shutting down: tasks not yet started are then cancelled, not run
     * @param cancelCallbacks where the executors' cancellation callbacks of the leaves run
     */
    TaskHandler(String workerId, ExecutorRegistry executors, LeafRuntime runtime, UsageSink sink, Halts halts,
                RunningLeaves running, WorkerMetrics metrics, Clock clock, int deliveryLimit, BooleanSupplier draining,
                Executor cancelCallbacks) {
        this.workerId = workerId;
        this.executors = executors;
        this.runtime = runtime;
        this.sink = sink;
        this.halts = halts;
        this.running = running;
        this.metrics = metrics;
        this.clock = clock;
        this.deliveryLimit = deliveryLimit;
        this.draining = draining;
        this.cancelCallbacks = cancelCallbacks;
    }

    /**
     * Applies the rules above to a delivered record.
     *
     * @param notToStart when not null, the record must not run: it ends {@code cancelled} with this reason (after
     *                   the rules before that one, so that a redelivered task is reported lost and a halted one halted)
     */
    Admission admit(ConsumerRecord<byte[], byte[]> record, String notToStart) {
        LeafTask task;
        try {
            task = decode(record.value());
        } catch (IllegalArgumentException | WireFormatException e) {
            return new Settled(rejectInvalid(record, e.getMessage()));
        }
        int delivery = record.deliveryCount().map(Short::intValue).orElse(1);
        if (delivery > 1) {
            return new Settled(reportLost(record, task, delivery));
        }
        RunningLeaves.Leaf leaf = running.add(task, new StopSignal(cancelCallbacks));
        boolean starts = false;
        try {
            Optional<Halt> halt = halts.covering(task.runId(), task.path(), task.attempt());
            if (halt.isPresent()) {
                metrics.dropped(WorkerMetrics.DROPPED_HALTED);
                StopSignal.Stop stop = StopSignal.Stop.halt(halt.get());
                return new Settled(runtime.finish(task, stop.status(), stop.reason()));
            }
            if (task.deadlineMs() != null && clock.millis() >= task.deadlineMs()) {
                metrics.dropped(WorkerMetrics.DROPPED_EXPIRED);
                return new Settled(runtime.finish(task, Status.TIMED_OUT, "deadline passed before the task started"));
            }
            Optional<LeafExecutor> executor = executors.find(task.executor());
            if (executor.isEmpty()) {
                // Another attempt would find the same: the leaf fails at once, not max_attempts times.
                String error = "unknown executor '" + task.executor() + "'";
                return new Settled(rejectAndFail(record, task, "executor: " + error + " (known here: " + executors.names()
                        + ")", error));
            }
            // The leaf is registered before this check, so a shutdown that begins later reaches it as a stop.
            String cancelled = notToStart != null ? notToStart : draining.getAsBoolean() ? StopSignal.SHUTTING_DOWN : null;
            if (cancelled != null) {
                log.info("{}: {} attempt {} not started: {}", workerId, task.path(), task.attempt(), cancelled);
                metrics.dropped(WorkerMetrics.DROPPED_NOT_STARTED);
                return new Settled(runtime.finish(task, Status.CANCELLED, cancelled));
            }
            starts = true;
            return new Start(task, executor.get(), leaf);
        } finally {
            if (!starts) {
                running.remove(leaf);
            }
        }
    }

    /**
     * Runs an admitted, announced and accepted attempt, on the calling thread, until its final event is durable.
     *
     * @throws LeafRuntime.UsageWriteException when its usage could not be written (its lease then lapses, and the
     *                                         coordinator ends it lost)
     */
    void execute(Start start) {
        try {
            runtime.execute(start.task(), start.executor(), start.leaf().signal);
        } finally {
            running.remove(start.leaf());
        }
    }

    /** An admitted attempt that is not run after all (it could not be announced or accepted). */
    void abandon(Start start, String why) {
        running.remove(start.leaf());
        metrics.abandoned();
        log.warn("{}: {} attempt {} not run: {}", workerId, start.task().path(), start.task().attempt(), why);
    }

    private CompletableFuture<Void> reportLost(ConsumerRecord<byte[], byte[]> record, LeafTask task, int delivery) {
        log.info("{}: {} attempt {} is on delivery {}: an earlier one did not finish; reported lost, not run again",
                workerId, task.path(), task.attempt(), delivery);
        CompletableFuture<Void> lost = runtime.lost(task, delivery);
        if (delivery < deliveryLimit) {
            return lost;
        }
        return CompletableFuture.allOf(lost, sink.reject(rejection(record, task.runId(), "delivered " + delivery
                + " times (the limit): " + LeafRuntime.lostReason(task.attempt(), delivery))));
    }

    static LeafTask decode(byte[] value) {
        LeafTask task = WireRecords.decode(value, LeafTask.class);
        List<String> missing = new ArrayList<>();
        if (task.runId() == null || task.runId().isBlank()) {
            missing.add("run_id: required");
        }
        if (task.path() == null || task.path().isBlank()) {
            missing.add("path: required");
        }
        if (task.attempt() < 1) {
            missing.add("attempt: must be >= 1, got " + task.attempt());
        }
        if (task.grant() == null) {
            missing.add("grant: required");
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", missing));
        }
        return task;
    }

    private CompletableFuture<Void> rejectInvalid(ConsumerRecord<byte[], byte[]> record, String error) {
        Identity id = Identity.guess(record);
        log.warn("{}: task record {}-{}@{} is invalid, rejected to the DLQ: {}", workerId, record.topic(),
                record.partition(), record.offset(), error);
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        writes.add(sink.reject(rejection(record, id.runId, error)));
        if (id.complete()) {
            // The coordinator waits for this attempt: tell it that it ended.
            writes.add(sink.usage(new UsageEvent(id.runId, id.path, id.attempt, workerId, 1, 0, 0, 0, true, Status.FAILED,
                    "invalid task: " + error, null, clock.millis())).thenRun(() -> metrics.taskEnded(Status.FAILED)));
        }
        return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
    }

    private CompletableFuture<Void> rejectAndFail(ConsumerRecord<byte[], byte[]> record, LeafTask task, String rejection,
                                                  String error) {
        log.warn("{}: {} attempt {} rejected: {}", workerId, task.path(), task.attempt(), error);
        return CompletableFuture.allOf(sink.reject(rejection(record, task.runId(), rejection)),
                runtime.failPermanently(task, error));
    }

    private Rejection rejection(ConsumerRecord<byte[], byte[]> record, String runId, String error) {
        return Rejection.of(record, runId, "task", List.of(error), clock.millis());
    }

    /** What an invalid record still tells about the attempt it was meant to be. */
    private record Identity(String runId, String path, int attempt) {

        boolean complete() {
            return runId != null && path != null && attempt >= 1;
        }

        static Identity guess(ConsumerRecord<byte[], byte[]> record) {
            String keyRun = record.key() != null ? new String(record.key(), StandardCharsets.UTF_8) : null;
            if (record.value() == null) {
                return new Identity(keyRun, null, 0);
            }
            try {
                JsonNode tree = Json.tree(record.value());
                JsonNode run = tree.get("run_id");
                JsonNode path = tree.get("path");
                JsonNode attempt = tree.get("attempt");
                return new Identity(run != null && run.isTextual() ? run.asText() : keyRun,
                        path != null && path.isTextual() && !path.asText().isBlank() ? path.asText() : null,
                        attempt != null && attempt.canConvertToInt() && attempt.isIntegralNumber() ? attempt.intValue() : 0);
            } catch (WireFormatException e) {
                return new Identity(keyRun, null, 0);
            }
        }
    }
}
