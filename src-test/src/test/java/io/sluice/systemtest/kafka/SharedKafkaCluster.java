package io.sluice.systemtest.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

import io.sluice.schemas.TopicAdmin;
import io.sluice.schemas.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.awaitility.Awaitility.await;

/**
 * The one {@link KafkaCluster} of a test JVM: a started {@link KafkaBackends.Backend} plus a shared admin
 * client. Closing it closes the admin client, then stops the broker (a no-op for an external cluster).
 *
 * <p>Thread-safety: all methods may be called concurrently; {@link #ensureSluiceTopics} is serialised.
 */
final class SharedKafkaCluster implements KafkaCluster, AutoCloseable {

    static final Duration DEFAULT_ADMIN_TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern LEGAL_PREFIX = Pattern.compile("[A-Za-z0-9._-]{1,200}");
    private static final Logger log = LoggerFactory.getLogger(SharedKafkaCluster.class);

    private final KafkaBackends.Backend backend;
    private final Admin admin;
    private final short replicationFactor;
    /** Random per JVM, so that ids from concurrent test JVMs on one external cluster never collide. */
    private final String jvmTag = UUID.randomUUID().toString().substring(0, 8);
    private final AtomicLong sequence = new AtomicLong();
    private final Object sluiceTopicsLock = new Object();
    private boolean sluiceTopicsEnsured; // guarded by sluiceTopicsLock

    private SharedKafkaCluster(KafkaBackends.Backend backend, Admin admin, short replicationFactor) {
        this.backend = backend;
        this.admin = admin;
        this.replicationFactor = replicationFactor;
    }

    static SharedKafkaCluster start(BrokerChoice choice) {
        long started = System.nanoTime();
        KafkaBackends.Backend backend = KafkaBackends.start(choice);
        Admin admin = null;
        try {
            admin = Admin.create(Map.of(
                    AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, backend.bootstrapServers(),
                    AdminClientConfig.CLIENT_ID_CONFIG, "sluice-systemtest-admin"));
            int brokers = admin.describeCluster().nodes().get(DEFAULT_ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).size();
            short replication = (short) Math.max(1, Math.min(3, brokers));
            log.info("Kafka for the system tests: {}, {} broker(s), replication factor {}; chosen because {}; ready in {} ms",
                    backend.description(), brokers, replication, choice.reason(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            return new SharedKafkaCluster(backend, admin, replication);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(admin, backend);
            throw new IllegalStateException("interrupted while connecting to " + backend.description(), e);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            closeQuietly(admin, backend);
            throw new IllegalStateException("cannot reach " + backend.description() + ": " + e, e);
        }
    }

    @Override
    public String bootstrapServers() {
        return backend.bootstrapServers();
    }

    @Override
    public Admin admin() {
        return admin;
    }

    @Override
    public short replicationFactor() {
        return replicationFactor;
    }

    @Override
    public String description() {
        return backend.description();
    }

    @Override
    public String uniqueRunId(String prefix) {
        if (prefix == null || !LEGAL_PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("prefix: must be 1..200 of [A-Za-z0-9._-], got '" + prefix + "'");
        }
        return prefix + "-" + jvmTag + "-" + sequence.incrementAndGet();
    }

    @Override
    public String newTopic(String prefix, int partitions, Map<String, String> configs) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions: must be at least 1, got " + partitions);
        }
        String name = uniqueRunId(prefix);
        NewTopic topic = new NewTopic(name, partitions, replicationFactor).configs(Map.copyOf(configs));
        try {
            admin.createTopics(List.of(topic)).all().get(DEFAULT_ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topic " + name, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot create topic " + name + ": " + e.getMessage(), e);
        }
        // On several brokers metadata can lag behind a successful create: wait until it shows the topic.
        await("metadata shows topic " + name)
                .atMost(DEFAULT_ADMIN_TIMEOUT)
                .pollDelay(Duration.ZERO)
                .ignoreExceptionsInstanceOf(ExecutionException.class)
                .until(() -> admin.describeTopics(Set.of(name)).allTopicNames()
                        .get(DEFAULT_ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                        .get(name).partitions().size() == partitions);
        return name;
    }

    @Override
    public void ensureSluiceTopics() {
        synchronized (sluiceTopicsLock) {
            if (sluiceTopicsEnsured) {
                return;
            }
            try {
                List<String> created = TopicAdmin.ensure(admin, Topics.all(), replicationFactor, DEFAULT_ADMIN_TIMEOUT);
                log.info("Sluice topics ensured; created {}", created);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while creating the Sluice topics", e);
            }
            sluiceTopicsEnsured = true;
        }
    }

    /** Closes the admin client, then stops the broker; called once, when the test JVM's tests are done. */
    @Override
    public void close() {
        log.info("stopping Kafka for the system tests: {}", backend.description());
        try {
            admin.close(Duration.ofSeconds(10));
        } finally {
            backend.close();
        }
    }

    private static void closeQuietly(Admin admin, KafkaBackends.Backend backend) {
        try {
            if (admin != null) {
                admin.close(Duration.ofSeconds(5));
            }
        } finally {
            try {
                backend.close();
            } catch (RuntimeException e) {
                log.warn("could not stop {}", backend.description(), e);
            }
        }
    }

    @Override
    public String toString() {
        return "KafkaCluster[" + backend.description() + "]";
    }
}
