package io.sluice.coordinator;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.sluice.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * What one transaction will publish, in order, and the input it consumed: the records the fold decided on and the
 * offset after the last input record handled per partition. Its size is tracked so that the loop can commit before a
 * transaction grows past {@link CoordinatorConfig#maxTransactionBytes()}.
 *
 * <p>Ledger entries are coalesced: a later entry of a key replaces an earlier one of the same transaction in place.
 * The ledger is compacted and only the latest entry per key describes a node, and no read_committed reader sees a
 * transaction's records before all of them, so the earlier entry told nobody anything; a run's usage events folded
 * in one transaction thus write one entry per changed node, not one per event.
 *
 * <p>Not thread-safe: the loop's thread builds and publishes it.
 */
final class Batch {

    /** What a record costs beyond its key and value (headers, framing), roughly. */
    private static final int RECORD_OVERHEAD = 64;

    private final List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
    /** Where each ledger key's entry stands in {@link #records}. */
    private final Map<String, Integer> ledgerEntries = new HashMap<>();
    private final Map<TopicPartition, OffsetAndMetadata> consumed = new HashMap<>();
    private long bytes;

    void add(ProducerRecord<String, byte[]> record) {
        if (Topics.LEDGER.equals(record.topic()) && record.key() != null) {
            Integer at = ledgerEntries.putIfAbsent(record.key(), records.size());
            if (at != null) {
                bytes -= size(records.set(at, record));
                bytes += size(record);
                return;
            }
        }
        records.add(record);
        bytes += size(record);
    }

    private static long size(ProducerRecord<String, byte[]> record) {
        return RECORD_OVERHEAD + (record.key() == null ? 0 : record.key().length())
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
