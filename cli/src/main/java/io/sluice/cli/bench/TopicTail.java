package io.sluice.cli.bench;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Follows partitions live, from their end at {@link #start}, with a {@code read_committed} consumer and hands each
 * record with the wall-clock time it was read to a handler: the moment a record became visible to committed readers
 * (within one fetch), and a count of what was written while a run went on, before compaction can remove any of it.
 *
 * <p>One thread ({@code sluice-bench-tail-<name>}) owns the consumer; the handler runs on it and must be
 * thread-safe towards the caller. {@link #close()} sets a flag and wakes the consumer; it is idempotent.
 */
final class TopicTail implements AutoCloseable {

    /** What the tail thread does with each record. */
    interface Handler {
        void accept(ConsumerRecord<byte[], byte[]> record, long readAtMs);
    }

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<TopicPartition> partitions;
    private final Handler handler;
    private final Map<TopicPartition, Long> positions = new ConcurrentHashMap<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean running = true;

    private TopicTail(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions, Handler handler, String name) {
        this.consumer = consumer;
        this.partitions = List.copyOf(partitions);
        this.handler = handler;
        this.thread = new Thread(this::loop, "sluice-bench-tail-" + name);
        this.thread.setDaemon(true);
        this.thread.setUncaughtExceptionHandler((t, e) -> failure.set(e));
    }

    /** Starts following {@code partitions} from their current end; returns once the end offsets are resolved. */
    static TopicTail start(String bootstrapServers, List<TopicPartition> partitions, String name, Handler handler) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "20");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(io.sluice.schemas.Topics.MAX_MESSAGE_BYTES));
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        try {
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            TopicTail tail = new TopicTail(consumer, partitions, handler, name);
            for (TopicPartition tp : partitions) {
                tail.positions.put(tp, consumer.position(tp)); // resolved now, before the caller writes anything
            }
            tail.thread.start();
            return tail;
        } catch (RuntimeException e) {
            consumer.close();
            throw e;
        }
    }

    private void loop() {
        try {
            while (running) {
                var records = consumer.poll(Duration.ofMillis(100));
                long readAt = System.currentTimeMillis();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    handler.accept(r, readAt);
                }
                for (TopicPartition tp : partitions) {
                    positions.put(tp, consumer.position(tp));
                }
            }
        } catch (WakeupException e) {
            // close() asked us to stop
        } catch (RuntimeException e) {
            failure.set(e);
        } finally {
            consumer.close();
            stopped.countDown();
        }
    }

    /**
     * Waits until the tail has read everything committed to its partitions before this call.
     *
     * @throws IllegalStateException when the tail failed or does not get there within {@code timeout}
     */
    void catchUp(String bootstrapServers, Duration timeout) throws InterruptedException {
        Map<TopicPartition, Long> ends = new HashMap<>();
        for (TopicPartition tp : partitions) {
            ends.put(tp, PartitionReader.endOffset(bootstrapServers, tp));
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (failure.get() != null) {
                throw new IllegalStateException("tail of " + partitions + " failed: " + failure.get().getMessage(), failure.get());
            }
            boolean caughtUp = ends.entrySet().stream().allMatch(e -> positions.getOrDefault(e.getKey(), 0L) >= e.getValue());
            if (caughtUp) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("tail of " + partitions + " did not reach " + ends + " within " + timeout);
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    @Override
    public void close() {
        running = false;
        if (stopped.getCount() > 0) {
            try {
                consumer.wakeup();
            } catch (IllegalStateException e) {
                // closed meanwhile by its thread
            }
        }
        try {
            if (!stopped.await(10, TimeUnit.SECONDS)) {
                thread.interrupt();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
