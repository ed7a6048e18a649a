package io.sluice.systemtest.broker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import io.sluice.systemtest.kafka.KafkaCluster;
import io.sluice.systemtest.kafka.KafkaExtension;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The broker's log cleaner really compacts: after it runs, reading from the beginning yields exactly the latest
 * value of each key, and the older values of those keys are gone from the log.
 *
 * <p>The cleaner never touches the active segment, so the test keeps appending a "roll" record: with
 * {@code segment.ms=100} each append after 100 ms starts a new segment and leaves the previous ones cleanable.
 */
@ExtendWith(KafkaExtension.class)
class LogCompactionIT {

    private static final List<String> KEYS = List.of("k0", "k1", "k2", "k3", "k4");
    private static final int VERSIONS = 3;
    private static final String ROLL_KEY = "roll";

    @Test
    void shouldKeepOnlyTheLatestValuePerKeyAfterTheCleanerRuns(KafkaCluster kafka) throws Exception {
        // given: several values per key on a compacted topic with tiny segments and an eager cleaner
        String topic = kafka.newTopic("compaction", 1, Map.of(
                "cleanup.policy", "compact",
                "segment.ms", "100",
                "segment.bytes", "1048576", // the minimum since Kafka 4.0; segment.ms does the rolling
                "min.cleanable.dirty.ratio", "0.01",
                "min.compaction.lag.ms", "0",
                "delete.retention.ms", "100"));
        Map<String, Object> producerConfig = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.LINGER_MS_CONFIG, 0);
        List<String> allValues = new ArrayList<>();
        Map<String, String> latest = new LinkedHashMap<>();
        TopicPartition partition = new TopicPartition(topic, 0);
        Map<String, Object> consumerConfig = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);

        try (var producer = new KafkaProducer<>(producerConfig, new StringSerializer(), new StringSerializer());
             var consumer = new KafkaConsumer<>(consumerConfig, new StringDeserializer(), new StringDeserializer())) {
            for (int version = 1; version <= VERSIONS; version++) {
                for (String key : KEYS) {
                    String value = key + "-v" + version;
                    producer.send(new ProducerRecord<>(topic, key, value)).get();
                    allValues.add(value);
                    latest.put(key, value);
                }
            }
            consumer.assign(List.of(partition));
            // Nothing has been appended since the first segment opened, so it is still active and uncleaned.
            assertThat(valuesOf(readFromBeginning(consumer, partition), KEYS))
                    .as("before cleaning, every version is in the log")
                    .containsExactlyElementsOf(allValues);

            // when: segments roll and the cleaner gets its chance
            AtomicInteger rolls = new AtomicInteger();
            List<ConsumerRecord<String, String>> compacted = new ArrayList<>();
            await("log cleaner compacts " + topic + " to one value per key")
                    .atMost(Duration.ofSeconds(60))
                    .pollInSameThread()
                    .pollInterval(Duration.ofMillis(250))
                    .untilAsserted(() -> {
                        producer.send(new ProducerRecord<>(topic, ROLL_KEY, "roll-" + rolls.incrementAndGet())).get();
                        compacted.clear();
                        compacted.addAll(readFromBeginning(consumer, partition));
                        assertThat(valuesOf(compacted, KEYS)).containsExactlyInAnyOrderElementsOf(latest.values());
                    });

            // then
            Map<String, List<String>> valuesByKey = new LinkedHashMap<>();
            for (ConsumerRecord<String, String> record : compacted) {
                valuesByKey.computeIfAbsent(record.key(), k -> new ArrayList<>()).add(record.value());
            }
            for (String key : KEYS) {
                assertThat(valuesByKey.get(key)).as("values of %s after compaction", key).containsExactly(latest.get(key));
            }
            List<String> olderValues = allValues.stream().filter(v -> !latest.containsValue(v)).toList();
            assertThat(olderValues).hasSize(KEYS.size() * (VERSIONS - 1));
            assertThat(valuesOf(compacted, KEYS)).doesNotContainAnyElementsOf(olderValues);
        }
    }

    private static List<ConsumerRecord<String, String>> readFromBeginning(
            KafkaConsumer<String, String> consumer, TopicPartition partition) {
        consumer.seekToBeginning(List.of(partition));
        long end = consumer.endOffsets(List.of(partition)).get(partition);
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        await("consumer reads " + partition + " to offset " + end)
                .atMost(Duration.ofSeconds(30))
                .pollInSameThread()
                .pollDelay(Duration.ZERO)
                .until(() -> {
                    consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                    return consumer.position(partition) >= end;
                });
        return records;
    }

    private static List<String> valuesOf(List<ConsumerRecord<String, String>> records, List<String> keys) {
        return records.stream().filter(r -> keys.contains(r.key())).map(ConsumerRecord::value).toList();
    }
}
