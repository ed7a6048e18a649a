package io.sluice.coordinator;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

import io.sluice.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's transactional producer: publishes a {@link Batch} and the offsets it consumed in one Kafka
 * transaction. Every transaction carries the consumer group's metadata — also one that consumed nothing (a deadline
 * tick, a due retry, the continuation of a dispatch) — so that a coordinator the group has moved on from (a zombie)
 * cannot commit anything: the group coordinator refuses its offsets and the transaction aborts.
 *
 * <p>Thread-safety: the loop's thread alone uses it; it owns the producer and closes it.
 */
final class TransactionalPublisher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TransactionalPublisher.class);

    private final Supplier<Producer<String, byte[]>> factory;
    private final Map<String, Integer> partitionCounts = new HashMap<>();
    private Producer<String, byte[]> producer;

    TransactionalPublisher(Supplier<Producer<String, byte[]>> factory) {
        this.factory = factory;
    }

    /**
     * Creates the producer and registers its transactional id, fencing any earlier producer of the same id (and
     * aborting what it left open). The producer is closed again when this fails.
     */
    void open() {
        close(Duration.ZERO);
        Producer<String, byte[]> p = factory.get();
        try {
            p.initTransactions();
        } catch (RuntimeException e) {
            closeQuietly(p, Duration.ZERO);
            throw e;
        }
        producer = p;
    }

    /** The partition count of a topic, asked once. */
    int partitions(String topic) {
        return partitionCounts.computeIfAbsent(topic, t -> producer.partitionsFor(t).size());
    }

    /** The partition of every record about {@code runId} on a run-keyed topic. */
    int partitionOf(String topic, String runId) {
        return Topics.partitionFor(runId, partitions(topic));
    }

    /**
     * Publishes the batch and commits {@code offsets} in one transaction.
     *
     * @throws KafkaException when the transaction did not commit; nothing of it is then visible
     */
    void publish(Batch batch, Map<TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata group) {
        producer.beginTransaction();
        for (ProducerRecord<String, byte[]> record : batch.records()) {
            producer.send(record);
        }
        if (!offsets.isEmpty()) {
            producer.sendOffsetsToTransaction(offsets, group);
        }
        producer.commitTransaction();
    }

    /**
     * Errors after which the coordinator must stop: another instance took its transactional id (a zombie must not
     * go on), it is not allowed to act, or the cluster cannot do what it needs. Anything else (a broker restart
     * aborting the transaction, the group fencing stale offsets, a timeout) is rolled back and retried.
     */
    static boolean isFatal(Throwable e) {
        return e instanceof ProducerFencedException || e instanceof InvalidProducerEpochException
                || e instanceof AuthorizationException || e instanceof AuthenticationException
                || e instanceof UnsupportedVersionException;
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }

    void close(Duration timeout) {
        if (producer != null) {
            closeQuietly(producer, timeout);
            producer = null;
        }
    }

    private static void closeQuietly(Producer<String, byte[]> p, Duration timeout) {
        try {
            p.close(timeout);
        } catch (KafkaException e) {
            log.debug("closing the producer", e);
        }
    }
}
