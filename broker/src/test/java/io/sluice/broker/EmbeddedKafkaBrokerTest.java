package io.sluice.broker;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.utils.Exit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Starts real in-process brokers (about 2 s each). */
class EmbeddedKafkaBrokerTest {

    @Test
    void shouldServeClientsGuardTheJvmAndDeleteItsDataOnClose() throws Exception {
        // given
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start();
        Path dataDir = broker.dataDir();
        try {
            // then: it answers on loopback
            assertThat(broker.bootstrapServers()).matches("127\\.0\\.0\\.1:\\d+");
            assertThat(dataDir).isDirectory();
            try (Admin admin = admin(broker)) {
                assertThat(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)).hasSize(1);
            }
            // and: a fatal broker error cannot end the host JVM (if the guard were missing, this test's JVM would die)
            assertThatThrownBy(() -> Exit.exit(1))
                    .isInstanceOf(EmbeddedKafkaBroker.BrokerFatalException.class)
                    .hasMessageContaining("status 1");
            assertThatThrownBy(() -> Exit.halt(1, "test"))
                    .isInstanceOf(EmbeddedKafkaBroker.BrokerFatalException.class)
                    .hasMessageContaining("test");
        } finally {
            // when
            broker.close();
        }

        // then
        assertThat(dataDir).doesNotExist();
        assertThatCode(broker::close).as("close is idempotent").doesNotThrowAnyException();
    }

    @Test
    void shouldDeleteAGivenDataDirOnCloseUnlessToldToKeepIt(@TempDir Path tmp) {
        // given
        Path dir = tmp.resolve("discarded");

        // when
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(EmbeddedBrokerConfig.defaults().withDataDir(dir, false))) {
            assertThat(broker.dataDir()).isEqualTo(dir).isDirectory();
        }

        // then
        assertThat(dir).doesNotExist();
    }

    @Test
    void shouldKeepDataAcrossRestartWhenAskedTo(@TempDir Path tmp) throws Exception {
        // given: a broker on a kept data dir with a topic
        Path dir = tmp.resolve("kept");
        EmbeddedBrokerConfig config = EmbeddedBrokerConfig.defaults().withDataDir(dir, true);
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(config); Admin admin = admin(broker)) {
            admin.createTopics(List.of(new NewTopic("kept-topic", 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        assertThat(dir).isDirectory();
        assertThat(Files.readString(dir.resolve("cluster.id"))).isNotBlank();

        // when: a new broker starts on the same directory
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(config); Admin admin = admin(broker)) {
            // then
            assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).contains("kept-topic");
        }
        assertThat(dir).isDirectory();
    }

    @Test
    void shouldReportAStartFailureAndCleanUp(@TempDir Path tmp) {
        // given: an override the broker rejects
        Path dir = tmp.resolve("failed");
        EmbeddedBrokerConfig config = EmbeddedBrokerConfig.defaults().withDataDir(dir, false)
                .withOverrides(Map.of("num.partitions", "not-a-number"));

        // when / then
        assertThatThrownBy(() -> EmbeddedKafkaBroker.start(config))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("failed to start");
        assertThat(dir).doesNotExist();
    }

    private static Admin admin(EmbeddedKafkaBroker broker) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
    }
}
