package io.sluice.broker;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EmbeddedBrokerConfigTest {

    @ParameterizedTest
    @ValueSource(ints = {-1, 65536, Integer.MIN_VALUE})
    void shouldRejectPortOutOfRangeNamingTheField(int port) {
        assertThatThrownBy(() -> new EmbeddedBrokerConfig(null, false, port, 0, Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("port:")
                .hasMessageContaining(Integer.toString(port));
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 65536})
    void shouldRejectControllerPortOutOfRangeNamingTheField(int controllerPort) {
        assertThatThrownBy(() -> new EmbeddedBrokerConfig(null, false, 0, controllerPort, Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("controllerPort:")
                .hasMessageContaining(Integer.toString(controllerPort));
    }

    @Test
    void shouldRejectControllerPortEqualToClientPort() {
        assertThatThrownBy(() -> new EmbeddedBrokerConfig(null, false, 9092, 9092, Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("controllerPort:")
                .hasMessageContaining("9092");
    }

    @Test
    void shouldAcceptBothPortsZeroMeaningFreePorts() {
        EmbeddedBrokerConfig config = new EmbeddedBrokerConfig(null, false, 0, 0, null);

        assertThat(config.port()).isZero();
        assertThat(config.controllerPort()).isZero();
        assertThat(config.overrides()).isEmpty();
    }

    @Test
    void shouldAcceptBoundaryPorts() {
        EmbeddedBrokerConfig config = new EmbeddedBrokerConfig(null, false, 65535, 1, Map.of());

        assertThat(config.port()).isEqualTo(65535);
        assertThat(config.controllerPort()).isEqualTo(1);
    }

    @Test
    void shouldCopyOverridesSoLaterChangesDoNotLeakIn() {
        // given
        Map<String, String> overrides = new HashMap<>(Map.of("num.partitions", "3"));

        // when
        EmbeddedBrokerConfig config = EmbeddedBrokerConfig.defaults().withOverrides(overrides);
        overrides.put("log.retention.ms", "1");

        // then
        assertThat(config.overrides()).containsExactly(Map.entry("num.partitions", "3"));
        assertThatThrownBy(() -> config.overrides().put("x", "y")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void shouldKeepOtherFieldsInWithers() {
        // given
        Path dir = Path.of("target", "some-dir");

        // when
        EmbeddedBrokerConfig config = EmbeddedBrokerConfig.defaults()
                .withDataDir(dir, true)
                .withPort(9092)
                .withOverrides(Map.of("num.partitions", "2"));

        // then
        assertThat(config).isEqualTo(new EmbeddedBrokerConfig(dir, true, 9092, 0, Map.of("num.partitions", "2")));
    }

    @Test
    void shouldValidateInWithersToo() {
        assertThatThrownBy(() -> EmbeddedBrokerConfig.defaults().withPort(70000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("port:");
    }
}
