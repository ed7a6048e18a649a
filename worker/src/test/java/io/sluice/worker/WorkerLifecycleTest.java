package io.sluice.worker;

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
        public ShareConsumer<byte[], byte[]> taskConsumer(String clientId) {
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
}
