package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

class WorkerConfigTest {

    private final WorkerConfig base = WorkerConfig.of("127.0.0.1:9092", "w1");

    @Test
    void shouldApplyTheDefaults() {
        assertThat(base).isEqualTo(new WorkerConfig("127.0.0.1:9092", WorkerConfig.DEFAULT_GROUP_ID, "w1",
                WorkerConfig.DEFAULT_CONCURRENCY, WorkerConfig.DEFAULT_LOCK_DURATION, WorkerConfig.DEFAULT_POLL_TIMEOUT,
                WorkerConfig.DEFAULT_SHUTDOWN_TIMEOUT, WorkerConfig.DEFAULT_DELIVERY_LIMIT, Map.of()));
        assertThat(base.groupId()).isEqualTo("sluice-workers");
        assertThat(base.concurrency()).isEqualTo(64);
    }

    @Test
    void shouldChangeExactlyOneFieldPerWither() {
        assertThat(base.withGroupId("g")).isEqualTo(new WorkerConfig(base.bootstrapServers(), "g", base.workerId(),
                base.concurrency(), base.lockDuration(), base.pollTimeout(), base.shutdownTimeout(), base.deliveryLimit(),
                base.clientProperties()));
        assertThat(base.withConcurrency(9)).isEqualTo(new WorkerConfig(base.bootstrapServers(), base.groupId(),
                base.workerId(), 9, base.lockDuration(), base.pollTimeout(), base.shutdownTimeout(), base.deliveryLimit(),
                base.clientProperties()));
        assertThat(base.withLockDuration(Duration.ofSeconds(20))).isEqualTo(new WorkerConfig(base.bootstrapServers(),
                base.groupId(), base.workerId(), base.concurrency(), Duration.ofSeconds(20), base.pollTimeout(),
                base.shutdownTimeout(), base.deliveryLimit(), base.clientProperties()));
        assertThat(base.withPollTimeout(Duration.ofMillis(5))).isEqualTo(new WorkerConfig(base.bootstrapServers(),
                base.groupId(), base.workerId(), base.concurrency(), base.lockDuration(), Duration.ofMillis(5),
                base.shutdownTimeout(), base.deliveryLimit(), base.clientProperties()));
        assertThat(base.withShutdownTimeout(Duration.ZERO)).isEqualTo(new WorkerConfig(base.bootstrapServers(),
                base.groupId(), base.workerId(), base.concurrency(), base.lockDuration(), base.pollTimeout(), Duration.ZERO,
                base.deliveryLimit(), base.clientProperties()));
        assertThat(base.withDeliveryLimit(3)).isEqualTo(new WorkerConfig(base.bootstrapServers(), base.groupId(),
                base.workerId(), base.concurrency(), base.lockDuration(), base.pollTimeout(), base.shutdownTimeout(), 3,
                base.clientProperties()));
        assertThat(base.withClientProperties(Map.of("a", "b"))).isEqualTo(new WorkerConfig(base.bootstrapServers(),
                base.groupId(), base.workerId(), base.concurrency(), base.lockDuration(), base.pollTimeout(),
                base.shutdownTimeout(), base.deliveryLimit(), Map.of("a", "b")));
        assertThat(base.name()).isEqualTo(base.workerId());
        assertThat(base.withName("host-1").name()).isEqualTo("host-1");
        assertThat(base.withName("host-1").withConcurrency(3).name()).isEqualTo("host-1");
    }

    @Test
    void shouldNameTheFieldOfEveryInvalidValue() {
        assertThatThrownBy(() -> WorkerConfig.of(" ", "w")).hasMessage("bootstrapServers: must not be blank");
        assertThatThrownBy(() -> WorkerConfig.of("b", null)).hasMessage("workerId: must not be blank");
        assertThatThrownBy(() -> base.withGroupId("")).hasMessage("groupId: must not be blank");
        assertThatThrownBy(() -> base.withName(" ")).hasMessage("name: must not be blank");
        assertThatThrownBy(() -> base.withConcurrency(0)).hasMessage("concurrency: must be 1..4096, got 0");
        assertThatThrownBy(() -> base.withConcurrency(4097)).hasMessage("concurrency: must be 1..4096, got 4097");
        assertThatThrownBy(() -> base.withLockDuration(Duration.ofMillis(10)))
                .hasMessage("lockDuration: must be >= PT1S, got PT0.01S");
        assertThatThrownBy(() -> base.withPollTimeout(null)).hasMessage("pollTimeout: required");
        assertThatThrownBy(() -> base.withShutdownTimeout(Duration.ofSeconds(-1)))
                .hasMessage("shutdownTimeout: must be >= PT0S, got PT-1S");
        assertThatThrownBy(() -> base.withDeliveryLimit(11)).hasMessage("deliveryLimit: must be 2..10, got 11");
        Map<String, String> withNull = new HashMap<>();
        withNull.put("a", null);
        assertThatThrownBy(() -> base.withClientProperties(withNull)).hasMessage("clientProperties: null key or value (a=null)");
    }

    @Test
    void shouldCopyTheClientProperties() {
        Map<String, String> props = new HashMap<>(Map.of("a", "b"));
        WorkerConfig c = base.withClientProperties(props);

        props.put("c", "d");

        assertThat(c.clientProperties()).containsOnlyKeys("a");
    }
}
