package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import io.sluice.schemas.Halt;
import io.sluice.schemas.Json;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.Status;
import io.sluice.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.internals.AutoOffsetResetStrategy;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The halt watcher survives every record of the control topic: what is not a halt is dead-lettered and ignored, and
 * the halts after it are still followed. Only an error that retrying cannot help stops it, and then it says so.
 */
class HaltWatcherTest {

    private static final TopicPartition CONTROL = new TopicPartition(Topics.CONTROL, 0);

    private final MockConsumer<String, byte[]> consumer = new MockConsumer<>(AutoOffsetResetStrategy.EARLIEST.name());
    private final Halts halts = new Halts();
    private final List<Halt> followed = new CopyOnWriteArrayList<>();
    private final FakeSink sink = new FakeSink();
    private final AtomicReference<Throwable> death = new AtomicReference<>();
    private final HaltWatcher watcher = new HaltWatcher(consumer, halts, followed::add, sink, death::set,
            Clock.systemUTC(), Duration.ofMillis(20));
    private Thread thread;

    @AfterEach
    void stop() throws InterruptedException {
        watcher.close();
        if (thread != null) {
            thread.join(5_000);
        }
    }

    private void start(int records) {
        Node node = new Node(1, "localhost", 9092);
        consumer.updatePartitions(Topics.CONTROL, List.of(new PartitionInfo(Topics.CONTROL, 0, node, new Node[] {node},
                new Node[] {node})));
        consumer.updateBeginningOffsets(Map.of(CONTROL, 0L));
        consumer.updateEndOffsets(Map.of(CONTROL, (long) records));
        thread = new Thread(watcher, "test-halts");
        thread.start();
    }

    private long offset;

    private void deliver(String key, String value) {
        long at = offset++;
        consumer.schedulePollTask(() -> consumer.addRecord(new ConsumerRecord<>(Topics.CONTROL, 0, at, key,
                value == null ? null : value.getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void shouldDeadLetterWhatIsNoHaltAndFollowTheHaltsAfterIt() throws InterruptedException {
        // given: the records that once killed every worker's watcher (and made new workers fail to start)
        Halt real = new Halt("r1", "w/b", Status.CANCELLED, Status.BUDGET_EXCEEDED, "w/b: max_tokens 10 exhausted", 5);
        deliver("r1|w/a", "null");
        deliver("r1|w/a", "{not json");
        deliver("r1|w/a", Json.writeString(new Halt("r1", "w/a", Status.SUCCEEDED, "forged", 5)));
        deliver("r1|w/a", Json.writeString(new Halt("r1", "w/a", Status.LOST, "forged", 5)));
        deliver("r2|w", Json.writeString(new Halt("r1", "w", Status.CANCELLED, "under another key", 5)));
        deliver(null, Json.writeString(real));
        deliver(real.key(), Json.writeString(real));

        // when
        start(7);

        // then: caught up, the real halt followed, each bad record dead-lettered with where it was and why
        assertThat(watcher.awaitCaughtUp(Duration.ofSeconds(5))).isTrue();
        assertThat(followed).containsExactly(real);
        assertThat(halts.covering("r1", "w/b/x")).contains(real);
        assertThat(halts.covering("r1", "w/a")).isEmpty();
        List<Rejection> dead = sink.rejections;
        assertThat(dead).hasSize(6).allSatisfy(r -> {
            assertThat(r.sourceTopic()).isEqualTo(Topics.CONTROL);
            assertThat(r.kind()).isEqualTo("halt");
        });
        assertThat(dead).extracting(Rejection::offset).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
        assertThat(dead.get(0).errors()).containsExactly("not a valid Halt: payload: must be an object, got null");
        assertThat(dead.get(2).errors()).containsExactly(
                "not a valid Halt: status: must be \"cancelled\" or \"timed_out\", got \"succeeded\"");
        assertThat(dead.get(3).errors()).containsExactly(
                "not a valid Halt: status: must be \"cancelled\" or \"timed_out\", got \"lost\"");
        assertThat(dead.get(4).errors()).containsExactly("key: 'r2|w' is not the halt's run and path 'r1|w'");
        assertThat(dead.get(5).errors()).containsExactly("key: a halt is keyed by its run and path (run|path), got none");
        assertThat(watcher.isAlive()).isTrue();
        assertThat(death.get()).isNull();
    }

    @Test
    void shouldForgetAHaltOnItsTombstone() throws InterruptedException {
        // given
        Halt real = new Halt("r1", "w", Status.CANCELLED, "w: max_tokens 10 exhausted", 5);
        deliver(real.key(), Json.writeString(real));
        deliver(real.key(), null);

        // when
        start(2);

        // then
        assertThat(watcher.awaitCaughtUp(Duration.ofSeconds(5))).isTrue();
        assertThat(halts.hasRun("r1")).isFalse();
        assertThat(sink.rejections).isEmpty();
    }

    @Test
    void shouldStopAndSaySoOnAnErrorRetryingCannotHelp() {
        // given
        start(0);
        consumer.setPollException(new SaslAuthenticationException("bad password"));

        // when / then
        await().atMost(Duration.ofSeconds(5)).until(() -> death.get() != null);
        assertThat(death.get()).isInstanceOf(SaslAuthenticationException.class);
        await().atMost(Duration.ofSeconds(5)).until(() -> !watcher.isAlive());
    }
}
