package io.sluice.cli.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads what was committed to one partition between two points, with a plain {@code read_committed} consumer (no
 * group): how the sections get the record timestamps of a run's usage events and halts after the run ended. The end
 * is the partition's last stable offset at the time of reading, so everything committed before the call is read.
 *
 * <p>Each call creates and closes its own consumer, on the calling thread.
 */
final class PartitionReader {

    static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

    private PartitionReader() {
    }

    /** The partition's last stable offset now: where a reader started now would begin. */
    static long endOffset(String bootstrapServers, TopicPartition tp) {
        try (KafkaConsumer<String, byte[]> consumer = consumer(bootstrapServers)) {
            return consumer.endOffsets(List.of(tp)).get(tp);
        }
    }

    /**
     * The records of {@code tp} from offset {@code from} up to its current end whose key {@code keep} accepts, in offset
     * order.
     *
     * @throws IllegalStateException when the end is not reached within {@link #READ_TIMEOUT}
     */
    static List<ConsumerRecord<String, byte[]>> read(String bootstrapServers, TopicPartition tp, long from,
                                                     Predicate<String> keep) {
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = consumer(bootstrapServers)) {
            consumer.assign(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            consumer.seek(tp, from);
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (consumer.position(tp) < end) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("cannot read " + tp + " up to offset " + end + " within " + READ_TIMEOUT);
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.offset() < end && r.key() != null && keep.test(r.key())) {
                        out.add(r);
                    }
                }
            }
        }
        return out;
    }

    private static KafkaConsumer<String, byte[]> consumer(String bootstrapServers) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(io.sluice.schemas.Topics.MAX_MESSAGE_BYTES));
        return new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
    }
}
