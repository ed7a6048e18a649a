package io.sluice.worker;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import io.sluice.schemas.Halt;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.Topics;
import io.sluice.schemas.WireFormatException;
import io.sluice.schemas.WireRecords;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the control topic: reads every partition from the beginning (no group: each worker needs every halt,
 * {@code read_committed}), keeps the latest halt per key in {@link Halts}, and tells the worker of each new one so
 * that it can cancel the leaves it covers at once.
 *
 * <p><b>No record stops it.</b> Each record is decoded through the halt schema: one that is not a halt — null, not
 * JSON, a status a halt may not give ({@code succeeded}, {@code lost}), a key that is not its run and path — is
 * ignored and dead-lettered (keyed by its coordinates, so that every worker's report of it is one dead letter); a
 * tombstone removes its key's halt. Kafka errors that may pass are retried with capped backoff; any other (an
 * authentication or authorization failure, for example) ends the watcher, and {@code onDeath} tells the worker, which
 * must not run on without following halts.
 *
 * <p>Thread-safety: {@link #run()} is the one thread that owns the consumer; {@link #close()} and
 * {@link #awaitCaughtUp} may be called from any thread.
 */
final class HaltWatcher implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(HaltWatcher.class);
    private static final long MAX_BACKOFF_MS = 5_000;

    private final org.apache.kafka.clients.consumer.Consumer<String, byte[]> consumer;
    private final Halts halts;
    private final Consumer<Halt> onNewHalt;
    private final UsageSink deadLetters;
    private final Consumer<Throwable> onDeath;
    private final Clock clock;
    private final Duration pollTimeout;
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final CountDownLatch exited = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile Throwable failure;

    /** @param consumer a consumer without a group; from now on only the watcher's thread touches it */
    HaltWatcher(org.apache.kafka.clients.consumer.Consumer<String, byte[]> consumer, Halts halts, Consumer<Halt> onNewHalt,
                UsageSink deadLetters, Consumer<Throwable> onDeath, Clock clock, Duration pollTimeout) {
        this.consumer = consumer;
        this.halts = halts;
        this.onNewHalt = onNewHalt;
        this.deadLetters = deadLetters;
        this.onDeath = onDeath;
        this.clock = clock;
        this.pollTimeout = pollTimeout;
    }

    @Override
    public void run() {
        try (var c = consumer) {
            if (!running) {
                return;
            }
            List<TopicPartition> partitions = partitions(c);
            c.assign(partitions);
            c.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = c.endOffsets(partitions);
            long backoffMs = 100;
            while (running) {
                try {
                    for (ConsumerRecord<String, byte[]> record : c.poll(pollTimeout)) {
                        apply(record);
                    }
                    backoffMs = 100;
                } catch (WakeupException e) {
                    continue; // close(), or a spurious wakeup: the loop condition decides
                } catch (KafkaException e) {
                    if (!(e instanceof RetriableException)) {
                        throw e;
                    }
                    log.warn("halt watcher: poll failed, retrying in {} ms: {}", backoffMs, e.toString());
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(backoffMs));
                    backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
                    continue;
                }
                if (caughtUp.getCount() > 0 && partitions.stream().allMatch(tp -> c.position(tp) >= end.get(tp))) {
                    log.debug("halt watcher caught up: {} halts", halts.size());
                    caughtUp.countDown();
                }
            }
        } catch (WakeupException e) {
            if (running) {
                die(e);
            }
        } catch (RuntimeException e) {
            die(e);
        } finally {
            exited.countDown();
        }
    }

    private void die(RuntimeException e) {
        failure = e;
        if (e instanceof AuthorizationException
                || e instanceof AuthenticationException) {
            // not a defect, a setting: one line says it; a stack trace would bury it
            log.error("halt watcher failed: {}; halts are no longer followed, so the worker stops", e.getMessage());
        } else {
            log.error("halt watcher failed; halts are no longer followed, so the worker stops", e);
        }
        onDeath.accept(e);
    }

    private List<TopicPartition> partitions(org.apache.kafka.clients.consumer.Consumer<String, byte[]> c) {
        long backoffMs = 200;
        while (true) {
            try {
                List<PartitionInfo> infos = c.partitionsFor(Topics.CONTROL, Duration.ofSeconds(5));
                if (infos != null && !infos.isEmpty()) {
                    return infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
                }
            } catch (KafkaException e) {
                if (!(e instanceof RetriableException)) {
                    throw e;
                }
                log.warn("control topic {} not readable yet: {}", Topics.CONTROL, e.getMessage());
            }
            if (!running) {
                throw new WakeupException();
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(backoffMs));
            backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        }
    }

    /** Applies one control record; whatever it holds, this does not throw. */
    private void apply(ConsumerRecord<String, byte[]> record) {
        try {
            if (record.key() == null) {
                ignore(record, null, "key: a halt is keyed by its run and path (run|path), got none");
                return;
            }
            if (record.value() == null) {
                halts.remove(record.key()); // the coordinator prunes halts of runs long finished
                return;
            }
            Halt halt;
            try {
                halt = WireRecords.decode(record.value(), Halt.class);
            } catch (WireFormatException e) {
                ignore(record, null, e.getMessage());
                return;
            }
            if (!halt.key().equals(record.key())) {
                ignore(record, halt.runId(), "key: '" + record.key() + "' is not the halt's run and path '" + halt.key() + "'");
                return;
            }
            if (halts.put(record.key(), halt)) {
                onNewHalt.accept(halt);
            }
        } catch (RuntimeException e) {
            ignore(record, null, "cannot apply the halt: " + e);
        }
    }

    private void ignore(ConsumerRecord<String, byte[]> record, String runId, String reason) {
        log.warn("control record {}-{}@{} ignored: {}", record.topic(), record.partition(), record.offset(), reason);
        String run = runId != null ? runId : runOfKey(record.key());
        deadLetters.reject(Rejection.of(record, run, "halt", List.of(reason), clock.millis())).whenComplete((v, e) -> {
            if (e != null) {
                log.warn("dead letter of control record {}-{}@{} not written: {}", record.topic(), record.partition(),
                        record.offset(), e.toString());
            }
        });
    }

    private static String runOfKey(String key) {
        if (key == null) {
            return null;
        }
        int bar = key.indexOf('|');
        String run = bar > 0 ? key.substring(0, bar) : key;
        return Topics.isRunId(run) ? run : null;
    }

    /** @return true when the watcher has read every halt that existed when it started */
    boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (caughtUp.await(50, TimeUnit.MILLISECONDS)) {
                return true;
            }
            if (exited.getCount() == 0) {
                return false;
            }
        }
        return caughtUp.getCount() == 0;
    }

    Throwable failure() {
        return failure;
    }

    boolean isAlive() {
        return exited.getCount() > 0;
    }

    void close() {
        running = false;
        consumer.wakeup();
    }

    boolean awaitExit(Duration timeout) throws InterruptedException {
        return exited.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}
