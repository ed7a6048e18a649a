package io.sluice.coordinator;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * What one transaction will publish, in order, and the input it consumed: the records the fold decided on and the
 * offset after the last input record handled per partition. Its size is tracked so that the loop can commit before a
 * transaction grows past {@link CoordinatorConfig#maxTransactionBytes()}.
 *
 * <p>Not thread-safe: the loop's thread builds and publishes it.
 */
final class Batch {

    /** What a record costs beyond its key and value (headers, framing), roughly. */
    private static final int RECORD_OVERHEAD = 64;

    private final List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
    private final Map<TopicPartition, OffsetAndMetadata> consumed = new HashMap<>();
    private long bytes;

    void add(ProducerRecord<String, byte[]> record) {
        records.add(record);
        bytes += RECORD_OVERHEAD + (record.key() == null ? 0 : record.key().length())
                + (record.value() == null ? 0 : record.value().length);
    }

    /** Marks an input record as handled: the transaction commits the offset after it. */
    void consumed(ConsumerRecord<?, ?> record) {
        consumed.put(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
    }

    List<ProducerRecord<String, byte[]>> records() {
        return records;
    }

    Map<TopicPartition, OffsetAndMetadata> consumed() {
        return consumed;
    }

    long bytes() {
        return bytes;
    }

    boolean isEmpty() {
        return records.isEmpty() && consumed.isEmpty();
    }
}
