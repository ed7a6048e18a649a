package io.sluice.worker;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import io.sluice.schemas.Topics;
import io.sluice.worker.LeafRuntime.Disposition;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.ShareConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One slot of the worker: a share consumer that holds at most one task at a time, owned by one thread.
 *
 * <p>Why a consumer per slot rather than one consumer for all slots: in explicit acknowledgement mode every record
 * a poll returned must be acknowledged before the next poll, and the only acknowledgement that keeps a running
 * task is {@code RENEW}; but with Kafka 4.3.1 a consumer that has a renewal in flight or a renewed record to
 * return fetches nothing new (measured: one task renewed on every poll starved nine waiting tasks on one partition
 * and 29 on three, for as long as it ran). One consumer per slot sidesteps this: a busy lane does not poll
 * for work, so its renewals stall nobody; idle lanes keep fetching.
 *
 * <p>The loop: when idle, poll (at most one record: {@code record_limit}, {@code max.poll.records=1}) and hand the
 * task to the executor pool. While it runs, wait for it; every half lock duration acknowledge it with
 * {@code RENEW} and poll until the broker returns it (a renewed record comes back from a later poll, recognised by
 * topic, partition and offset; it is not started again). When it is done — its final usage event durably
 * written — acknowledge {@code ACCEPT}; the next poll commits that. {@code RELEASE} only when no final event could
 * be written or the lane is interrupted: the next delivery then reports the attempt lost. If the worker dies,
 * every unacknowledged task returns to the group when the lock expires or the session ends.
 *
 * <p>A record the lane has no slot for (a surplus record of a poll, or one that arrives while it renews) is not
 * released — its next delivery would be reported lost and charged its whole grant — but ended at once on the
 * lane's thread without running ({@link TaskRunner#decline}: a final {@code cancelled} event, or {@code lost} for
 * a redelivery) and accepted. Only a record that this worker is running on another lane is released to it.
 *
 * <p>Stopping: {@link #stopFetching()} ends the loop once the lane is idle; a running task is finished and
 * acknowledged first (the worker cancels it when its shutdown timeout passes, so it ends {@code cancelled} and is
 * accepted, too). A record a poll returns as the lane is stopped is handled like any other; the worker's
 * {@link TaskHandler} then cancels it without running it.
 *
 * <p>Thread-safety: {@link #run()} is the only thread touching the consumer; {@link #stopFetching()} may be
 * called from any thread (it sets a flag and wakes the consumer up).
 */
final class Lane implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(Lane.class);
    /** A poll that waits for a renewed record: it comes back from the second poll after the RENEW. */
    private static final Duration RENEW_POLL = Duration.ofMillis(50);
    /** For the final commit and for the close, each: together within the worker's close margin. */
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);
    private static final long MIN_BACKOFF_MS = 100;
    private static final long MAX_BACKOFF_MS = 5_000;

    private final int number;
    private final String workerId;
    private final ShareConsumer<byte[], byte[]> consumer;
    private final Deliveries deliveries;
    private final TaskRunner runner;
    private final Duration pollTimeout;
    private final Duration configuredLock;
    private final java.util.function.Consumer<Throwable> onDeath;
    private final CountDownLatch exited = new CountDownLatch(1);
    private final AtomicLong renewals = new AtomicLong();

    private volatile boolean fetching = true;
    private volatile boolean busy;

    // Touched by the lane thread only (the acknowledgement callback runs inside its poll).
    private Deliveries.Coord renewing;
    private boolean renewalFailed;

    /** What a lane does with the task records it takes. */
    interface TaskRunner {

        /**
         * Handles a task the lane has a slot for, off the lane's thread; the future completes once the record may
         * be acknowledged.
         */
        CompletableFuture<Disposition> start(ConsumerRecord<byte[], byte[]> record);

        /**
         * Ends a task without running it, on the calling (lane) thread, with a final event for {@code reason};
         * returns once that is durably written.
         *
         * @throws RuntimeException when it could not be written
         */
        Disposition decline(ConsumerRecord<byte[], byte[]> record, String reason);
    }

    /** Why a record a lane has no slot for ends without running. */
    static final String NO_SLOT = "not started: the worker had no free slot for it";

    /**
     * @param consumer a share consumer not yet subscribed; from now on only the lane's thread touches it
     * @param onDeath  told when the lane stops on its own (a Kafka error that cannot pass, a bug): the worker must not
     *                 run on with a slot that silently takes nothing
     */
    Lane(int number, String workerId, ShareConsumer<byte[], byte[]> consumer, Deliveries deliveries, TaskRunner runner,
         Duration pollTimeout, Duration configuredLock, java.util.function.Consumer<Throwable> onDeath) {
        this.number = number;
        this.workerId = workerId;
        this.consumer = consumer;
        this.deliveries = deliveries;
        this.runner = runner;
        this.pollTimeout = pollTimeout;
        this.configuredLock = configuredLock;
        this.onDeath = onDeath;
    }

    Lane(int number, String workerId, ShareConsumer<byte[], byte[]> consumer, Deliveries deliveries, TaskRunner runner,
         Duration pollTimeout, Duration configuredLock) {
        this(number, workerId, consumer, deliveries, runner, pollTimeout, configuredLock, e -> { });
    }

    @Override
    public void run() {
        ShareConsumer<byte[], byte[]> c = consumer;
        try {
            c.setAcknowledgementCommitCallback(this::onAcknowledged);
            c.subscribe(List.of(Topics.TASKS));
            long backoffMs = MIN_BACKOFF_MS;
            while (fetching) {
                ConsumerRecords<byte[], byte[]> records;
                try {
                    records = c.poll(pollTimeout);
                    backoffMs = MIN_BACKOFF_MS;
                } catch (WakeupException e) {
                    continue;
                } catch (KafkaException e) {
                    if (!isRetriable(e)) {
                        throw e; // authentication, authorization, a bad setting: retrying cannot help
                    }
                    log.warn("{} lane {}: poll failed, retrying in {} ms: {}", workerId, number, backoffMs, e.getMessage());
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(backoffMs));
                    backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
                    continue;
                }
                ConsumerRecord<byte[], byte[]> task = null;
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    if (task == null) {
                        task = record;
                    } else {
                        // Never hold a task without a slot for it.
                        log.warn("{} lane {}: poll returned more than one record; {} is not started", workerId, number,
                                Deliveries.Coord.of(record));
                        settleUnstarted(c, record);
                    }
                }
                if (task != null) {
                    busy = true;
                    try {
                        process(c, task);
                    } finally {
                        busy = false;
                    }
                }
            }
            commitQuietly(c);
        } catch (InterruptException e) {
            log.info("{} lane {}: interrupted; unacknowledged tasks are released", workerId, number);
        } catch (RuntimeException | Error e) {
            log.error("{} lane {} stopped: {}", workerId, number, e.toString(), e);
            onDeath.accept(e);
        } finally {
            closeQuietly(c);
            exited.countDown();
        }
    }

    private void process(ShareConsumer<byte[], byte[]> c, ConsumerRecord<byte[], byte[]> record) {
        Deliveries.Coord coord = Deliveries.Coord.of(record);
        CompletableFuture<Disposition> execution = deliveries.start(coord, () -> runner.start(record));
        ConsumerRecord<byte[], byte[]> held = record;
        long renewDue = System.nanoTime() + halfLockNanos(c);
        long renewSent = 0;
        while (true) {
            if (held != null) {
                Disposition disposition;
                try {
                    disposition = execution.get(Math.max(0, renewDue - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    try {
                        c.acknowledge(held, AcknowledgeType.RENEW);
                    } catch (IllegalStateException notAcquired) {
                        // The delivery ended under us (e.g. the partition's leader changed).
                        log.warn("{} lane {}: cannot renew task {}: {}; a worker it is delivered to next reports it lost",
                                workerId, number, coord, notAcquired.getMessage());
                        awaitQuietly(execution);
                        return;
                    }
                    renewals.incrementAndGet();
                    held = null;
                    renewing = coord;
                    renewalFailed = false;
                    renewSent = System.nanoTime();
                    continue;
                } catch (ExecutionException e) {
                    log.error("{} lane {}: task {} failed in the worker; released (its next delivery reports it lost)",
                            workerId, number, coord, e.getCause());
                    disposition = Disposition.RELEASE;
                } catch (InterruptedException e) {
                    // The worker gave up on a leaf that ignores cancellation: it may still spend, so the next
                    // delivery must report it lost.
                    Thread.currentThread().interrupt();
                    fetching = false;
                    acknowledge(c, held, Disposition.RELEASE);
                    return;
                }
                acknowledge(c, held, disposition);
                return;
            }
            // The renewal is on the wire; the record comes back from a later poll, which fetches nothing new.
            ConsumerRecords<byte[], byte[]> records;
            try {
                records = c.poll(RENEW_POLL);
            } catch (WakeupException e) {
                continue;
            } catch (KafkaException e) {
                if (!isRetriable(e)) {
                    throw e;
                }
                log.warn("{} lane {}: poll failed while renewing {}, retrying: {}", workerId, number, coord, e.getMessage());
                records = ConsumerRecords.empty();
            }
            for (ConsumerRecord<byte[], byte[]> r : records) {
                if (Deliveries.Coord.of(r).equals(coord)) {
                    held = r;
                } else {
                    log.warn("{} lane {}: unexpected record {} while renewing {}; it is not started", workerId, number,
                            Deliveries.Coord.of(r), coord);
                    settleUnstarted(c, r);
                }
            }
            if (held != null) {
                renewing = null;
                renewDue = System.nanoTime() + halfLockNanos(c);
            } else if (renewalFailed || System.nanoTime() - renewSent > halfLockNanos(c)) {
                renewing = null;
                log.warn("{} lane {}: lost the lock of task {} (renewal {}); a worker it is delivered to next reports it "
                        + "lost", workerId, number, coord, renewalFailed ? "refused" : "not returned");
                awaitQuietly(execution);
                return;
            }
        }
    }

    /**
     * Ends a record this lane has no slot for and acknowledges it: a final event via {@link TaskRunner#decline}
     * and {@code ACCEPT}; or, when this worker runs it on another lane, {@code RELEASE} (that execution reports
     * it); or {@code ACCEPT} when it was finished here.
     */
    private void settleUnstarted(ShareConsumer<byte[], byte[]> c, ConsumerRecord<byte[], byte[]> record) {
        Disposition d = switch (deliveries.known(Deliveries.Coord.of(record))) {
            case ACCEPTED -> Disposition.ACCEPT;
            case RUNNING -> Disposition.RELEASE;
            case NOTHING -> {
                try {
                    yield runner.decline(record, NO_SLOT);
                } catch (RuntimeException e) {
                    log.error("{} lane {}: cannot end unstarted task {}; released: {}", workerId, number,
                            Deliveries.Coord.of(record), e.toString());
                    yield Disposition.RELEASE;
                }
            }
        };
        acknowledge(c, record, d);
    }

    private long halfLockNanos(ShareConsumer<byte[], byte[]> c) {
        long lockMs = c.acquisitionLockTimeoutMs().map(Integer::longValue).orElse(configuredLock.toMillis());
        return TimeUnit.MILLISECONDS.toNanos(Math.max(1, lockMs / 2));
    }

    private void acknowledge(ShareConsumer<byte[], byte[]> c, ConsumerRecord<byte[], byte[]> record, Disposition d) {
        try {
            c.acknowledge(record, d == Disposition.ACCEPT ? AcknowledgeType.ACCEPT : AcknowledgeType.RELEASE);
        } catch (IllegalStateException e) {
            log.warn("{} lane {}: cannot acknowledge {} ({}): {}", workerId, number, Deliveries.Coord.of(record), d,
                    e.getMessage());
        }
    }

    private void onAcknowledged(Map<TopicIdPartition, Set<Long>> offsets, Exception error) {
        if (error == null) {
            return;
        }
        Deliveries.Coord r = renewing;
        if (r != null) {
            for (Map.Entry<TopicIdPartition, Set<Long>> e : offsets.entrySet()) {
                if (e.getKey().topic().equals(r.topic()) && e.getKey().partition() == r.partition()
                        && e.getValue().contains(r.offset())) {
                    renewalFailed = true;
                }
            }
        }
        log.warn("{} lane {}: acknowledgement of {} failed: {}", workerId, number, offsets, error.getMessage());
    }

    private void awaitQuietly(CompletableFuture<Disposition> execution) {
        try {
            execution.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fetching = false;
        } catch (ExecutionException e) {
            log.warn("{} lane {}: task failed in the worker: {}", workerId, number, e.getCause().toString());
        }
    }

    private void commitQuietly(ShareConsumer<byte[], byte[]> c) {
        try {
            try {
                c.commitSync(CLOSE_TIMEOUT);
            } catch (WakeupException e) {
                // The wakeup of stopFetching() may still be pending: it is spent now.
                c.commitSync(CLOSE_TIMEOUT);
            }
        } catch (KafkaException e) {
            log.warn("{} lane {}: final acknowledgements not committed: {}", workerId, number, e.getMessage());
        }
    }

    private void closeQuietly(ShareConsumer<byte[], byte[]> c) {
        // An interrupted thread cannot close cleanly; close commits pending acknowledgements and releases the rest.
        boolean interrupted = Thread.interrupted();
        try {
            c.close(CLOSE_TIMEOUT);
        } catch (KafkaException e) {
            log.warn("{} lane {}: consumer did not close cleanly: {}", workerId, number, e.getMessage());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static boolean isRetriable(KafkaException e) {
        return e instanceof RetriableException;
    }

    /** Stops taking tasks; a running one is still finished and acknowledged. */
    void stopFetching() {
        fetching = false;
        consumer.wakeup();
    }

    boolean awaitExit(long timeoutNanos) throws InterruptedException {
        return exited.await(Math.max(0, timeoutNanos), TimeUnit.NANOSECONDS);
    }

    /** True while the lane holds a task (it runs, or the lane waits for it). */
    boolean isBusy() {
        return busy;
    }

    boolean hasExited() {
        return exited.getCount() == 0;
    }

    /** Lock renewals this lane has sent. */
    long renewals() {
        return renewals.get();
    }
}
