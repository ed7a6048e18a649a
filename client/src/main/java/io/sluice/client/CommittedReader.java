package io.sluice.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

import io.sluice.schemas.Topics;
import io.sluice.schemas.WireFormatException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads partitions from their beginning to their end as it is when the read starts, {@code read_committed}: what the
 * coordinators committed, once. Records without a key or value are skipped, and so is one its handler finds unreadable
 * ({@link WireFormatException}): the coordinator dead-letters such records; a reader does not stop on them.
 */
final class CommittedReader {

    private CommittedReader() {
    }

    /** A group-less consumer's settings that read what the coordinators committed, records of any size Sluice writes. */
    static Map<String, Object> consumerProperties(String bootstrapServers, Map<String, String> clientProperties) {
        Map<String, Object> p = new HashMap<>(clientProperties);
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(Topics.MAX_MESSAGE_BYTES));
        return p;
    }

    /**
     * @param partitions which partitions, given the consumer (to look up partition counts)
     * @throws IllegalStateException naming {@code what} when the end is not reached within {@code timeout}
     */
    static void readToEnd(String bootstrapServers, Map<String, String> clientProperties, Duration timeout, String what,
                          Function<KafkaConsumer<String, byte[]>, List<TopicPartition>> partitions,
                          Consumer<ConsumerRecord<String, byte[]>> onRecord) {
        Map<String, Object> p = consumerProperties(bootstrapServers, clientProperties);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = partitions.apply(consumer);
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts, timeout);
            List<TopicPartition> open = new ArrayList<>(parts);
            while (true) {
                open.removeIf(tp -> consumer.position(tp) >= end.get(tp));
                if (open.isEmpty()) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("cannot read " + what + " within " + timeout);
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.key() == null || r.value() == null) {
                        continue;
                    }
                    try {
                        onRecord.accept(r);
                    } catch (WireFormatException e) {
                        // not a record of its topic's kind: skipped
                    }
                }
            }
        }
    }
}
