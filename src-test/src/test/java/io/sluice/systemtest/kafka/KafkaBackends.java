package io.sluice.systemtest.kafka;

import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import io.sluice.broker.EmbeddedBrokerConfig;
import io.sluice.broker.EmbeddedKafkaBroker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Starts the broker a {@link BrokerChoice} names. Testcontainers classes are touched only on the
 * Testcontainers path and by the Docker probe, which never throws.
 */
final class KafkaBackends {

    /** The image of the Testcontainers path: the same Kafka release as the in-process broker. */
    static final String DEFAULT_KAFKA_IMAGE = "apache/kafka:4.3.1";
    /** System property overriding {@link #DEFAULT_KAFKA_IMAGE}. */
    static final String PROPERTY_IMAGE = "sluice.test.kafkaImage";
    /** System property: the directory under which the in-process broker keeps its data (the build's target/). */
    static final String PROPERTY_WORK_DIR = "sluice.test.workDir";

    private static final String DOCKER_STRATEGY_LOGGER = "org.testcontainers.dockerclient";
    private static final Logger log = LoggerFactory.getLogger(KafkaBackends.class);

    private KafkaBackends() {
    }

    /** A running broker (or an external cluster) and how to let go of it. */
    record Backend(String bootstrapServers, String description, Runnable stopper) implements AutoCloseable {
        @Override
        public void close() {
            stopper.run();
        }
    }

    static Backend start(BrokerChoice choice) {
        return switch (choice.kind()) {
            case EXTERNAL -> new Backend(choice.externalBootstrapServers(),
                    "external cluster at " + choice.externalBootstrapServers(), () -> { }); // not ours to stop
            case TESTCONTAINERS -> startContainer();
            case EMBEDDED -> startEmbedded();
        };
    }

    /**
     * Whether a Docker engine answers. Never throws: a missing engine, a broken configuration or even missing
     * Testcontainers classes all mean "no", so the tests fall back to the in-process broker.
     */
    static boolean dockerAvailable() {
        // Without an engine (the normal case on the dev machines) Testcontainers logs an ERROR listing every
        // strategy it tried; mute it for the probe only, so -Dsluice.test.broker=testcontainers still shows it.
        Logger strategyLogger = LoggerFactory.getLogger(DOCKER_STRATEGY_LOGGER);
        ch.qos.logback.classic.Level saved = null;
        if (strategyLogger instanceof ch.qos.logback.classic.Logger logback) {
            saved = logback.getLevel();
            logback.setLevel(ch.qos.logback.classic.Level.OFF);
        }
        try {
            boolean available = DockerClientFactory.instance().isDockerAvailable();
            if (!available) {
                log.info("no Docker engine found (run with -D{}=testcontainers to see why)", BrokerChoice.PROPERTY_BROKER);
            }
            return available;
        } catch (RuntimeException | LinkageError e) {
            log.info("Docker probe failed ({}); treating Docker as unavailable", e.toString());
            return false;
        } finally {
            if (strategyLogger instanceof ch.qos.logback.classic.Logger logback) {
                logback.setLevel(saved);
            }
        }
    }

    private static Backend startContainer() {
        String image = System.getProperty(PROPERTY_IMAGE, DEFAULT_KAFKA_IMAGE);
        // The image formats a single combined node; share groups are on by default from 4.2, but their state
        // topic needs replication factor 1 here or share consumers silently receive nothing.
        KafkaContainer container = new KafkaContainer(DockerImageName.parse(image).asCompatibleSubstituteFor("apache/kafka"))
                .withEnv(Map.of(
                        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1",
                        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1",
                        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1",
                        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR", "1",
                        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR", "1",
                        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0",
                        "KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false",
                        // Compaction that shows within a test, as on the in-process broker.
                        "KAFKA_LOG_CLEANER_BACKOFF_MS", "500",
                        "KAFKA_LOG_CLEANER_DEDUPE_BUFFER_SIZE", "2097152"));
        container.start();
        return new Backend(container.getBootstrapServers(),
                "Testcontainers " + image + " at " + container.getBootstrapServers(), container::stop);
    }

    private static Backend startEmbedded() {
        String workDir = System.getProperty(PROPERTY_WORK_DIR, System.getProperty("java.io.tmpdir"));
        // Under the build's target/ so that a killed JVM leaves nothing outside it; deleted on close.
        Path dataDir = Path.of(workDir, "sluice-kafka-" + UUID.randomUUID());
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(EmbeddedBrokerConfig.defaults().withDataDir(dataDir, false));
        return new Backend(broker.bootstrapServers(),
                "in-process broker at " + broker.bootstrapServers() + " (data " + dataDir + ")", broker::close);
    }
}
