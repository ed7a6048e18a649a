package io.sluice.systemtest.kafka;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import io.sluice.systemtest.kafka.BrokerChoice.Kind;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BrokerChoiceTest {

    private final AtomicInteger dockerProbes = new AtomicInteger();

    private BooleanSupplier docker(boolean available) {
        return () -> {
            dockerProbes.incrementAndGet();
            return available;
        };
    }

    @Test
    void shouldUseExternalClusterWhenEnvironmentNamesOneWithoutProbingDocker() {
        // when
        BrokerChoice choice = BrokerChoice.decide(" kafka-1:9092,kafka-2:9092 ", "embedded", docker(true));

        // then
        assertThat(choice.kind()).isEqualTo(Kind.EXTERNAL);
        assertThat(choice.externalBootstrapServers()).isEqualTo("kafka-1:9092,kafka-2:9092");
        assertThat(choice.reason()).contains("SLUICE_BOOTSTRAP_SERVERS");
        assertThat(dockerProbes).hasValue(0);
    }

    @Test
    void shouldIgnoreBlankEnvironmentValue() {
        // when
        BrokerChoice choice = BrokerChoice.decide("  ", null, docker(false));

        // then
        assertThat(choice.kind()).isEqualTo(Kind.EMBEDDED);
    }

    @Test
    void shouldUseTestcontainersWhenAskedEvenWithoutProbingDocker() {
        // when
        BrokerChoice choice = BrokerChoice.decide(null, "Testcontainers", docker(false));

        // then
        assertThat(choice.kind()).isEqualTo(Kind.TESTCONTAINERS);
        assertThat(dockerProbes).hasValue(0);
    }

    @Test
    void shouldUseEmbeddedBrokerWhenAskedEvenWithDocker() {
        // when
        BrokerChoice choice = BrokerChoice.decide(null, "embedded", docker(true));

        // then
        assertThat(choice.kind()).isEqualTo(Kind.EMBEDDED);
        assertThat(dockerProbes).hasValue(0);
    }

    @Test
    void shouldPreferDockerByDefaultWhenItAnswers() {
        // when
        BrokerChoice choice = BrokerChoice.decide(null, null, docker(true));

        // then
        assertThat(choice.kind()).isEqualTo(Kind.TESTCONTAINERS);
        assertThat(choice.reason()).contains("Docker");
        assertThat(dockerProbes).hasValue(1);
    }

    @Test
    void shouldFallBackToEmbeddedBrokerWithoutDocker() {
        // when
        BrokerChoice choice = BrokerChoice.decide(null, "auto", docker(false));

        // then
        assertThat(choice.kind()).isEqualTo(Kind.EMBEDDED);
        assertThat(choice.externalBootstrapServers()).isNull();
    }

    @Test
    void shouldNameThePropertyWhenTheRequestedBrokerIsUnknown() {
        assertThatThrownBy(() -> BrokerChoice.decide(null, "zookeeper", docker(true)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("sluice.test.broker:")
                .hasMessageContaining("zookeeper");
    }

    @Test
    void shouldRequireBootstrapServersForExternalOnly() {
        assertThatThrownBy(() -> new BrokerChoice(Kind.EXTERNAL, null, "reason"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("externalBootstrapServers:");
        assertThatThrownBy(() -> new BrokerChoice(Kind.EMBEDDED, "127.0.0.1:9092", "reason"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("externalBootstrapServers:");
    }

    @Test
    void shouldNeverThrowFromTheDockerProbe() {
        // On this machine there is no Docker engine; elsewhere there may be one. Either way: an answer.
        boolean available = KafkaBackends.dockerAvailable();
        assertThat(available).isIn(true, false);
    }
}
