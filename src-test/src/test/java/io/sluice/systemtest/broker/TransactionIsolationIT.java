package io.sluice.systemtest.broker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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

/** The broker runs real transactions: aborted records reach the log but a read_committed consumer never sees them. */
@ExtendWith(KafkaExtension.class)
class TransactionIsolationIT {

    @Test
    void shouldHideAbortedTransactionFromReadCommittedConsumer(KafkaCluster kafka) {
        // given: an aborted transaction followed by a committed one, both flushed to the log
        String topic = kafka.newTopic("tx-isolation");
        Map<String, Object> producerConfig = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, kafka.uniqueRunId("tx-isolation"));
        try (var producer = new KafkaProducer<>(producerConfig, new StringSerializer(), new StringSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < 3; i++) {
                producer.send(new ProducerRecord<>(topic, "key-" + i, "aborted-" + i));
            }
            producer.flush();
            producer.abortTransaction();

            producer.beginTransaction();
            for (int i = 0; i < 3; i++) {
                producer.send(new ProducerRecord<>(topic, "key-" + i, "committed-" + i));
            }
            producer.commitTransaction();
        }

        // when
        List<String> readCommitted = readToEnd(kafka, topic, "read_committed");
        List<String> readUncommitted = readToEnd(kafka, topic, "read_uncommitted");

        // then
        assertThat(readCommitted).containsExactly("committed-0", "committed-1", "committed-2");
        assertThat(readUncommitted)
                .as("the aborted records were written to the log, so only isolation hides them")
                .containsExactly("aborted-0", "aborted-1", "aborted-2", "committed-0", "committed-1", "committed-2");
    }

    private static List<String> readToEnd(KafkaCluster kafka, String topic, String isolationLevel) {
        TopicPartition partition = new TopicPartition(topic, 0);
        Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolationLevel,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<String> values = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            // Both transactions are complete, so the end offset (the last stable offset for read_committed)
            // lies past the commit marker.
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            await(isolationLevel + " consumer reads " + topic + " to offset " + end)
                    .atMost(Duration.ofSeconds(30))
                    .pollInSameThread()
                    .pollDelay(Duration.ZERO)
                    .until(() -> {
                        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                            values.add(record.value());
                        }
                        return consumer.position(partition) >= end;
                    });
        }
        return values;
    }
}
