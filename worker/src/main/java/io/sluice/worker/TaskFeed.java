package io.sluice.worker;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import io.sluice.schemas.Heartbeat;
import io.sluice.schemas.Topics;
import io.sluice.worker.TaskHandler.Admission;
import io.sluice.worker.TaskHandler.Settled;
import io.sluice.worker.TaskHandler.Start;
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
 * The worker's one share consumer of {@code sluice.tasks}, owned by one thread, fetching by credit.
 *
 * <p>The loop: wait until at least {@link #batch} slots are free (the consumer acquires at most that many records
 * per poll: {@code share.acquire.mode=record_limit}, {@code max.poll.records} = batch), poll, and take what came:
 * <ol>
 *   <li>admit every record ({@link TaskHandler#admit}): records that end without running (invalid, redelivered,
 *       halted, expired, ...) get their final events; records to run take a slot each;</li>
 *   <li>announce the attempts to run — one heartbeat per run naming all of them — so that each is bound to this
 *       worker and holds a lease at its coordinator from now on;</li>
 *   <li>once those writes are durable, acknowledge the whole batch: {@code ACCEPT}, or {@code RELEASE} for a record
 *       whose writes failed (its next delivery reports it lost) — and commit the acknowledgements;</li>
 *   <li>only then hand the accepted attempts to the executor pool; each gives its slot back when it ends.</li>
 * </ol>
 * A task is thus owned from the moment it is accepted, not by holding its record lock: no {@code RENEW}, and a
 * consumer never holds a record while its task runs (with Kafka 4.3 a consumer with a renewal in flight fetches
 * nothing new, which once forced one consumer per slot). A worker that dies after the acceptance is found out by
 * its coordinator when the attempts' leases lapse (heartbeats stop); one that dies between delivery and
 * acceptance leaves records that return to the group, and their next delivery is reported lost, never run twice.
 * An attempt whose acceptance was refused, or whose commit failed with an unknown outcome (the broker died while
 * answering it), is not run: its record returns to the group (a broker restart may deliver it again as a first
 * delivery, and the worker it goes to runs it: the coordinator binds an attempt to its latest announcer until its
 * first event), unless the acceptance had landed after all; then nobody runs it, its lease lapses and strict mode
 * charges its grant — the one case where a failure that kills no worker is charged, bounded by one batch per worker
 * per broker failure.
 *
 * <p>While every slot is busy the consumer is not polled (its {@code max.poll.interval.ms} is unbounded; it holds
 * no record then). A fetch that completed after the last poll returned empty may still be buffered in the client:
 * when the feed has not polled for half a lock duration, it first drains such records with a zero-time poll and
 * ends them {@code cancelled} without running ({@link #HELD_TOO_LONG}), since their lock may have expired and the
 * broker may have delivered them to another worker.
 *
 * <p>Stopping: {@link #stopFetching()} ends the loop after the batch in hand; the consumer commits and closes at
 * once, since it holds nothing (the leaves it started run on and are the worker's to finish or cancel).
 *
 * <p>Thread-safety: {@link #run()} is the only thread touching the consumer; {@link #stopFetching()} may be
 * called from any thread.
 */
final class TaskFeed implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(TaskFeed.class);

    /** Why a record that sat in the client's buffer too long is ended without running. */
    static final String HELD_TOO_LONG = "not started: the worker held the delivered record for longer than half its lock";
    /** Why a record the worker has no slot for is ended without running (never, unless the broker sends too many). */
    static final String NO_SLOT = "not started: the worker had no free slot for it";
    /** For a batch's commit, and for the final commit and the close, each. */
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(5);
    /** How long the feed waits for free slots before it looks again whether it is to stop. */
    private static final long SLOT_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long MIN_BACKOFF_MS = 100;
    private static final long MAX_BACKOFF_MS = 5_000;
    /** Records one poll takes at most. */
    static final int MAX_BATCH = 500;

    private final String workerId;
    private final ShareConsumer<byte[], byte[]> consumer;
    private final TaskHandler handler;
    private final Slots slots;
    private final Executor leaves;
    private final UsageSink sink;
    private final Clock clock;
    private final Duration pollTimeout;
    private final long staleNanos;
    private final Duration writeTimeout;
    private final int batch;
    private final Consumer<Throwable> onDeath;
    private final CountDownLatch exited = new CountDownLatch(1);
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong notStarted = new AtomicLong();

    private volatile boolean fetching = true;
    /** When the last poll began (feed thread only); 0 before the first. */
    private long lastPollNanos;

    /**
     * @param consumer a share consumer not yet subscribed, created with {@code max.poll.records} = {@code batch};
     *                 from now on only the feed's thread touches it
     * @param leaves   where accepted attempts run; each holds a slot until it ends
     * @param lock     the share group's record lock
     * @param onDeath  told when the feed stops on its own (a Kafka error that retrying cannot pass, a bug): the worker
     *                 must not run on taking nothing
     */
    TaskFeed(String workerId, ShareConsumer<byte[], byte[]> consumer, TaskHandler handler, Slots slots, Executor leaves,
             UsageSink sink, Clock clock, Duration pollTimeout, Duration lock, Duration writeTimeout, int batch,
             Consumer<Throwable> onDeath) {
        if (batch < 1 || batch > slots.capacity()) {
            throw new IllegalArgumentException("batch: must be 1.." + slots.capacity() + ", got " + batch);
        }
        this.workerId = workerId;
        this.consumer = consumer;
        this.handler = handler;
        this.slots = slots;
        this.leaves = leaves;
        this.sink = sink;
        this.clock = clock;
        this.pollTimeout = pollTimeout;
        this.staleNanos = lock.toNanos() / 2;
        this.writeTimeout = writeTimeout;
        this.batch = batch;
        this.onDeath = onDeath;
    }

    /** The records one poll takes at most for a worker of this concurrency: a quarter of it, within 1..500. */
    static int batchFor(int concurrency) {
        return Math.max(1, Math.min(MAX_BATCH, concurrency / 4));
    }

    @Override
    public void run() {
        ShareConsumer<byte[], byte[]> c = consumer;
        try {
            c.subscribe(List.of(Topics.TASKS));
            long backoffMs = MIN_BACKOFF_MS;
            while (fetching) {
                if (slots.awaitFree(batch, SLOT_WAIT_NANOS) < batch || !fetching) {
                    continue;
                }
                try {
                    if (lastPollNanos != 0 && System.nanoTime() - lastPollNanos > staleNanos) {
                        take(c, c.poll(Duration.ZERO), HELD_TOO_LONG);
                    }
                    lastPollNanos = System.nanoTime();
                    take(c, c.poll(pollTimeout), null);
                    backoffMs = MIN_BACKOFF_MS;
                } catch (WakeupException e) {
                    // stopFetching(): the loop condition says so
                } catch (KafkaException e) {
                    if (e instanceof InterruptException || !(e instanceof RetriableException)) {
                        throw e; // authentication, authorization, a bad setting: retrying cannot help
                    }
                    log.warn("{}: poll failed, retrying in {} ms: {}", workerId, backoffMs, e.getMessage());
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(backoffMs));
                    backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
                }
            }
            commit(c); // what the last batch acknowledged; a failure is logged there
        } catch (InterruptedException | InterruptException e) {
            log.info("{}: task feed interrupted; unacknowledged records are released", workerId);
        } catch (RuntimeException | Error e) {
            log.error("{}: task feed stopped: {}", workerId, e.toString(), e);
            onDeath.accept(e);
        } finally {
            closeQuietly(c);
            exited.countDown();
        }
    }

    /** Admits, announces, acknowledges and starts what one poll returned (see the class comment). */
    private void take(ShareConsumer<byte[], byte[]> c, ConsumerRecords<byte[], byte[]> records, String notToStart) {
        if (records.isEmpty()) {
            return;
        }
        List<Taken> taken = new ArrayList<>(records.count());
        Map<String, List<Start>> byRun = new LinkedHashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            boolean slot = notToStart == null && slots.tryTake();
            Admission admission;
            try {
                admission = handler.admit(record, notToStart != null ? notToStart : slot ? null : NO_SLOT);
            } catch (RuntimeException e) {
                log.error("{}: cannot handle task record {}; released: {}", workerId, coord(record), e.toString(), e);
                admission = new Settled(CompletableFuture.failedFuture(e));
            }
            if (admission instanceof Start start) {
                byRun.computeIfAbsent(start.task().runId(), r -> new ArrayList<>()).add(start);
            } else {
                if (slot) {
                    slots.release();
                }
                if (notToStart != null) {
                    notStarted.incrementAndGet();
                }
            }
            taken.add(new Taken(record, admission));
        }
        Map<String, CompletableFuture<Void>> announced = announce(byRun);
        long deadline = System.nanoTime() + writeTimeout.toNanos();
        for (Taken t : taken) {
            CompletableFuture<Void> written = t.admission instanceof Start s ? announced.get(s.task().runId())
                    : ((Settled) t.admission).written();
            t.durable = awaitQuietly(written, deadline, t.record);
            acknowledge(c, t.record, t.durable ? AcknowledgeType.ACCEPT : AcknowledgeType.RELEASE);
        }
        Map<TopicIdPartition, Optional<KafkaException>> committed = commit(c);
        for (Taken t : taken) {
            if (!(t.admission instanceof Start start)) {
                continue;
            }
            Optional<KafkaException> refused = refusal(committed, t.record);
            if (!t.durable || refused.isPresent()) {
                handler.abandon(start, !t.durable ? "its start could not be announced; released"
                        : "its acceptance was refused (" + refused.get().getMessage() + "); if the broker took it after all "
                        + "(an acknowledgement in flight when the broker failed), its lease lapses and it is charged lost");
                slots.release();
                continue;
            }
            accepted.incrementAndGet();
            try {
                leaves.execute(() -> execute(start));
            } catch (RejectedExecutionException e) {
                handler.abandon(start, "the worker is shutting down; its lease lapses and the coordinator ends it lost");
                slots.release();
            }
        }
    }

    private void execute(Start start) {
        try {
            handler.execute(start);
        } catch (LeafRuntime.UsageWriteException e) {
            log.error("{}: {} attempt {}: {}; its coordinator ends it lost when its lease lapses", workerId,
                    start.task().path(), start.task().attempt(), e.getMessage());
        } catch (RuntimeException | Error e) {
            log.error("{}: {} attempt {} failed in the worker: {}", workerId, start.task().path(), start.task().attempt(),
                    e.toString(), e);
        } finally {
            slots.release();
        }
    }

    /** One heartbeat per run naming its attempts of the batch; the future of each run. */
    private Map<String, CompletableFuture<Void>> announce(Map<String, List<Start>> byRun) {
        Map<String, CompletableFuture<Void>> writes = new LinkedHashMap<>();
        long now = clock.millis();
        byRun.forEach((runId, starts) -> {
            List<Heartbeat.Attempt> attempts = new ArrayList<>(starts.size());
            for (Start s : starts) {
                attempts.add(new Heartbeat.Attempt(s.task().path(), s.task().attempt()));
            }
            CompletableFuture<Void> write;
            try {
                write = sink.heartbeat(new Heartbeat(runId, workerId, attempts, now));
            } catch (RuntimeException e) {
                write = CompletableFuture.failedFuture(e);
            }
            writes.put(runId, write);
        });
        return writes;
    }

    private boolean awaitQuietly(CompletableFuture<Void> write, long deadlineNanos, ConsumerRecord<byte[], byte[]> record) {
        try {
            write.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptException(e);
        } catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            log.error("{}: writes for task record {} failed; released (its next delivery reports it lost): {}", workerId,
                    coord(record), Verdict.message(cause));
            return false;
        }
    }

    private void acknowledge(ShareConsumer<byte[], byte[]> c, ConsumerRecord<byte[], byte[]> record, AcknowledgeType type) {
        try {
            c.acknowledge(record, type);
        } catch (IllegalStateException e) {
            log.warn("{}: cannot acknowledge {} ({}): {}", workerId, coord(record), type, e.getMessage());
        }
    }

    /**
     * Commits the batch's acknowledgements. When the commit itself fails the outcome is unknown: every record is
     * then treated as refused (not run; its lease lapses if the acceptance did land), never run without certainty.
     */
    private Map<TopicIdPartition, Optional<KafkaException>> commit(ShareConsumer<byte[], byte[]> c) {
        try {
            try {
                return c.commitSync(COMMIT_TIMEOUT);
            } catch (WakeupException e) {
                return c.commitSync(COMMIT_TIMEOUT); // the wakeup of stopFetching() is spent now
            }
        } catch (KafkaException e) {
            if (e instanceof InterruptException) {
                throw e;
            }
            log.warn("{}: acknowledgements not committed: {}", workerId, e.getMessage());
            return null;
        }
    }

    /** Why the acceptance of {@code record} was refused, if it was; a failed commit refuses every record. */
    private static Optional<KafkaException> refusal(Map<TopicIdPartition, Optional<KafkaException>> committed,
                                                    ConsumerRecord<byte[], byte[]> record) {
        if (committed == null) {
            return Optional.of(new KafkaException("the commit of the acknowledgements failed"));
        }
        for (Map.Entry<TopicIdPartition, Optional<KafkaException>> e : committed.entrySet()) {
            if (e.getKey().partition() == record.partition() && e.getKey().topic().equals(record.topic())) {
                return e.getValue();
            }
        }
        return Optional.empty();
    }

    private void closeQuietly(ShareConsumer<byte[], byte[]> c) {
        // An interrupted thread cannot close cleanly; close commits pending acknowledgements and releases the rest.
        boolean interrupted = Thread.interrupted();
        try {
            c.close(COMMIT_TIMEOUT);
        } catch (KafkaException e) {
            log.warn("{}: task consumer did not close cleanly: {}", workerId, e.getMessage());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String coord(ConsumerRecord<?, ?> record) {
        return record.topic() + "-" + record.partition() + "@" + record.offset();
    }

    /** Stops taking tasks; the batch in hand is still acknowledged and its attempts started. */
    void stopFetching() {
        fetching = false;
        slots.wakeUp();
        consumer.wakeup();
    }

    boolean awaitExit(long timeoutNanos) throws InterruptedException {
        return exited.await(Math.max(0, timeoutNanos), TimeUnit.NANOSECONDS);
    }

    boolean hasExited() {
        return exited.getCount() == 0;
    }

    int batch() {
        return batch;
    }

    /** Tasks accepted and handed to the executor pool. */
    long accepted() {
        return accepted.get();
    }

    /** Records ended without running because the feed held them too long. */
    long notStarted() {
        return notStarted.get();
    }

    /** A record of the batch in hand and what admitting it led to. */
    private static final class Taken {
        final ConsumerRecord<byte[], byte[]> record;
        final Admission admission;
        boolean durable;

        Taken(ConsumerRecord<byte[], byte[]> record, Admission admission) {
            this.record = record;
            this.admission = admission;
        }
    }
}
