package io.sluice.worker;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.schemas.Halt;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.Status;
import io.sluice.schemas.UsageEvent;
import io.sluice.schemas.WireFormatException;
import io.sluice.worker.LeafRuntime.Disposition;
import io.sluice.worker.execute.ExecutorRegistry;
import io.sluice.worker.execute.LeafExecutor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides what to do with one delivered task record and does it, on an executor thread:
 * <ol>
 *   <li>not a valid task → a {@link Rejection} on the DLQ (and a final {@code failed} event when the record names
 *       its run, path and attempt); acknowledged, so it never blocks;</li>
 *   <li>covered by a halt → a final event with the halt's status and "halted: ..." reason, no usage, not executed;</li>
 *   <li>deadline passed → a final {@code timed_out} event, no usage, not executed;</li>
 *   <li>unknown executor → a final {@code failed} event "unknown executor 'x'" and a rejection;</li>
 *   <li>on its last delivery (the earlier ones died with their workers) → a final {@code failed} event and a
 *       rejection, since the broker would drop it silently after one more failure;</li>
 *   <li>else executed by {@link LeafRuntime}.</li>
 * </ol>
 *
 * <p>Thread-safety: stateless apart from thread-safe collaborators.
 */
final class TaskHandler {

    private static final Logger log = LoggerFactory.getLogger(TaskHandler.class);
    static final int MAX_PAYLOAD_CHARS = 64 * 1024;

    private final String workerId;
    private final ExecutorRegistry executors;
    private final LeafRuntime runtime;
    private final UsageSink sink;
    private final Halts halts;
    private final RunningLeaves running;
    private final WorkerMetrics metrics;
    private final Clock clock;
    private final int deliveryLimit;

    TaskHandler(String workerId, ExecutorRegistry executors, LeafRuntime runtime, UsageSink sink, Halts halts,
                RunningLeaves running, WorkerMetrics metrics, Clock clock, int deliveryLimit) {
        this.workerId = workerId;
        this.executors = executors;
        this.runtime = runtime;
        this.sink = sink;
        this.halts = halts;
        this.running = running;
        this.metrics = metrics;
        this.clock = clock;
        this.deliveryLimit = deliveryLimit;
    }

    Disposition handle(ConsumerRecord<byte[], byte[]> record) {
        LeafTask task;
        try {
            task = decode(record.value());
        } catch (IllegalArgumentException | WireFormatException e) {
            return rejectInvalid(record, e.getMessage());
        }
        RunningLeaves.Leaf leaf = running.add(task, new StopSignal());
        try {
            Optional<Halt> halt = halts.covering(task.runId(), task.path());
            if (halt.isPresent()) {
                metrics.dropped(WorkerMetrics.DROPPED_HALTED);
                StopSignal.Stop stop = StopSignal.Stop.halt(halt.get());
                return runtime.finish(task, stop.status(), stop.reason());
            }
            StopSignal.Stop stop = leaf.signal.get();
            if (stop != null && stop.cause() == StopSignal.Cause.SHUTDOWN) {
                return Disposition.RELEASE;
            }
            if (task.deadlineMs() != null && clock.millis() >= task.deadlineMs()) {
                metrics.dropped(WorkerMetrics.DROPPED_EXPIRED);
                return runtime.finish(task, Status.TIMED_OUT, "deadline passed before the task started");
            }
            Optional<LeafExecutor> executor = executors.find(task.executor());
            if (executor.isEmpty()) {
                String error = "unknown executor '" + task.executor() + "'";
                return rejectAndFail(record, task, "executor: " + error + " (known: " + executors.names() + ")", error);
            }
            Optional<Short> deliveries = record.deliveryCount();
            if (deliveries.isPresent() && deliveries.get() > 1 && deliveries.get() >= deliveryLimit) {
                String error = "delivered " + deliveries.get() + " times (the limit): the earlier deliveries did not finish";
                return rejectAndFail(record, task, error, error);
            }
            return runtime.execute(task, executor.get(), leaf.signal);
        } finally {
            running.remove(leaf);
        }
    }

    static LeafTask decode(byte[] value) {
        if (value == null) {
            throw new IllegalArgumentException("record has no value");
        }
        LeafTask task = Json.read(value, LeafTask.class);
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
        Disposition d = runtime.finish(task, Status.FAILED, error);
        await(List.of(dlq));
        return d;
    }

    private Rejection rejection(ConsumerRecord<byte[], byte[]> record, String runId, String error) {
        String payload = null;
        if (record.value() != null) {
            payload = new String(record.value(), StandardCharsets.UTF_8);
            if (payload.length() > MAX_PAYLOAD_CHARS) {
                payload = payload.substring(0, MAX_PAYLOAD_CHARS) + "…";
            }
        }
        return new Rejection(record.topic(), record.partition(), record.offset(), runId, "task", List.of(error), payload,
                clock.millis());
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
