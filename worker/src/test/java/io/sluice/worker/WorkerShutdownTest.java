package io.sluice.worker;

import static io.sluice.worker.Tasks.script;
import static io.sluice.worker.Tasks.turn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.schemas.Grant;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Status;
import io.sluice.schemas.Topics;
import io.sluice.schemas.UsageEvent;
import io.sluice.worker.execute.ExecutorRegistry;
import io.sluice.worker.execute.LeafContext;
import io.sluice.worker.execute.LeafExecutor;
import io.sluice.worker.execute.Outcome;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.ShareConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link Worker#close()} on fake clients: what happens to the leaves in flight, and how long it takes. */
class WorkerShutdownTest {

    private static final Duration AT_MOST = Duration.ofSeconds(5);
    private static final Duration SHUTDOWN_TIMEOUT = Duration.ofMillis(300);

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final MockProducer<String, byte[]> producer =
            new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    private final List<FakeShareConsumer> consumers = new CopyOnWriteArrayList<>();
    private final CountDownLatch stubbornMayEnd = new CountDownLatch(1);
    /** Ignores cancellation (until the test ends). */
    private final LeafExecutor stubborn = new LeafExecutor() {
        @Override
        public String name() {
            return "stubborn";
        }

        @Override
        public Outcome execute(LeafContext ctx) {
            ctx.beginStep(10, 5).complete(5);
            boolean ended = false;
            while (!ended) {
                try {
                    ended = stubbornMayEnd.await(AT_MOST.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    // ignored on purpose
                }
            }
            return Outcome.succeeded(null);
        }
    };
    private final KafkaClients clients = new KafkaClients() {
        @Override
        public ShareConsumer<byte[], byte[]> taskConsumer(String clientId, int maxPerPoll) {
            FakeShareConsumer consumer = new FakeShareConsumer(10_000);
            consumer.maxPerPoll = maxPerPoll;
            consumers.add(consumer);
            return consumer;
        }

        @Override
        public Consumer<String, byte[]> controlConsumer(String clientId) {
            return new IdleControlConsumer();
        }

        @Override
        public Producer<String, byte[]> producer(String clientId) {
            return producer;
        }
    };
    private final Worker worker = new Worker(WorkerConfig.of("127.0.0.1:1", "w1").withConcurrency(2)
            .withShutdownTimeout(SHUTDOWN_TIMEOUT), ExecutorRegistry.discover().with(stubborn), meters, Clock.systemUTC(), clients);

    /** An empty control topic of one partition; a poll waits as a real one would. */
    private static final class IdleControlConsumer extends MockConsumer<String, byte[]> {
        private final CountDownLatch woken = new CountDownLatch(1);

        IdleControlConsumer() {
            super("earliest");
            TopicPartition tp = new TopicPartition(Topics.CONTROL, 0);
            updatePartitions(Topics.CONTROL, List.of(new PartitionInfo(Topics.CONTROL, 0, null, null, null)));
            updateBeginningOffsets(Map.of(tp, 0L));
            updateEndOffsets(Map.of(tp, 0L));
        }

        @Override
        public ConsumerRecords<String, byte[]> poll(Duration timeout) {
            try {
                woken.await(Math.min(timeout.toMillis(), 50), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return super.poll(Duration.ZERO);
        }

        @Override
        public void wakeup() {
            woken.countDown();
            super.wakeup();
        }
    }

    @AfterEach
    void release() {
        stubbornMayEnd.countDown();
        worker.close();
    }

    private List<UsageEvent> events() {
        return producer.history().stream().filter(r -> r.topic().equals(Topics.USAGE))
                .map(r -> Json.read(r.value(), UsageEvent.class)).toList();
    }

    private static byte[] task(String path, String executor, com.fasterxml.jackson.databind.JsonNode input) {
        return Json.write(new LeafTask("r1", path, 1, Grant.UNLIMITED, null, executor, input, 0));
    }

    @Test
    void shouldCancelALeafStillRunningAfterTheTimeoutWithItsPartialUsageAndAcceptItsTask() {
        // given: a leaf in its long second turn
        worker.start();
        consumers.get(0).offer(0, task("wf/long", "simulated", script(turn(10, 7), turn(10, 10, 30_000))), 1);
        await("first step reported").atMost(AT_MOST).until(() -> events().size() == 1);

        // when
        long began = System.nanoTime();
        worker.close();
        Duration took = Duration.ofNanos(System.nanoTime() - began);

        // then: a final "cancelled" event after the partial usage, and the task accepted, not released
        assertThat(took).isGreaterThanOrEqualTo(SHUTDOWN_TIMEOUT).isLessThan(SHUTDOWN_TIMEOUT.plus(Duration.ofSeconds(1)));
        assertThat(events()).hasSize(2);
        assertThat(events().get(0).outputTokens()).isEqualTo(7);
        UsageEvent fin = events().get(1);
        assertThat(fin.isFinal()).isTrue();
        assertThat(fin.seq()).isEqualTo(2);
        assertThat(fin.status()).isEqualTo(Status.CANCELLED);
        assertThat(fin.error()).isEqualTo("worker shutting down");
        assertThat(fin.output().get("turns_completed").asInt()).isEqualTo(1);
        assertThat(consumers.get(0).acks).contains("ACCEPT 0").noneMatch(a -> a.contains("RELEASE"));
        assertThat(consumers).allSatisfy(c -> {
            assertThat(c.closed).isTrue();
            assertThat(c.violations).isEmpty();
        });
        assertThat(producer.closed()).isTrue();
        assertThat(meters.getMeters()).isEmpty();
        assertThat(worker.state()).isEqualTo(Worker.State.CLOSED);
    }

    @Test
    void shouldCloseAnIdleWorkerAtOnceAndOnlyOnce() {
        worker.start();

        long began = System.nanoTime();
        worker.close();
        worker.close();

        assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(SHUTDOWN_TIMEOUT);
        assertThat(consumers).allSatisfy(c -> assertThat(c.closed).isTrue());
        assertThat(events()).isEmpty();
    }

    @Test
    void shouldInterruptOnlyALeafThatIgnoresCancellationAndStillReturnInTime() {
        // given
        worker.start();
        consumers.get(0).offer(0, task("wf/stubborn", "stubborn", null), 1);
        await("first step reported").atMost(AT_MOST).until(() -> events().size() == 1);

        // when
        long began = System.nanoTime();
        worker.close();
        Duration took = Duration.ofNanos(System.nanoTime() - began);

        // then: the worker gave up on it after the grace, without a final event: its coordinator ends it lost when its
        // lease lapses (the task was accepted when it started, so it is not delivered again)
        assertThat(took).isGreaterThanOrEqualTo(SHUTDOWN_TIMEOUT.plus(Worker.CANCEL_GRACE))
                .isLessThan(SHUTDOWN_TIMEOUT.plus(Worker.CLOSE_MARGIN));
        assertThat(consumers.get(0).acks).containsExactly("ACCEPT 0");
        assertThat(events()).hasSize(1).noneMatch(UsageEvent::isFinal);
        assertThat(consumers).allSatisfy(c -> assertThat(c.closed).isTrue());
        assertThat(meters.getMeters()).isEmpty();
    }
}
