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
    private final List<Long> declined = new CopyOnWriteArrayList<>();
    private final Lane.TaskRunner runner = new Lane.TaskRunner() {
        @Override
        public CompletableFuture<Disposition> start(ConsumerRecord<byte[], byte[]> record) {
            return launch(record);
        }

        @Override
        public Disposition decline(ConsumerRecord<byte[], byte[]> record, String reason) {
            assertThat(reason).isEqualTo(Lane.NO_SLOT);
            declined.add(record.offset());
            return Disposition.ACCEPT;
        }
    };
    private final Lane lane = new Lane(1, "w1", consumer, new Deliveries(), runner, Duration.ofMillis(20),
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
    void shouldFinishAndAcceptItsRunningTaskWhenStoppedThenCloseTheConsumer() throws InterruptedException {
        // given
        consumer.offer(0);
        consumer.offer(1);
        thread.start();
        await("launched").atMost(AT_MOST).until(() -> launched.contains(0L));

        // when: the worker stops fetching, then the leaf ends (e.g. cancelled by the shutdown, with a final event)
        lane.stopFetching();
        assertThat(lane.isBusy()).isTrue();
        execution(0).complete(Disposition.ACCEPT);

        // then: accepted and committed, nothing released, nothing more taken
        assertThat(lane.awaitExit(AT_MOST.toNanos())).isTrue();
        assertThat(consumer.acks).contains("ACCEPT 0").noneMatch(a -> a.contains("RELEASE"));
        assertThat(consumer.closed).isTrue();
        assertThat(launched).containsExactly(0L);
    }

    @Test
    void shouldEndASurplusRecordWithoutRunningItRatherThanReleaseIt() {
        // given: a poll that returns two records
        consumer.maxPerPoll = 2;
        consumer.offer(0);
        consumer.offer(1);

        // when
        thread.start();

        // then: the lane runs one and ends the other at once (a released one would be reported lost)
        await("surplus accepted").atMost(AT_MOST).until(() -> consumer.acks.contains("ACCEPT 1"));
        assertThat(launched).containsExactly(0L);
        assertThat(declined).containsExactly(1L);
        assertThat(consumer.acks).noneMatch(a -> a.contains("RELEASE"));
        execution(0).complete(Disposition.ACCEPT);
        await("accepted").atMost(AT_MOST).until(() -> consumer.acks.contains("ACCEPT 0"));
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
        // its second delivery goes to the handler again, which reports the attempt lost
        await("delivered again").atMost(AT_MOST).until(() -> launched.size() == 2);
    }
}
