package io.sluice.worker;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import io.sluice.schemas.Halt;
import io.sluice.schemas.Json;
import io.sluice.schemas.Topics;
import io.sluice.schemas.WireFormatException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the control topic: reads every partition from the beginning (no group: each worker needs every halt,
 * {@code read_committed}), keeps the latest halt per key in {@link Halts}, and tells the worker of each new one so
 * that it can cancel the leaves it covers at once.
 *
 * <p>Thread-safety: {@link #run()} is the one thread that owns the consumer; {@link #close()} and
 * {@link #awaitCaughtUp} may be called from any thread.
 */
final class HaltWatcher implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(HaltWatcher.class);

    private final org.apache.kafka.clients.consumer.Consumer<String, byte[]> consumer;
    private final Halts halts;
    private final Consumer<Halt> onNewHalt;
    private final Duration pollTimeout;
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final CountDownLatch exited = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile Throwable failure;

    /** @param consumer a consumer without a group; from now on only the watcher's thread touches it */
    HaltWatcher(org.apache.kafka.clients.consumer.Consumer<String, byte[]> consumer, Halts halts, Consumer<Halt> onNewHalt,
                Duration pollTimeout) {
        this.consumer = consumer;
        this.halts = halts;
        this.onNewHalt = onNewHalt;
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
            while (running) {
                for (ConsumerRecord<String, byte[]> record : c.poll(pollTimeout)) {
                    apply(record);
                }
                if (caughtUp.getCount() > 0 && partitions.stream().allMatch(tp -> c.position(tp) >= end.get(tp))) {
                    log.debug("halt watcher caught up: {} halts", halts.size());
                    caughtUp.countDown();
                }
            }
        } catch (WakeupException e) {
            if (running) {
                failure = e;
                log.error("halt watcher woken up while running", e);
            }
        } catch (RuntimeException e) {
            failure = e;
            log.error("halt watcher failed; halts are no longer followed", e);
        } finally {
            exited.countDown();
        }
    }

    private List<TopicPartition> partitions(org.apache.kafka.clients.consumer.Consumer<String, byte[]> c) {
        while (true) {
            try {
                List<PartitionInfo> infos = c.partitionsFor(Topics.CONTROL, Duration.ofSeconds(5));
                if (infos != null && !infos.isEmpty()) {
                    return infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
                }
            } catch (KafkaException e) {
                if (e instanceof WakeupException) {
                    throw e;
                }
                log.warn("control topic {} not readable yet: {}", Topics.CONTROL, e.getMessage());
            }
            if (!running) {
                throw new WakeupException();
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
        }
    }

    private void apply(ConsumerRecord<String, byte[]> record) {
        if (record.key() == null) {
            log.warn("control record without a key at {}-{}@{}: ignored", record.topic(), record.partition(), record.offset());
            return;
        }
        if (record.value() == null) {
            halts.remove(record.key());
            return;
        }
        Halt halt;
        try {
            halt = Json.read(record.value(), Halt.class);
        } catch (WireFormatException e) {
            log.warn("control record {} at {}-{}@{} is not a halt: {}", record.key(), record.partition(), record.offset(),
                    e.getMessage());
            return;
        }
        if (halt.runId() == null || halt.path() == null) {
            log.warn("halt {} without run id or path: ignored", record.key());
            return;
        }
        if (halts.put(record.key(), halt)) {
            onNewHalt.accept(halt);
        }
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

    void close() {
        running = false;
        consumer.wakeup();
    }

    boolean awaitExit(Duration timeout) throws InterruptedException {
        return exited.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}
