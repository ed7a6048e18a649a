package io.sluice.cli.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.coordinator.Coordinator;
import io.sluice.coordinator.CoordinatorConfig;
import io.sluice.worker.Worker;
import io.sluice.worker.WorkerConfig;
import io.sluice.worker.execute.ExecutorRegistry;

/**
 * The coordinator and workers the bench runs in its own JVM, reshaped on demand so that sections with the same shape
 * share warm instances: {@link #ensureWorkers} adds or removes workers to reach a count (all of them restarted when the
 * concurrency changes) and says how many are new, so the caller can warm them up.
 *
 * <p>Everything here shares the deployment's coordinator group and the workers' share group: a section that needs
 * a coordinator or workers of its own elsewhere (another JVM) stops these first, or they would split the partitions or
 * take the tasks. Not thread-safe: the bench's main thread drives it.
 */
final class InProcessSluice implements AutoCloseable {

    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(15);

    private final String bootstrapServers;
    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final List<Worker> workers = new ArrayList<>();
    private Coordinator coordinator;
    private ExecutorRegistry executors = ExecutorRegistry.discover();
    private int concurrency;
    private int generation;

    InProcessSluice(String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
    }

    /** Starts the coordinator unless one runs (a failed one is replaced). */
    void ensureCoordinator() {
        if (coordinator != null && coordinator.state() == Coordinator.State.RUNNING) {
            return;
        }
        stopCoordinator();
        coordinator = new Coordinator(CoordinatorConfig.of(bootstrapServers, "bench-coordinator"), registry).start();
    }

    void stopCoordinator() {
        if (coordinator != null) {
            coordinator.close(CLOSE_TIMEOUT);
            coordinator = null;
        }
    }

    /**
     * Runs exactly {@code count} workers of {@code concurrencyEach} slots in this JVM.
     *
     * @return how many of them were started by this call (0 = the shape was already there)
     */
    int ensureWorkers(int count, int concurrencyEach) {
        workers.removeIf(w -> w.state() == Worker.State.FAILED || w.state() == Worker.State.CLOSED);
        if (concurrencyEach != concurrency) {
            stopWorkers();
            concurrency = concurrencyEach;
        }
        while (workers.size() > count) {
            workers.remove(workers.size() - 1).close();
        }
        int started = 0;
        while (workers.size() < count) {
            generation++;
            WorkerConfig config = WorkerConfig.of(bootstrapServers, "bench-w" + generation).withConcurrency(concurrencyEach);
            Worker worker = new Worker(config, executors, registry);
            worker.start();
            workers.add(worker);
            started++;
        }
        return started;
    }

    /** The executors workers started from now on run; running workers are stopped when they differ. */
    void useExecutors(ExecutorRegistry registry) {
        if (registry != executors) {
            stopWorkers();
            executors = registry;
        }
    }

    void stopWorkers() {
        for (Worker w : workers) {
            w.close();
        }
        workers.clear();
    }

    int workerCount() {
        return workers.size();
    }

    /** Stops everything; the next ensure call starts afresh (after a failed section, say). */
    void reset() {
        stopWorkers();
        stopCoordinator();
    }

    @Override
    public void close() {
        reset();
    }
}
