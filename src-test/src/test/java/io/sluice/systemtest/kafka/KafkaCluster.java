package io.sluice.systemtest.kafka;

import java.util.Map;

import org.apache.kafka.clients.admin.Admin;

/**
 * The real Kafka cluster the system tests of this JVM share; injected by {@link KafkaExtension}.
 *
 * <pre>{@code
 * @ExtendWith(KafkaExtension.class)
 * class SomethingIT {
 *     @Test
 *     void shouldDoSomething(KafkaCluster kafka) {
 *         String topic = kafka.newTopic("something", 3, Map.of());
 *         // ... clients with bootstrap.servers = kafka.bootstrapServers()
 *     }
 * }
 * }</pre>
 *
 * <p>Every test class gets the same cluster, so a test must use names of its own: {@link #newTopic} and
 * {@link #uniqueRunId} make them. Thread-safe.
 */
public interface KafkaCluster {

    /** The {@code bootstrap.servers} of the cluster. */
    String bootstrapServers();

    /** A shared admin client. Owned by the fixture: do not close it. */
    Admin admin();

    /**
     * Creates a topic named {@code prefix-<unique suffix>} and waits until the cluster's metadata shows it.
     *
     * @param prefix     letters, digits, '.', '_' or '-'
     * @param partitions at least 1
     * @param configs    topic configs, e.g. {@code cleanup.policy=compact}
     * @return the topic's name
     * @throws IllegalStateException when the topic cannot be created in time
     */
    String newTopic(String prefix, int partitions, Map<String, String> configs);

    /** A single-partition topic with the broker's default configs. */
    default String newTopic(String prefix) {
        return newTopic(prefix, 1, Map.of());
    }

    /**
     * An id unique across tests and test JVMs, {@code prefix-<random>-<sequence>}: for run ids, group ids,
     * transactional ids. Legal in a topic name.
     */
    String uniqueRunId(String prefix);

    /**
     * Creates Sluice's own topics ({@code Topics.all()}) unless they exist. Runs {@code TopicAdmin.ensure} at
     * most once per JVM; later calls return at once.
     */
    void ensureSluiceTopics();

    /** The replication factor for new topics: the broker count, at most 3. */
    short replicationFactor();

    /** What the cluster is, for messages: "in-process broker at 127.0.0.1:40123 (...)". */
    String description();
}
