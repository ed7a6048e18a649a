package io.sluice.systemtest.broker;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.sluice.schemas.TopicAdmin;
import io.sluice.schemas.Topics;
import io.sluice.systemtest.kafka.KafkaCluster;
import io.sluice.systemtest.kafka.KafkaExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link TopicAdmin#ensure} creates Sluice's topics with their specs, and a second call creates nothing. */
@ExtendWith(KafkaExtension.class)
class SluiceTopicsIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Test
    void shouldCreateEveryTopicOnceWithItsSpec(KafkaCluster kafka) throws Exception {
        // given: Sluice's topic specs under names of this test's own, so the first call is sure to create them
        String prefix = kafka.uniqueRunId("topics") + ".";
        List<Topics.Spec> specs = Topics.all().stream()
                .map(spec -> new Topics.Spec(prefix + spec.name(), spec.partitions(), spec.configs()))
                .toList();
        List<String> names = specs.stream().map(Topics.Spec::name).toList();

        // when
        List<String> first = TopicAdmin.ensure(kafka.admin(), specs, kafka.replicationFactor(), TIMEOUT);
        List<String> second = TopicAdmin.ensure(kafka.admin(), specs, kafka.replicationFactor(), TIMEOUT);

        // then
        assertThat(first).containsExactlyInAnyOrderElementsOf(names);
        assertThat(second).isEmpty();
        Map<String, TopicDescription> described = kafka.admin().describeTopics(names).allTopicNames()
                .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        for (Topics.Spec spec : specs) {
            assertThat(described.get(spec.name()).partitions()).as("partitions of %s", spec.name())
                    .hasSize(spec.partitions());
        }
        assertThat(topicConfig(kafka.admin(), prefix + Topics.LEDGER).get("cleanup.policy").value()).isEqualTo("compact");
        assertThat(topicConfig(kafka.admin(), prefix + Topics.SUBMISSIONS).get("cleanup.policy").value()).isEqualTo("delete");
    }

    @Test
    void shouldLeaveTheRealSluiceTopicsAloneOnceEnsured(KafkaCluster kafka) throws Exception {
        // given
        kafka.ensureSluiceTopics();

        // when
        List<String> again = TopicAdmin.ensure(kafka.admin(), Topics.all(), kafka.replicationFactor(), TIMEOUT);

        // then
        assertThat(again).isEmpty();
        assertThat(kafka.admin().listTopics().names().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS))
                .containsAll(Topics.all().stream().map(Topics.Spec::name).toList());
        Config ledger = topicConfig(kafka.admin(), Topics.LEDGER);
        assertThat(ledger.get("cleanup.policy").value()).isEqualTo("compact");
        assertThat(ledger.get("max.message.bytes").value()).isEqualTo(Integer.toString(Topics.MAX_MESSAGE_BYTES));
    }

    private static Config topicConfig(Admin admin, String topic) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return admin.describeConfigs(List.of(resource)).all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(resource);
    }
}
