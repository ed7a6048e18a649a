package io.sluice.worker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.AcknowledgementCommitCallback;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.ShareConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.record.TimestampType;

/**
 * A share consumer in explicit acknowledgement mode with the 4.3.1 behaviour measured on a real broker: every
 * delivered record must be acknowledged before the next poll; at most {@link #maxPerPoll} records per poll;
 * acknowledgements take effect when committed (or with the next poll, or on close). A released record is offered
 * again with its delivery count increased. The feed never renews: a {@code RENEW} is a violation.
 */
final class FakeShareConsumer implements ShareConsumer<byte[], byte[]> {

    private final BlockingDeque<ConsumerRecord<byte[], byte[]>> available = new LinkedBlockingDeque<>();
    private final Map<Long, ConsumerRecord<byte[], byte[]>> delivered = new LinkedHashMap<>();
    private final Map<Long, AcknowledgeType> pendingAcks = new LinkedHashMap<>();
    private final AtomicBoolean wakeup = new AtomicBoolean();
    private final int lockMs;

    /** Every acknowledgement sent, e.g. "ACCEPT 0", "RELEASE 1". */
    final List<String> acks = new CopyOnWriteArrayList<>();
    final List<String> violations = new CopyOnWriteArrayList<>();
    volatile boolean closed;
    /** Records one poll may return ({@code max.poll.records}). */
    volatile int maxPerPoll = 1;
    /** When set, a commit reports this error for the partition: the acknowledgements were refused. */
    volatile KafkaException commitRefusal;
    /** Polls, with their timeouts in ms. */
    final List<Long> polls = new CopyOnWriteArrayList<>();
    /** When set, every poll throws it (an error of the cluster or the client). */
    volatile RuntimeException pollFailure;

    FakeShareConsumer(int lockMs) {
        this.lockMs = lockMs;
    }

    void offer(long offset) {
        offer(offset, new byte[0], 1);
    }

    /** Offers the record at {@code offset} with this value, on its {@code deliveryCount}th delivery. */
    void offer(long offset, byte[] value, int deliveryCount) {
        available.add(record(offset, value, (short) deliveryCount));
    }

    private static ConsumerRecord<byte[], byte[]> record(long offset, byte[] value, short deliveryCount) {
        return new ConsumerRecord<>("sluice.tasks", 0, offset, 0L, TimestampType.CREATE_TIME, 0, 0, null, value,
                new RecordHeaders(), Optional.empty(), Optional.of(deliveryCount));
    }

    @Override
    public synchronized ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        if (Thread.currentThread().isInterrupted()) {
            throw new InterruptException(new InterruptedException());
        }
        if (wakeup.getAndSet(false)) {
            throw new WakeupException();
        }
        RuntimeException failure = pollFailure;
        if (failure != null) {
            throw failure;
        }
        if (!delivered.isEmpty()) {
            violations.add("poll with unacknowledged " + delivered.keySet());
            throw new IllegalStateException("All records must be acknowledged in explicit acknowledgement mode.");
        }
        polls.add(timeout.toMillis());
        sendAcks();
        ConsumerRecord<byte[], byte[]> next;
        try {
            next = available.poll(Math.min(timeout.toMillis(), 20), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptException(e);
        }
        if (next == null) {
            return ConsumerRecords.empty();
        }
        List<ConsumerRecord<byte[], byte[]>> batch = new ArrayList<>(List.of(next));
        while (batch.size() < maxPerPoll && (next = available.poll()) != null) {
            batch.add(next);
        }
        batch.forEach(r -> delivered.put(r.offset(), r));
        return records(batch);
    }

    private void sendAcks() {
        pendingAcks.forEach((offset, type) -> acks.add(type.name() + " " + offset));
        pendingAcks.clear();
    }

    private static ConsumerRecords<byte[], byte[]> records(List<ConsumerRecord<byte[], byte[]>> list) {
        return new ConsumerRecords<>(Map.of(new TopicPartition("sluice.tasks", 0), list), Map.of());
    }

    @Override
    public synchronized void acknowledge(ConsumerRecord<byte[], byte[]> record, AcknowledgeType type) {
        ConsumerRecord<byte[], byte[]> r = delivered.remove(record.offset());
        if (r == null) {
            violations.add("acknowledged " + record.offset() + " which is not waiting to be acknowledged");
            throw new IllegalStateException("The record cannot be acknowledged.");
        }
        pendingAcks.put(r.offset(), type);
        switch (type) {
            case RENEW -> violations.add("renewed " + r.offset());
            case RELEASE -> available.addFirst(record(r.offset(), r.value(), (short) (r.deliveryCount().orElse((short) 1) + 1)));
            default -> {
            }
        }
    }

    @Override
    public void acknowledge(ConsumerRecord<byte[], byte[]> record) {
        acknowledge(record, AcknowledgeType.ACCEPT);
    }

    @Override
    public void acknowledge(String topic, int partition, long offset, AcknowledgeType type) {
        throw new UnsupportedOperationException();
    }

    @Override
    public synchronized Map<TopicIdPartition, Optional<KafkaException>> commitSync() {
        if (wakeup.getAndSet(false)) {
            throw new WakeupException();
        }
        sendAcks();
        KafkaException refusal = commitRefusal;
        return refusal == null ? Map.of()
                : Map.of(new TopicIdPartition(Uuid.ZERO_UUID, 0, "sluice.tasks"), Optional.of(refusal));
    }

    @Override
    public Map<TopicIdPartition, Optional<KafkaException>> commitSync(Duration timeout) {
        return commitSync();
    }

    @Override
    public void commitAsync() {
        commitSync();
    }

    @Override
    public Optional<Integer> acquisitionLockTimeoutMs() {
        return Optional.of(lockMs);
    }

    @Override
    public void wakeup() {
        wakeup.set(true);
    }

    @Override
    public synchronized void close() {
        sendAcks();
        // Closing releases whatever is still acquired.
        delivered.keySet().forEach(o -> acks.add("CLOSE-RELEASE " + o));
        delivered.clear();
        closed = true;
    }

    @Override
    public void close(Duration timeout) {
        close();
    }

    @Override
    public void setAcknowledgementCommitCallback(AcknowledgementCommitCallback callback) {
    }

    @Override
    public Set<String> subscription() {
        return Set.of("sluice.tasks");
    }

    @Override
    public void subscribe(java.util.Collection<String> topics) {
    }

    @Override
    public void unsubscribe() {
    }

    @Override
    public Uuid clientInstanceId(Duration timeout) {
        return Uuid.ZERO_UUID;
    }

    @Override
    public Map<MetricName, ? extends Metric> metrics() {
        return Map.of();
    }

    @Override
    public void registerMetricForSubscription(KafkaMetric metric) {
    }

    @Override
    public void unregisterMetricFromSubscription(KafkaMetric metric) {
    }
}
