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
import io.sluice.schemas.Heartbeat;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.Status;
import io.sluice.schemas.UsageEvent;
import io.sluice.schemas.WireFormatException;
import io.sluice.schemas.WireRecords;
import io.sluice.worker.LeafRuntime.Disposition;
import io.sluice.worker.execute.ExecutorRegistry;
import io.sluice.worker.execute.LeafExecutor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides what to do with one delivered task record and does it:
 * <ol>
 *   <li>not a valid task → a {@link Rejection} on the DLQ (and a final {@code failed} event when the record names
 *       its run, path and attempt); acknowledged, so it never blocks;</li>
 *   <li>delivered before ({@code deliveryCount() > 1}) → never run again: a final {@code lost} event (seq 0, no
 *       usage). The earlier delivery did not finish — its worker died, lost the lock, or released the task — and
 *       may have spent any part of the grant; running the attempt again would restart its seqs, which the
 *       coordinator deduplicates away, and could spend the grant twice. A redelivery of a record this worker is
 *       still running never gets here ({@link Deliveries} joins it to that execution). This comes before the
 *       checks below: their seq-1 final event could collide with the lost delivery's first step event. On the
 *       record's last delivery ({@code share.delivery.count.limit}) a rejection goes to the DLQ too, as the
 *       broker would archive it silently if this one failed as well;</li>
 *   <li>covered by a halt → a final event with the halt's status and "halted: ..." reason, no usage, not executed;</li>
 *   <li>deadline passed → a final {@code timed_out} event, no usage, not executed;</li>
 *   <li>unknown executor → a final {@code failed} event "unknown executor 'x'" and a rejection;</li>
 *   <li>not to be started — the worker is shutting down, or the lane has no slot for it — → a final
 *       {@code cancelled} event with the reason, no usage (the coordinator retries it as a new attempt);</li>
 *   <li>else executed by {@link LeafRuntime}.</li>
 * </ol>
 * Every path ends with the record's final event durably written and {@link Disposition#ACCEPT}, or throws.
 *
 * <p>Thread-safety: stateless apart from thread-safe collaborators. {@link #handle} runs on an executor thread,
 * {@link #decline} on the lane's.
 */
final class TaskHandler {

    private static final Logger log = LoggerFactory.getLogger(TaskHandler.class);

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
     * Handles a task the lane has a slot for: runs it unless one of the rules above ends it first.
     *
     * @throws LeafRuntime.UsageWriteException when its final event could not be written durably
     */
    Disposition handle(ConsumerRecord<byte[], byte[]> record) {
        return handle(record, null);
    }

    /**
     * Ends a task without running it, for {@code reason} (e.g. the lane has no slot for it). The rules above still
     * apply first, so that a redelivered task is reported lost and a halted one halted.
     *
     * @throws LeafRuntime.UsageWriteException when its final event could not be written durably
     */
    Disposition decline(ConsumerRecord<byte[], byte[]> record, String reason) {
        return handle(record, reason);
    }

    private Disposition handle(ConsumerRecord<byte[], byte[]> record, String notToStart) {
        LeafTask task;
        try {
            task = decode(record.value());
        } catch (IllegalArgumentException | WireFormatException e) {
            return rejectInvalid(record, e.getMessage());
        }
        int delivery = record.deliveryCount().map(Short::intValue).orElse(1);
        if (delivery > 1) {
            return reportLost(record, task, delivery);
        }
        RunningLeaves.Leaf leaf = running.add(task, new StopSignal(cancelCallbacks));
        try {
            Optional<Halt> halt = halts.covering(task.runId(), task.path(), task.attempt());
            if (halt.isPresent()) {
                metrics.dropped(WorkerMetrics.DROPPED_HALTED);
                StopSignal.Stop stop = StopSignal.Stop.halt(halt.get());
                return runtime.finish(task, stop.status(), stop.reason());
            }
            if (task.deadlineMs() != null && clock.millis() >= task.deadlineMs()) {
                metrics.dropped(WorkerMetrics.DROPPED_EXPIRED);
                return runtime.finish(task, Status.TIMED_OUT, "deadline passed before the task started");
            }
            Optional<LeafExecutor> executor = executors.find(task.executor());
            if (executor.isEmpty()) {
                // Another attempt would find the same: the leaf fails at once, not max_attempts times.
                String error = "unknown executor '" + task.executor() + "'";
                return rejectAndFail(record, task, "executor: " + error + " (known here: " + executors.names() + ")", error);
            }
            // The leaf is registered before this check, so a shutdown that begins later reaches it as a stop.
            String cancelled = notToStart != null ? notToStart : draining.getAsBoolean() ? StopSignal.SHUTTING_DOWN : null;
            if (cancelled != null) {
                log.info("{}: {} attempt {} not started: {}", workerId, task.path(), task.attempt(), cancelled);
                return runtime.finish(task, Status.CANCELLED, cancelled);
            }
            announce(task);
            return runtime.execute(task, executor.get(), leaf.signal);
        } finally {
            running.remove(leaf);
        }
    }

    /**
     * Tells the run's coordinator at once that this worker runs the attempt (a heartbeat naming it): the attempt is
     * bound to this worker and holds a lease from now, not from its first step's usage or the next periodic
     * heartbeat — so that a worker that freezes or dies right after taking a task is found out by its lease too.
     * Not waited for: the periodic heartbeats follow.
     */
    private void announce(LeafTask task) {
        sink.heartbeat(new Heartbeat(task.runId(), workerId, List.of(new Heartbeat.Attempt(task.path(), task.attempt())),
                clock.millis())).whenComplete((v, e) -> {
                    if (e != null) {
                        log.debug("{}: start of {} attempt {} not announced: {}", workerId, task.path(), task.attempt(),
                                e.toString());
                    }
                });
    }

    private Disposition reportLost(ConsumerRecord<byte[], byte[]> record, LeafTask task, int delivery) {
        log.info("{}: {} attempt {} is on delivery {}: an earlier one did not finish; reported lost, not run again",
                workerId, task.path(), task.attempt(), delivery);
        CompletableFuture<Void> dlq = null;
        if (delivery >= deliveryLimit) {
            dlq = sink.reject(rejection(record, task.runId(), "delivered " + delivery + " times (the limit): "
                    + LeafRuntime.lostReason(task.attempt(), delivery)));
        }
        Disposition d = runtime.lost(task, delivery);
        if (dlq != null) {
            await(List.of(dlq));
        }
        return d;
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

    private Disposition rejectInvalid(ConsumerRecord<byte[], byte[]> record, String error) {
        Identity id = Identity.guess(record);
        log.warn("{}: task record {}-{}@{} is invalid, rejected to the DLQ: {}", workerId, record.topic(),
                record.partition(), record.offset(), error);
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        writes.add(sink.reject(rejection(record, id.runId, error)));
        if (id.complete()) {
            // The coordinator waits for this attempt: tell it that it ended.
            writes.add(sink.usage(new UsageEvent(id.runId, id.path, id.attempt, workerId, 1, 0, 0, 0, true, Status.FAILED,
                    "invalid task: " + error, null, clock.millis())));
            metrics.taskEnded(Status.FAILED);
        }
        await(writes);
        return Disposition.ACCEPT;
    }

    private Disposition rejectAndFail(ConsumerRecord<byte[], byte[]> record, LeafTask task, String rejection, String error) {
        log.warn("{}: {} attempt {} rejected: {}", workerId, task.path(), task.attempt(), error);
        CompletableFuture<Void> dlq = sink.reject(rejection(record, task.runId(), rejection));
        Disposition d = runtime.failPermanently(task, error);
        await(List.of(dlq));
        return d;
    }

    private Rejection rejection(ConsumerRecord<byte[], byte[]> record, String runId, String error) {
        return Rejection.of(record, runId, "task", List.of(error), clock.millis());
    }

    private static void await(List<CompletableFuture<Void>> writes) {
        try {
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
        } catch (RuntimeException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new LeafRuntime.UsageWriteException("cannot write a rejection: " + Verdict.message(cause), cause);
        }
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
