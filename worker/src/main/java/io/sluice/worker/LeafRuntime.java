package io.sluice.worker;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Status;
import io.sluice.schemas.UsageEvent;
import io.sluice.worker.execute.LeafExecutor;
import io.sluice.worker.execute.Outcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs attempts around their executors and reports them: one usage event per completed step (seq 1..n, written
 * as the steps complete) and a final one (seq n+1, no usage, the terminal status), then waits until all of them
 * are durably written. Every executed attempt ends with a final event — a halt, its deadline or the worker's
 * shutdown included — unless the events cannot be written; the coordinator then finds the attempt lost when its
 * lease lapses.
 *
 * <p>Thread-safety: thread-safe; each call runs one attempt on the calling thread.
 */
final class LeafRuntime {

    private static final Logger log = LoggerFactory.getLogger(LeafRuntime.class);

    /** A final output larger than this is replaced by a note, so that the final event can always be written. */
    static final int MAX_OUTPUT_BYTES = 1024 * 1024;

    /**
     * The seq of a {@link Status#LOST} final event: outside the 1..n of any delivery's events, so that it is never
     * deduplicated against what the lost delivery wrote.
     */
    static final long LOST_SEQ = 0;

    private final String workerId;
    private final UsageSink sink;
    private final Clock clock;
    private final WorkerMetrics metrics;
    private final ScheduledExecutorService timer;
    private final Duration writeTimeout;

    LeafRuntime(String workerId, UsageSink sink, Clock clock, WorkerMetrics metrics, ScheduledExecutorService timer,
                Duration writeTimeout) {
        this.workerId = workerId;
        this.sink = sink;
        this.clock = clock;
        this.metrics = metrics;
        this.timer = timer;
        this.writeTimeout = writeTimeout;
    }

