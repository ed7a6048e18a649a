package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.schemas.Topics;
import org.apache.kafka.common.KafkaException;
import org.junit.jupiter.api.Test;

/** Lifecycle transitions are compare-and-set and FAILED is terminal; what the loop opened it closes. */
class CoordinatorLifecycleTest {

    @Test
    void shouldStayFailedWhenClosedAfterItsLoopFailed() {
        // given: a client setting the Kafka clients refuse, so the loop fails as it starts
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Coordinator c = new Coordinator(CoordinatorConfig.of("127.0.0.1:1", "c1")
                .withClientProperties(Map.of("security.protocol", "PLAINTXT")), registry).start();

        // when
        assertThat(c.loopExit()).succeedsWithin(Duration.ofSeconds(10)).isEqualTo(Coordinator.State.FAILED);
        c.close();

        // then: a process exits non-zero on it (close() once overwrote FAILED with CLOSED, and it exited 0)
        assertThat(c.state()).isEqualTo(Coordinator.State.FAILED);
        assertThat(c.failure()).isNotNull();
        assertThat(registry.getMeters()).isEmpty();
    }

    @Test
    void shouldCloseItsProducerWhenInitTransactionsFails() {
        // given
        LoopHarness loop = new LoopHarness();
        loop.producer.initTransactionException = new KafkaException("cannot reach the transaction coordinator");

        // when
        loop.start();

        // then: the loop ends, and the producer it made is closed, not leaked
        await().atMost(Duration.ofSeconds(10)).until(() -> !loop.loopAlive());
        assertThat(loop.producer.closed()).isTrue();
        assertThat(loop.sent(Topics.TASKS)).isEmpty();
        loop.close();
    }
}
