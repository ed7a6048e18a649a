package io.sluice.cli.bench;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.sluice.broker.EmbeddedKafkaBroker;
import io.sluice.schemas.TopicAdmin;
import io.sluice.schemas.Topics;
import io.sluice.worker.Worker;
import io.sluice.worker.WorkerConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;

/**
 * The Kafka cluster a bench runs on: an embedded broker started for it ({@link EmbeddedKafkaBroker#start()}, the same
 * broker {@code sluice demo} runs), or a cluster it was pointed at. It creates Sluice's topics and configures the
 * workers' share group as {@code sluice coordinator} does, and keeps one {@link Admin} for the sections.
 *
 * <p>Thread-safety: the admin client is thread-safe; {@link #close()} once, after every section.
 */
final class BenchCluster implements AutoCloseable {

    static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

    private final EmbeddedKafkaBroker broker;
    private final String bootstrapServers;
    private final Admin admin;
    private final short replication;

    private BenchCluster(EmbeddedKafkaBroker broker, String bootstrapServers, Admin admin, short replication) {
        this.broker = broker;
        this.bootstrapServers = bootstrapServers;
        this.admin = admin;
        this.replication = replication;
    }

    /**
     * Connects to {@code bootstrapServers}, or starts an embedded broker when it is null, and prepares the topics.
     *
     * @throws IllegalStateException when the broker cannot be started or reached
     */
    static BenchCluster start(String bootstrapServers) throws InterruptedException {
        EmbeddedKafkaBroker broker = bootstrapServers == null ? EmbeddedKafkaBroker.start() : null;
        String bootstrap = broker != null ? broker.bootstrapServers() : bootstrapServers;
        Admin admin = null;
        try {
            Map<String, Object> props = new HashMap<>();
            props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT.toMillis());
            admin = Admin.create(props);
            int brokers = get(admin.describeCluster().nodes()).size();
            short replication = (short) Math.min(3, Math.max(1, brokers));
            TopicAdmin.ensure(admin, Topics.all(), replication, TopicAdmin.DEFAULT_TIMEOUT);
            Worker.configureShareGroup(admin, WorkerConfig.of(bootstrap, "bench-setup"), TopicAdmin.DEFAULT_TIMEOUT);
            return new BenchCluster(broker, bootstrap, admin, replication);
        } catch (RuntimeException | InterruptedException e) {
            if (admin != null) {
                admin.close(Duration.ofSeconds(5));
            }
            if (broker != null) {
                broker.close();
            }
            throw e;
        }
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    boolean embedded() {
        return broker != null;
    }

    Admin admin() {
        return admin;
    }

    /** The partition of a run-keyed topic that holds every record about {@code runId}. */
    TopicPartition partitionOf(String topic, String runId) {
        int partitions = get(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic).partitions().size();
        return new TopicPartition(topic, Topics.partitionFor(runId, partitions));
    }

    /** Creates a topic with the partitions and configs of {@code like} and waits until its metadata shows it. */
    void createTopicLike(String name, Topics.Spec like) throws InterruptedException {
        get(admin.createTopics(List.of(new NewTopic(name, like.partitions(), replication).configs(like.configs()))).all());
        TopicAdmin.ensure(admin, List.of(new Topics.Spec(name, like.partitions(), like.configs())), replication,
                TopicAdmin.DEFAULT_TIMEOUT);
    }

    /** Deletes a topic the bench created; a failure only leaves it behind. */
    void deleteTopicQuietly(String name) {
        try {
            admin.deleteTopics(List.of(name)).all().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // a leftover bench topic costs disk only
        }
    }

    /** Bytes the brokers hold for {@code topic} now, summed over its partitions' replicas (Admin#describeLogDirs). */
    long topicBytesOnDisk(String topic) {
        List<Integer> ids = get(admin.describeCluster().nodes()).stream().map(Node::id).toList();
        long bytes = 0;
        for (Map<String, LogDirDescription> dirs : get(admin.describeLogDirs(ids).allDescriptions()).values()) {
            for (LogDirDescription dir : dirs.values()) {
                for (Map.Entry<TopicPartition, ReplicaInfo> e : dir.replicaInfos().entrySet()) {
                    if (e.getKey().topic().equals(topic)) {
                        bytes += e.getValue().size();
                    }
                }
            }
        }
        return bytes;
    }

    /** The topics now on the cluster. */
    Set<String> topics() {
        return get(admin.listTopics().names());
    }

    /** Waits for an admin future within {@link #ADMIN_TIMEOUT}, unwrapping its failure. */
    static <T> T get(org.apache.kafka.common.KafkaFuture<T> future) {
        try {
            return future.get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException(cause.getMessage(), cause);
        } catch (TimeoutException e) {
            throw new IllegalStateException("no answer from the cluster within " + ADMIN_TIMEOUT.toSeconds() + " s", e);
        }
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(5));
        if (broker != null) {
            broker.close();
        }
    }
}