    /**
     * Executes the attempt and reports it.
     *
     * @throws UsageWriteException when its usage could not be written durably
     */
    void execute(LeafTask task, LeafExecutor executor, StopSignal signal) {
        LeafRun run = new LeafRun(task, workerId, sink, clock, metrics, signal);
        DeadlineTimer deadlineTimer = task.deadlineMs() != null ? new DeadlineTimer(run, signal, task.deadlineMs()) : null;
        Outcome outcome = null;
        Throwable thrown = null;
        boolean interrupted = false;
        metrics.inflight().incrementAndGet();
        try {
            run.checkDeadline();
            outcome = executor.execute(run);
        } catch (InterruptedException e) {
            // Cleared so that the events below can still be written; restored before returning.
            interrupted = true;
            thrown = e;
        } catch (Exception | StackOverflowError | AssertionError | LinkageError e) {
            thrown = e;
        } finally {
            metrics.inflight().decrementAndGet();
            if (deadlineTimer != null) {
                deadlineTimer.cancel();
            }
        }
        try {
            Verdict.Final f = Verdict.decide(task.executor(), outcome, thrown, signal.get(), run.overspend(),
                    run.recordedOutput());
            List<CompletableFuture<Void>> writes = new ArrayList<>(run.writes());
            writes.add(sink.usage(new UsageEvent(task.runId(), task.path(), task.attempt(), workerId, run.seq() + 1, 0, 0, 0,
                    true, f.status(), f.error(), f.permanent() ? Boolean.FALSE : null, bounded(f.output(), task),
                    clock.millis())));
            await(writes, task);
            metrics.taskEnded(f.status());
            log.debug("{}: {} attempt {} ended {} after {} steps: {}", workerId, task.path(), task.attempt(), f.status(),
                    run.seq(), f.error());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Ends an attempt that is not executed (on its first delivery): one final event (seq 1) with no usage.
     *
     * @return completes once the event is durably written, or exceptionally with a {@link UsageWriteException}
     */
    CompletableFuture<Void> finish(LeafTask task, Status status, String reason) {
        return finalOnly(task, 1, status, reason, false);
    }

    /**
     * Ends an attempt that is not executed because no attempt of it can succeed (e.g. its executor is unknown here):
     * one final {@code failed} event marked permanent, so that the leaf is not retried.
     *
     * @return completes once the event is durably written, or exceptionally with a {@link UsageWriteException}
     */
    CompletableFuture<Void> failPermanently(LeafTask task, String reason) {
        return finalOnly(task, 1, Status.FAILED, reason, true);
    }

    /**
     * Reports an attempt lost without executing it: its earlier delivery never finished (its worker died or lost
     * the task's lock), may have spent any part of the grant, and a run under the same attempt would restart its
     * seqs (deduplicated away) and could spend the grant twice. One final {@link Status#LOST} event, seq
     * {@link #LOST_SEQ}, no usage; the coordinator charges the attempt its whole grant and may retry the leaf.
     *
     * @return completes once the event is durably written, or exceptionally with a {@link UsageWriteException}
     */
    CompletableFuture<Void> lost(LeafTask task, int delivery) {
        return finalOnly(task, LOST_SEQ, Status.LOST, lostReason(task.attempt(), delivery), false);
    }

    static String lostReason(int attempt, int delivery) {
        return "attempt " + attempt + " lost: delivery " + delivery
                + " found it unaccepted (its worker died or lost the record before accepting it)";
    }

    private CompletableFuture<Void> finalOnly(LeafTask task, long seq, Status status, String reason, boolean permanent) {
        return sink.usage(new UsageEvent(task.runId(), task.path(), task.attempt(), workerId, seq, 0, 0, 0, true,
                status, reason, permanent ? Boolean.FALSE : null, null, clock.millis())).handle((v, e) -> {
                    if (e != null) {
                        Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                                ? e.getCause() : e;
                        throw new UsageWriteException("cannot write the final event of " + task.path() + " attempt "
                                + task.attempt() + ": " + Verdict.message(cause), cause);
                    }
                    metrics.taskEnded(status);
                    log.debug("{}: {} attempt {} not executed: {} ({})", workerId, task.path(), task.attempt(), status,
                            reason);
                    return null;
                });
    }

    private JsonNode bounded(JsonNode output, LeafTask task) {
        if (output == null) {
            return null;
        }
        int size = Json.write(output).length;
        if (size <= MAX_OUTPUT_BYTES) {
            return output;
        }
        log.warn("{}: output of {} attempt {} is {} bytes; reported without it", workerId, task.path(), task.attempt(), size);
        return Json.mapper().createObjectNode().put("omitted", "output of " + size + " bytes exceeds " + MAX_OUTPUT_BYTES);
    }

    private void await(List<CompletableFuture<Void>> writes, LeafTask task) {
        try {
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(writeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UsageWriteException("interrupted while writing the usage of " + task.path(), e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new UsageWriteException("cannot write the usage of " + task.path() + " attempt " + task.attempt() + ": "
                    + Verdict.message(cause), cause);
        }
    }

    /**
     * Stops the attempt when its deadline passes, also when the timer fires before the clock says so (the timer runs
     * on {@code nanoTime}, the deadline is wall-clock milliseconds; firing a millisecond early once left an executor
     * blocked in a call uncancelled until its run's halt arrived): it then waits again for what is left.
     */
    private final class DeadlineTimer {
        private final LeafRun run;
        private final StopSignal signal;
        private final long deadlineMs;
        private ScheduledFuture<?> next;
        private boolean cancelled;

        DeadlineTimer(LeafRun run, StopSignal signal, long deadlineMs) {
            this.run = run;
            this.signal = signal;
            this.deadlineMs = deadlineMs;
            arm();
        }

        private synchronized void arm() {
            if (!cancelled) {
                next = timer.schedule(this::fire, Math.max(0, deadlineMs - clock.millis()), TimeUnit.MILLISECONDS);
            }
        }

        private void fire() {
            run.checkDeadline();
            if (!signal.isStopped()) {
                arm();
            }
        }

        synchronized void cancel() {
            cancelled = true;
            if (next != null) {
                next.cancel(false);
            }
        }
    }

    /** The usage of an attempt could not be written; its task must not be acknowledged as done. */
    static final class UsageWriteException extends RuntimeException {
        UsageWriteException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
