package io.sluice.worker;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.sluice.schemas.Halt;
import io.sluice.schemas.Heartbeat;
import io.sluice.schemas.Topics;
import io.sluice.worker.execute.ExecutorRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.config.ConfigResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stateless Sluice worker: it takes leaf tasks from the share group on {@code sluice.tasks}, runs them with
 * their executors under their grants, and reports their usage to {@code sluice.usage}.
 *
 * <p>Structure: one share consumer, owned by the task feed's thread {@code sluice-worker-feed-1}, fetches by
 * credit — only for free slots of the worker's {@code concurrency} — and accepts each task at once, after announcing
 * its attempt to the run's coordinator (see {@link TaskFeed}); a pool of up to {@code concurrency} threads
 * {@code sluice-worker-exec-N} runs the leaves; a halt watcher thread {@code sluice-worker-halts-1} follows the
 * control topic and cancels covered leaves within milliseconds; a timer sends heartbeats that renew the leases of
 * the attempts this worker runs; one idempotent producer writes usage events, heartbeats and rejections. A worker
 * that dies is found out by the coordinators when those leases lapse: its attempts end lost (strict mode charges
 * each its whole grant) and are retried. A record redelivered because its worker died before accepting it is
 * reported lost, never run twice (see {@link TaskHandler}).
 *
 * <p>Lifecycle: {@link #start()} once (it returns when the halts are read and the feed runs); {@link #close()} is
 * idempotent, returns within {@link WorkerConfig#shutdownTimeout()} + {@link #CLOSE_MARGIN}, and shuts down in
 * order: stop fetching (the feed acknowledges the batch in hand, commits and closes its consumer; a task admitted
 * from now on is ended {@code cancelled} "worker shutting down" without running), let in-flight leaves finish
 * within the shutdown timeout, cancel the rest (they end {@code cancelled} "worker shutting down" with their partial
 * usage, and the coordinator retries them), flush and close the producer, close the clients, and remove the meters.
 * Only a leaf that ignores its cancellation for two more seconds has its thread interrupted; if it writes no final
 * event, its lease lapses and the coordinator ends it lost.
 *
 * <p>Supervision: a task feed that stops on its own (a Kafka error retrying cannot help, such as an authentication
 * failure, or a bug) or a halt watcher that stops following halts fails the worker: it shuts down in the same order
 * and ends {@link State#FAILED}, and {@link #terminated()} completes so that its process exits non-zero for a
 * supervisor to restart it — rather than run on taking nothing, or overspend because halts no longer reach it.
 * Executors' cancellation callbacks run on a pool of their own ({@code sluice-worker-cancel-N}), so that a slow one
 * cannot stall the halts and deadlines of the other leaves.
 *
 * <p>Thread-safety: {@link #start()}, {@link #close()} and {@link #state()} may be called from any thread.
 */
public final class Worker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Worker.class);

    /** How long {@link #start()} waits for the halts already on the control topic. */
    static final Duration CATCH_UP_TIMEOUT = Duration.ofSeconds(30);
    static final Duration HALT_POLL = Duration.ofMillis(200);
    /** Usage writes wait longer than the producer's own delivery timeout (2 min by default) before giving up. */
    static final Duration WRITE_TIMEOUT = Duration.ofMinutes(3);
    /** How long cancelled leaves have to end before their threads are interrupted. */
    static final Duration CANCEL_GRACE = Duration.ofSeconds(2);
    /** How long interrupted leaves have to end. */
    static final Duration INTERRUPT_GRACE = Duration.ofSeconds(1);
    /** {@link #close()} returns within the shutdown timeout plus this. */
    public static final Duration CLOSE_MARGIN = Duration.ofSeconds(5);

    /** Lifecycle states; CLOSED and FAILED are terminal. */
    public enum State { NEW, STARTING, RUNNING, DRAINING, CLOSED, FAILED }

    private final WorkerConfig config;
    private final ExecutorRegistry executors;
    private final MeterRegistry meterRegistry;
    private final Clock clock;
    private final KafkaClients clients;
    private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final CompletableFuture<State> terminated = new CompletableFuture<>();
    /** Set when {@link #close()} begins, before the feed stops: tasks not yet started are then not started. */
    private volatile boolean draining;
    private final Object lifecycle = new Object();
    private final Halts halts = new Halts();
    private final RunningLeaves running = new RunningLeaves();
    private Slots slots;
    private TaskFeed feed;

    private WorkerMetrics metrics;
    private KafkaUsageSink sink;
    /** The Kafka clients' own meters (request rates, errors, fetch lag of the control consumer). */
    private final List<KafkaClientMetrics> clientMeters = new CopyOnWriteArrayList<>();
    private ExecutorService pool;
    private ScheduledExecutorService timer;
    private ExecutorService cancelPool;
    private HaltWatcher watcher;
    private Thread watcherThread;

    public Worker(WorkerConfig config, ExecutorRegistry executors, MeterRegistry meterRegistry) {
        this(config, executors, meterRegistry, Clock.systemUTC(), KafkaClients.of(config));
    }

    Worker(WorkerConfig config, ExecutorRegistry executors, MeterRegistry meterRegistry, Clock clock, KafkaClients clients) {
        this.config = Objects.requireNonNull(config, "config");
        this.executors = Objects.requireNonNull(executors, "executors");
        this.meterRegistry = Objects.requireNonNull(meterRegistry, "meterRegistry");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.clients = Objects.requireNonNull(clients, "clients");
    }

    /**
     * Sets the share group's configuration, idempotently (it may run before the group exists): tasks written before
     * the first worker joined are delivered ({@code earliest}), aborted transactions never
     * ({@code read_committed}), and the record lock and delivery limit match {@code config}.
     *
     * @throws IllegalStateException when the cluster refuses (e.g. a lock outside the broker's bounds)
     */
    public static void configureShareGroup(Admin admin, WorkerConfig config, Duration timeout) throws InterruptedException {
        ConfigResource group = new ConfigResource(ConfigResource.Type.GROUP, config.groupId());
        List<AlterConfigOp> ops = List.of(
                set("share.auto.offset.reset", "earliest"),
                set("share.isolation.level", "read_committed"),
                set("share.record.lock.duration.ms", Long.toString(config.lockDuration().toMillis())),
                set("share.delivery.count.limit", Integer.toString(config.deliveryLimit())));
        try {
            admin.incrementalAlterConfigs(Map.of(group, ops)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("cannot configure share group '" + config.groupId() + "': " + cause.getMessage(), cause);
        }
    }

    private Producer<String, byte[]> metered(Producer<String, byte[]> producer) {
        KafkaClientMetrics meters = new KafkaClientMetrics(producer, Tags.of(WorkerMeters.WORKER_TAG, config.name()));
        meters.bindTo(meterRegistry);
        clientMeters.add(meters);
        return producer;
    }

    private Consumer<String, byte[]> metered(Consumer<String, byte[]> consumer) {
        KafkaClientMetrics meters = new KafkaClientMetrics(consumer, Tags.of(WorkerMeters.WORKER_TAG, config.name()));
        meters.bindTo(meterRegistry);
        clientMeters.add(meters);
        return consumer;
    }

    private static AlterConfigOp set(String name, String value) {
        return new AlterConfigOp(new ConfigEntry(name, value), AlterConfigOp.OpType.SET);
    }

    /**
     * Starts the worker: reads the halts already on the control topic, then starts taking tasks.
     *
     * @throws IllegalStateException when the worker was started before, or cannot start (it is then closed)
     */
    public void start() {
        synchronized (lifecycle) {
            if (!state.compareAndSet(State.NEW, State.STARTING)) {
                throw new IllegalStateException("worker " + config.workerId() + ": cannot start when " + state.get());
            }
            try {
                slots = new Slots(config.concurrency());
                metrics = new WorkerMetrics(meterRegistry, config.name(), this::fetching, slots::free, executors.names());
                sink = new KafkaUsageSink(metered(clients.producer(clientId("usage"))));
                UsageSink reports = metrics.counting(sink);
                // Threads are made as leaves need them, up to one per slot; idle ones end after a minute.
                ThreadPoolExecutor leafPool = new ThreadPoolExecutor(config.concurrency(), config.concurrency(), 1,
                        TimeUnit.MINUTES, new LinkedBlockingQueue<>(), threads("sluice-worker-exec-"));
                leafPool.allowCoreThreadTimeOut(true);
                pool = leafPool;
                timer = Executors.newSingleThreadScheduledExecutor(threads("sluice-worker-timer-"));
                // At most one callback per leaf is ever pending, so this pool stays within the worker's concurrency.
                cancelPool = Executors.newCachedThreadPool(threads("sluice-worker-cancel-"));
                long beat = config.heartbeatInterval().toMillis();
                timer.scheduleAtFixedRate(this::heartbeat, beat, beat, TimeUnit.MILLISECONDS);
                LeafRuntime runtime = new LeafRuntime(config.workerId(), reports, clock, metrics, timer, WRITE_TIMEOUT);
                TaskHandler handler = new TaskHandler(config.workerId(), executors, runtime, reports, halts, running, metrics,
                        clock, config.deliveryLimit(), () -> draining, cancelPool);

                // Clients are created here, so that a bad setting fails start() rather than a background thread.
                watcher = new HaltWatcher(metered(clients.controlConsumer(clientId("halts"))), halts, this::onHalt, reports, this::fail,
                        clock, HALT_POLL);
                watcherThread = threads("sluice-worker-halts-").newThread(watcher);
                watcherThread.start();
                if (!watcher.awaitCaughtUp(CATCH_UP_TIMEOUT)) {
                    Throwable cause = watcher.failure();
                    if (cause instanceof AuthorizationException) {
                        throw new IllegalStateException("worker " + config.workerId() + ": its principal may not read "
                                + Topics.CONTROL + " (" + cause.getMessage() + "); grant the worker role's ACLs: sluice acls "
                                + "--worker User:NAME", cause);
                    }
                    throw new IllegalStateException("worker " + config.workerId() + ": cannot read the control topic "
                            + (cause != null ? ": " + cause.getMessage() : "within " + CATCH_UP_TIMEOUT), cause);
                }

                int batch = TaskFeed.batchFor(config.concurrency());
                feed = new TaskFeed(config.workerId(), clients.taskConsumer(clientId("tasks"), batch), handler, slots, pool,
                        reports, clock, config.pollTimeout(), config.lockDuration(), WRITE_TIMEOUT, batch, this::fail);
                threads("sluice-worker-feed-").newThread(feed).start();
                if (!state.compareAndSet(State.STARTING, State.RUNNING)) {
                    throw new IllegalStateException("worker " + config.workerId() + " failed while starting",
                            failure.get());
                }
                log.info("worker {} started: {} slots, fetching up to {} tasks at a time, on group {}, executors {}",
                        config.workerId(), config.concurrency(), batch, config.groupId(), executors.names());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("worker " + config.workerId() + ": interrupted while starting", e);
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }
    }

    /**
     * The task feed or the halt watcher stopped on its own: the worker shuts down (on a thread of its own, since the caller
     * is one of the threads the shutdown waits for) and ends FAILED.
     */
    private void fail(Throwable cause) {
        if (!failure.compareAndSet(null, cause)) {
            return;
        }
        log.error("worker {} fails: {}; shutting down so that its process exits non-zero", config.workerId(), cause.toString());
        Thread closer = new Thread(this::close, "sluice-worker-fail-" + config.workerId());
        closer.setDaemon(true);
        closer.start();
    }

    /**
     * Tells each run's coordinator which of its attempts this worker runs, renewing their leases there, and sends a
     * beacon to every partition where it runs nothing: coordinators let leases lapse only while workers can be heard.
     * A heartbeat that cannot be written is only logged: the next one follows, and the lease outlasts a few.
     */
    private void heartbeat() {
        try {
            long now = clock.millis();
            int partitions = sink.heartbeatPartitions();
            boolean[] covered = new boolean[partitions];
            running.attemptsByRun().forEach((runId, attempts) -> {
                covered[Topics.partitionFor(runId, partitions)] = true;
                logFailure(sink.heartbeat(new Heartbeat(runId, config.workerId(), attempts, now)), runId);
            });
            for (int p = 0; p < partitions; p++) {
                if (!covered[p]) {
                    logFailure(sink.beacon(Heartbeat.beacon(config.workerId(), now), p), "partition " + p);
                }
            }
        } catch (RuntimeException e) {
            log.warn("worker {}: heartbeat failed: {}", config.workerId(), e.toString());
        }
    }

    private void logFailure(CompletableFuture<Void> write, String what) {
        write.whenComplete((v, e) -> {
            if (e != null) {
                log.debug("worker {}: heartbeat for {} not written: {}", config.workerId(), what, e.toString());
            }
        });
    }

    /** 1 while the task feed runs. */
    private int fetching() {
        return feed != null && !feed.hasExited() ? 1 : 0;
    }

    private void onHalt(Halt halt) {
        int stopped = running.stopCovered(halt);
        if (stopped > 0) {
            log.info("worker {}: halt of {} {} cancelled {} running leaves", config.workerId(), halt.runId(), halt.path(), stopped);
        }
    }

    /**
     * Shuts down in order (see the class comment); idempotent, and returns within
     * {@link WorkerConfig#shutdownTimeout()} + {@link #CLOSE_MARGIN}. Leaves still running after the shutdown
     * timeout are cancelled and end {@code cancelled} "worker shutting down" with their partial usage; their tasks
     * are accepted, so that the coordinator retries them as new attempts.
     */
    @Override
    public void close() {
        synchronized (lifecycle) {
            State was = state.get();
            if (was == State.DRAINING || was == State.CLOSED || was == State.FAILED) {
                return;
            }
            draining = true;
            state.set(State.DRAINING);
            try {
                if (was != State.NEW) {
                    shutDown();
                }
            } finally {
                if (metrics != null) {
                    metrics.close();
                }
                clientMeters.forEach(KafkaClientMetrics::close);
                clientMeters.clear();
                State end = failure.get() != null ? State.FAILED : State.CLOSED;
                state.set(end);
                terminated.complete(end);
                log.info("worker {} {}", config.workerId(), end == State.FAILED ? "failed and shut down" : "closed");
            }
        }
    }

    private void shutDown() {
        long began = System.nanoTime();
        long drained = began + config.shutdownTimeout().toNanos();
        long end = drained + CLOSE_MARGIN.toNanos();
        boolean interrupted = false;
        try {
            // 1. Stop fetching: the feed acknowledges the batch in hand and closes its consumer, which holds nothing.
            if (feed != null) {
                feed.stopFetching();
                if (!feed.awaitExit(remaining(drained).toNanos())) {
                    log.warn("worker {}: task feed did not stop within the shutdown timeout", config.workerId());
                }
            }
            // 2. Let in-flight leaves finish, within the bound.
            if (slots != null && !slots.awaitIdle(remaining(drained).toNanos())) {
                // 3. Cancel the rest: they end "cancelled" with their partial usage, and the coordinator retries them.
                log.info("worker {}: cancelling {} leaves still running after {}", config.workerId(), running.size(),
                        config.shutdownTimeout());
                running.stopAll(StopSignal.Stop.shutdown());
                if (!slots.awaitIdle(CANCEL_GRACE.toNanos())) {
                    log.warn("worker {}: {} leaves ignore cancellation; interrupting them (without a final event their "
                            + "leases lapse and their coordinators end them lost)", config.workerId(), slots.used());
                    pool.shutdownNow();
                    slots.awaitIdle(INTERRUPT_GRACE.toNanos());
                }
            }
        } catch (InterruptedException e) {
            interrupted = true;
            if (pool != null) {
                pool.shutdownNow();
            }
        } finally {
            // 4. Flush and close the producer, within the bound: every ended leaf's usage is already written.
            if (sink != null) {
                try {
                    sink.close(remaining(end));
                } catch (RuntimeException e) {
                    log.warn("worker {}: usage producer did not close cleanly: {}", config.workerId(), e.getMessage());
                }
            }
            // 5. Close the remaining clients and threads.
            if (watcher != null) {
                watcher.close();
                try {
                    if (!watcher.awaitExit(remaining(end))) {
                        log.warn("worker {}: halt watcher did not stop in time", config.workerId());
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (pool != null) {
                pool.shutdownNow();
            }
            if (timer != null) {
                timer.shutdownNow();
            }
            if (cancelPool != null) {
                cancelPool.shutdown();
            }
            log.info("worker {}: shut down in {} ms", config.workerId(), (System.nanoTime() - began) / 1_000_000);
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Duration remaining(long deadlineNanos) {
        return Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime()));
    }

    public State state() {
        return state.get();
    }

    /**
     * Completes once the worker has shut down: after {@link #close()} with {@link State#CLOSED}, or on its own with
     * {@link State#FAILED} (see {@link #failure()}); a process should then exit, non-zero when it failed.
     */
    public CompletableFuture<State> terminated() {
        return terminated;
    }

    /** Why the worker failed, if it did. */
    public Throwable failure() {
        return failure.get();
    }

    public WorkerConfig config() {
        return config;
    }

    /** Tasks this worker accepted and started (for tests and diagnostics). */
    long accepted() {
        return feed == null ? 0 : feed.accepted();
    }

    /** True when this worker has read a halt of the run (for tests). */
    boolean knowsHaltOf(String runId) {
        return halts.hasRun(runId);
    }

    /** Leaves taken and not yet finished. */
    int inFlight() {
        return running.size();
    }

    private String clientId(String role) {
        return "sluice-worker-" + config.workerId() + "-" + role;
    }

    private ThreadFactory threads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            t.setUncaughtExceptionHandler((thread, e) ->
                    log.error("worker {}: thread {} died", config.workerId(), thread.getName(), e));
            return t;
        };
    }
}
