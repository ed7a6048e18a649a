package io.sluice.worker;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.sluice.schemas.Topics;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.internals.AutoOffsetResetStrategy;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SaslAuthenticationException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.worker.execute.ExecutorRegistry;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ShareConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class WorkerLifecycleTest {

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final MockProducer<String, byte[]> producer = new MockProducer<>();
    private final KafkaClients refusing = new KafkaClients() {
        @Override
        public ShareConsumer<byte[], byte[]> taskConsumer(String clientId, int maxPerPoll) {
            throw new AssertionError("not reached");
        }

        @Override
        public Consumer<String, byte[]> controlConsumer(String clientId) {
            throw new ConfigException("security.protocol", "PLAINTXT", "not a protocol");
        }

        @Override
        public Producer<String, byte[]> producer(String clientId) {
            return producer;
        }
    };

    private Worker worker() {
        return new Worker(WorkerConfig.of("127.0.0.1:1", "w1"), ExecutorRegistry.discover(), meters, Clock.systemUTC(), refusing);
    }

    @Test
    void shouldCloseANeverStartedWorkerAndRefuseToStartItAfterwards() {
        Worker worker = worker();

        worker.close();
        worker.close();

        assertThat(worker.state()).isEqualTo(Worker.State.CLOSED);
        assertThatThrownBy(worker::start).isInstanceOf(IllegalStateException.class)
                .hasMessage("worker w1: cannot start when CLOSED");
    }

    @Test
    void shouldCloseWhatItOpenedWhenStartFails() {
        Worker worker = worker();

        assertThatThrownBy(worker::start).isInstanceOf(ConfigException.class).hasMessageContaining("security.protocol");

        assertThat(worker.state()).isEqualTo(Worker.State.CLOSED);
        assertThat(producer.closed()).isTrue();
        assertThat(meters.getMeters()).isEmpty();
    }

    @Test
    void shouldFailAndSaySoWhenItsTaskFeedStopsOnItsOwn() {
        // given: a task feed whose polls fail as with a wrong password (once retried forever; a lane then died silently)
        MockConsumer<String, byte[]> control = new MockConsumer<>(AutoOffsetResetStrategy.EARLIEST.name());
        Node node = new Node(1, "localhost", 9092);
        control.updatePartitions(Topics.CONTROL, List.of(new PartitionInfo(Topics.CONTROL, 0, node, new Node[] {node},
                new Node[] {node})));
        control.updateBeginningOffsets(Map.of(new TopicPartition(Topics.CONTROL, 0), 0L));
        control.updateEndOffsets(Map.of(new TopicPartition(Topics.CONTROL, 0), 0L));
        KafkaClients failingFeed = new KafkaClients() {
            @Override
            public ShareConsumer<byte[], byte[]> taskConsumer(String clientId, int maxPerPoll) {
                FakeShareConsumer c = new FakeShareConsumer(30_000);
                c.pollFailure = new SaslAuthenticationException("Authentication failed: invalid credentials");
                return c;
            }

            @Override
            public Consumer<String, byte[]> controlConsumer(String clientId) {
                return control;
            }

            @Override
            public Producer<String, byte[]> producer(String clientId) {
                return producer;
            }
        };
        Worker worker = new Worker(WorkerConfig.of("127.0.0.1:1", "w1").withConcurrency(2), ExecutorRegistry.discover(),
                meters, Clock.systemUTC(), failingFeed);

        // when
        worker.start();

        // then: it shuts down and ends FAILED, so that its process exits non-zero
        assertThat(worker.terminated()).succeedsWithin(Duration.ofSeconds(20)).isEqualTo(Worker.State.FAILED);
        assertThat(worker.state()).isEqualTo(Worker.State.FAILED);
        assertThat(worker.failure()).isInstanceOf(SaslAuthenticationException.class);
        assertThat(meters.getMeters()).isEmpty();
    }
}
