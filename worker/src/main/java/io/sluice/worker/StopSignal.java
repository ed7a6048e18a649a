package io.sluice.worker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import io.sluice.schemas.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cooperative cancellation of one leaf: set once, by the first of a halt, the deadline or the worker's
 * shutdown; later stops are ignored.
 *
 * <p>Thread-safety: all methods may be called from any thread. Callbacks (an executor's {@code onCancel}) run on the
 * signal's callback executor — in a worker, a pool of their own — so that a slow one cannot stall the thread that
 * stops the leaf (the halt watcher, which must go on to stop every other covered leaf within milliseconds).
 */
final class StopSignal {

    private static final Logger log = LoggerFactory.getLogger(StopSignal.class);

    enum Cause { HALT, DEADLINE, SHUTDOWN }

    /** The error of a final event of a leaf the worker's shutdown ended (run or not). */
    static final String SHUTTING_DOWN = "worker shutting down";

    /**
     * Why a leaf was stopped.
     *
     * @param status the final status a leaf stopped by this ends with. A shutdown ends it {@code cancelled}
     *               with its partial usage and output (its task is then acknowledged, not released: a released
     *               started task would be reported lost by the next worker and charged its whole grant)
     */
    record Stop(Cause cause, Status status, String reason) {

        static Stop deadline() {
            return new Stop(Cause.DEADLINE, Status.TIMED_OUT, "deadline passed");
        }

        static Stop shutdown() {
            return new Stop(Cause.SHUTDOWN, Status.CANCELLED, SHUTTING_DOWN);
        }

        static Stop halt(io.sluice.schemas.Halt halt) {
            Status status = halt.status() != null && halt.status().isTerminal() ? halt.status() : Status.CANCELLED;
            return new Stop(Cause.HALT, status, "halted: " + halt.reason());
        }
    }

    private final Executor callbackExecutor;
    private final AtomicReference<Stop> stop = new AtomicReference<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final List<Runnable> callbacks = new ArrayList<>();

    /** A signal whose callbacks run on the thread that stops it. */
    StopSignal() {
        this(Runnable::run);
    }

    StopSignal(Executor callbackExecutor) {
        this.callbackExecutor = callbackExecutor;
    }

    /** @return true when this call stopped the leaf (it was not stopped before) */
    boolean stop(Stop why) {
        if (!stop.compareAndSet(null, why)) {
            return false;
        }
        stopped.countDown();
        List<Runnable> toRun;
        synchronized (callbacks) {
            toRun = List.copyOf(callbacks);
            callbacks.clear();
        }
        toRun.forEach(this::runLater);
        return true;
    }

    Stop get() {
        return stop.get();
    }

    boolean isStopped() {
        return stop.get() != null;
    }

    /** @return true when stopped within {@code timeout} */
    boolean await(Duration timeout) throws InterruptedException {
        return stopped.await(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
    }

    void onStop(Runnable action) {
        synchronized (callbacks) {
            if (stop.get() == null) {
                callbacks.add(action);
                return;
            }
        }
        runLater(action);
    }

    private void runLater(Runnable action) {
        try {
            callbackExecutor.execute(() -> runQuietly(action));
        } catch (RejectedExecutionException e) {
            runQuietly(action); // the pool is shut down: the worker is closing
        }
    }

    private static void runQuietly(Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            log.warn("a cancellation callback failed", e);
        }
    }
}
