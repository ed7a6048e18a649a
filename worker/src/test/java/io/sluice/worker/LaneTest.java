package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import io.sluice.worker.LeafRuntime.Disposition;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LaneTest {

    private static final Duration AT_MOST = Duration.ofSeconds(5);

    private final FakeShareConsumer consumer = new FakeShareConsumer(60);
    /** First deliveries by offset; a redelivery gets an execution of its own. */
    private final Map<Long, CompletableFuture<Disposition>> executions = new ConcurrentHashMap<>();
    private final List<CompletableFuture<Disposition>> redeliveries = new CopyOnWriteArrayList<>();
    private final List<Long> launched = new CopyOnWriteArrayList<>();
    private final Lane lane = new Lane(1, "w1", consumer, new Deliveries(), this::launch, Duration.ofMillis(20),
            Duration.ofSeconds(30));
    private final Thread thread = new Thread(lane, "sluice-worker-poll-1");

    private CompletableFuture<Disposition> launch(ConsumerRecord<byte[], byte[]> record) {
        launched.add(record.offset());
        if (record.deliveryCount().orElse((short) 1) > 1) {
            CompletableFuture<Disposition> again = new CompletableFuture<>();
            redeliveries.add(again);
            return again;
        }
        return execution(record.offset());
    }

    private CompletableFuture<Disposition> execution(long offset) {
        return executions.computeIfAbsent(offset, o -> new CompletableFuture<>());
    }

    @AfterEach
    void stop() throws InterruptedException {
        lane.stopFetching();
        executions.values().forEach(f -> f.complete(Disposition.RELEASE));
        redeliveries.forEach(f -> f.complete(Disposition.RELEASE));
        thread.join(AT_MOST.toMillis());
        assertThat(consumer.violations).isEmpty();
    }

    @Test
    void shouldRenewARunningTaskWithoutStartingItAgainAndAcceptItOnlyWhenDone() {
        // given: a task that runs for several lock durations
        consumer.offer(0);
        thread.start();
        await("lock renewed three times").atMost(AT_MOST).until(() -> consumer.acks.stream().filter("RENEW 0"::equals).count() >= 3);
        assertThat(consumer.acks).doesNotContain("ACCEPT 0");

        // when: its final usage is written
        execution(0).complete(Disposition.ACCEPT);

        // then
        await("accepted").atMost(AT_MOST).until(() -> consumer.acks.contains("ACCEPT 0"));
        assertThat(launched).containsExactly(0L);
        assertThat(lane.renewals()).isGreaterThanOrEqualTo(3);
    }

    @Test
    void shouldNotTakeAnotherTaskWhileItsSlotIsBusy() {
        // given
        consumer.offer(0);
        consumer.offer(1);
        thread.start();
        await("first launched").atMost(AT_MOST).until(() -> launched.contains(0L));
        await("renewing").atMost(AT_MOST).until(() -> consumer.acks.contains("RENEW 0"));
        assertThat(launched).containsExactly(0L);

        // when
        execution(0).complete(Disposition.ACCEPT);

        // then
        await("second launched").atMost(AT_MOST).until(() -> launched.contains(1L));
        assertThat(consumer.acks).contains("ACCEPT 0");
    }

    @Test
    void shouldReleaseATaskAbandonedAtShutdownAndCloseTheConsumer() throws InterruptedException {
        // given
        consumer.offer(0);
        thread.start();
        await("launched").atMost(AT_MOST).until(() -> launched.contains(0L));

        // when: the worker stops fetching, then the leaf is abandoned
        lane.stopFetching();
        execution(0).complete(Disposition.RELEASE);

        // then
        assertThat(lane.awaitExit(AT_MOST.toNanos())).isTrue();
        assertThat(consumer.acks).contains("RELEASE 0").doesNotContain("ACCEPT 0");
        assertThat(consumer.closed).isTrue();
    }

    @Test
    void shouldReleaseWhatItHoldsWhenInterrupted() throws InterruptedException {
        // given
        consumer.offer(0);
        thread.start();
        await("launched").atMost(AT_MOST).until(() -> launched.contains(0L));

        // when
        thread.interrupt();

        // then: released, by acknowledgement or by the close
        assertThat(lane.awaitExit(AT_MOST.toNanos())).isTrue();
        assertThat(consumer.closed).isTrue();
        assertThat(consumer.acks).anyMatch(a -> a.equals("RELEASE 0") || a.equals("CLOSE-RELEASE 0"));
        assertThat(consumer.acks).doesNotContain("ACCEPT 0");
    }

    @Test
    void shouldReleaseATaskWhoseHandlingFailedUnexpectedly() {
        consumer.offer(0);
        thread.start();
        await("launched").atMost(AT_MOST).until(() -> launched.contains(0L));

        execution(0).completeExceptionally(new LeafRuntime.UsageWriteException("broker gone", null));

        await("released").atMost(AT_MOST).until(() -> consumer.acks.contains("RELEASE 0"));
        await("delivered again and executed again").atMost(AT_MOST).until(() -> launched.size() == 2);
    }
}
