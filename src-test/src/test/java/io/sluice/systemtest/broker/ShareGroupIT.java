package io.sluice.systemtest.broker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import io.sluice.systemtest.kafka.KafkaCluster;
import io.sluice.systemtest.kafka.KafkaExtension;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.SharePartitionOffsetInfo;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Share groups (KIP-932) work on the broker: a share consumer receives and ACCEPTs every record of a topic. */
@ExtendWith(KafkaExtension.class)
class ShareGroupIT {

    private static final int RECORDS = 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Test
    void shouldDeliverEveryRecordToAShareConsumerThatAcceptsThem(KafkaCluster kafka) throws Exception {
        // given: a share group that starts at the earliest offset (the default, latest, would skip our records)
        String topic = kafka.newTopic("share");
        String group = kafka.uniqueRunId("share-group");
        ConfigResource groupResource = new ConfigResource(ConfigResource.Type.GROUP, group);
        kafka.admin().incrementalAlterConfigs(Map.of(groupResource, List.of(new AlterConfigOp(
                        new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET))))
                .all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        List<String> sent = IntStream.range(0, RECORDS).mapToObj(i -> "task-" + i).toList();
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new StringSerializer(), new StringSerializer())) {
            for (String value : sent) {
                producer.send(new ProducerRecord<>(topic, value, value));
            }
            producer.flush();
        }
        Map<String, Object> consumerConfig = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
        List<String> accepted = new ArrayList<>();

        try (var consumer = new KafkaShareConsumer<>(consumerConfig, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));

            // when: every record is acknowledged before the next poll, as explicit mode requires
            await("share consumer of " + group + " receives and accepts " + RECORDS + " records")
                    .atMost(TIMEOUT)
                    .pollInSameThread()
                    .pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(10))
                    .until(() -> {
                        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(500));
                        for (ConsumerRecord<String, String> record : records) {
                            consumer.acknowledge(record, AcknowledgeType.ACCEPT);
                            accepted.add(record.value());
                        }
                        if (!records.isEmpty()) {
                            Map<TopicIdPartition, Optional<KafkaException>> results = consumer.commitSync(TIMEOUT);
                            assertThat(results.values()).as("acknowledgement errors").allMatch(Optional::isEmpty);
                        }
                        return accepted.size() >= RECORDS;
                    });
        }

        // then
        assertThat(accepted).containsExactlyInAnyOrderElementsOf(sent);
        TopicPartition partition = new TopicPartition(topic, 0);
        // The broker's own view: no record of the partition is left unacknowledged. (The persisted start offset
        // need not move yet: on 4.3 it stays at 0 with every batch recorded as acknowledged.)
        await("share group " + group + " has no unacknowledged records left")
                .atMost(TIMEOUT)
                .pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> {
                    SharePartitionOffsetInfo info = kafka.admin()
                            .listShareGroupOffsets(Map.of(group, new ListShareGroupOffsetsSpec().topicPartitions(List.of(partition))))
                            .partitionsToOffsetInfo(group).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                            .get(partition);
                    assertThat(info).as("share offsets of %s", partition).isNotNull();
                    assertThat(info.lag()).as("lag of %s", partition).contains(0L);
                });
    }
}
