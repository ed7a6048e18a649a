package io.sluice.systemtest.kafka;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(KafkaExtension.class)
class KafkaFixtureIT {

    private final KafkaCluster clusterOfConstructor;

    KafkaFixtureIT(KafkaCluster kafka) {
        this.clusterOfConstructor = kafka;
    }

    @Test
    void shouldShareOneClusterPerJvm(KafkaCluster kafka) {
        assertThat(kafka).isSameAs(clusterOfConstructor);
        assertThat(kafka.bootstrapServers()).isNotBlank();
        assertThat(kafka.replicationFactor()).isBetween((short) 1, (short) 3);
    }

    @Test
    void shouldCreateUniquelyNamedTopicsWithTheGivenPartitionsAndConfigs(KafkaCluster kafka) throws Exception {
        // when
        String first = kafka.newTopic("fixture", 3, Map.of("retention.ms", "3600000"));
        String second = kafka.newTopic("fixture", 3, Map.of("retention.ms", "3600000"));

        // then
        assertThat(first).startsWith("fixture-").isNotEqualTo(second);
        Map<String, TopicDescription> topics = kafka.admin().describeTopics(Set.of(first, second)).allTopicNames()
                .get(30, TimeUnit.SECONDS);
        assertThat(topics.get(first).partitions()).hasSize(3);
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, first);
        Config config = kafka.admin().describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
        assertThat(config.get("retention.ms").value()).isEqualTo("3600000");
    }

    @Test
    void shouldMakeUniqueRunIdsAndNameTheBadPrefix(KafkaCluster kafka) {
        assertThat(kafka.uniqueRunId("run")).startsWith("run-").isNotEqualTo(kafka.uniqueRunId("run"));
        assertThatThrownBy(() -> kafka.uniqueRunId("no spaces"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("prefix:");
        assertThatThrownBy(() -> kafka.newTopic("t", 0, Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("partitions:");
    }
}
