package io.sluice.worker;

import static io.sluice.worker.Tasks.script;
import static io.sluice.worker.Tasks.turn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.schemas.Grant;
import io.sluice.schemas.Heartbeat;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Status;
import io.sluice.schemas.UsageEvent;
import io.sluice.worker.execute.ExecutorRegistry;
import io.sluice.worker.execute.LeafContext;
import io.sluice.worker.execute.LeafExecutor;
import io.sluice.worker.execute.Outcome;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The task feed with the real task handler and runtime on a fake share consumer: credit-based fetching, ownership
 * taken by announcing and accepting before running, and what a redelivered, stale or refused record leads to.
 */
class TaskFeedTest {

    private static final Duration AT_MOST = Duration.ofSeconds(5);

    private final FakeShareConsumer consumer = new FakeShareConsumer(60);
    private final FakeSink sink = new FakeSink();
    private final WorkerMetrics metrics = new WorkerMetrics(new SimpleMeterRegistry(), "w1");
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final Map<String, AtomicInteger> executions = new ConcurrentHashMap<>();
    /** Executions that began before their record's acceptance was committed. */
    private final List<String> startedUnaccepted = new CopyOnWriteArrayList<>();
    private final CountDownLatch finish = new CountDownLatch(1);
    private final List<Throwable> deaths = new CopyOnWriteArrayList<>();
    /** One step, then it waits for the test. The path of the task at offset N is wf/tN. */
    private final LeafExecutor gated = new LeafExecutor() {
        @Override
        public String name() {
            return "gated";
        }

        @Override
        public Outcome execute(LeafContext ctx) throws InterruptedException {
            String path = ctx.task().path();
            executions.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            if (!consumer.acks.contains("ACCEPT " + path.substring("wf/t".length()))) {
                startedUnaccepted.add(path);
            }
            ctx.beginStep(10, 5).complete(5);
            if (!finish.await(AT_MOST.toMillis(), TimeUnit.MILLISECONDS)) {
                return Outcome.failed(null, "the test never let it finish");
            }
            return Outcome.succeeded(Json.mapper().createObjectNode().put("ok", true));
        }
    };
    private final LeafRuntime runtime = new LeafRuntime("w1", sink, Clock.systemUTC(), metrics, timer, AT_MOST);
    private final TaskHandler handler = new TaskHandler("w1", ExecutorRegistry.of(gated), runtime, sink, new Halts(),
            new RunningLeaves(), metrics, Clock.systemUTC(), 5, () -> false, Runnable::run);
    private Slots slots;
    private TaskFeed feed;
    private Thread thread;

    private void startFeed(int concurrency, int batch, Duration lock) {
        consumer.maxPerPoll = batch;
        slots = new Slots(concurrency);
        feed = new TaskFeed("w1", consumer, handler, slots, pool, sink, Clock.systemUTC(), Duration.ofMillis(20), lock,
                AT_MOST, batch, deaths::add);
        thread = new Thread(feed, "sluice-worker-feed-1");
        thread.start();
    }

    private void offer(long offset, int deliveryCount) {
        consumer.offer(offset, Json.write(new LeafTask("r1", "wf/t" + offset, 1, Grant.UNLIMITED, null, "gated",
                script(turn(10, 5)), 0)), deliveryCount);
    }

    private int executed(long offset) {
        AtomicInteger n = executions.get("wf/t" + offset);
        return n == null ? 0 : n.get();
    }

    private List<UsageEvent> finals() {
        return sink.events.stream().filter(UsageEvent::isFinal).toList();
    }

    @AfterEach
    void stop() throws InterruptedException {
        finish.countDown();
        if (feed != null) {
            feed.stopFetching();
            thread.join(AT_MOST.toMillis());
            assertThat(thread.isAlive()).isFalse();
        }
        pool.shutdownNow();
        timer.shutdownNow();
        assertThat(consumer.violations).isEmpty();
        assertThat(deaths).isEmpty();
    }

    @Test
    void shouldAnnounceAndAcceptEveryTaskBeforeRunningItOnceAndNeverRenew() {
        // given: a worker with 8 slots fetching 2 at a time
        startFeed(8, 2, Duration.ofSeconds(30));

        // when
        for (long o = 0; o < 5; o++) {
            offer(o, 1);
        }

        // then: all five run at once, each once, each after its record was accepted, with the attempt announced
        await("five running").atMost(AT_MOST).until(() -> executions.size() == 5);
        assertThat(executions.values()).allSatisfy(n -> assertThat(n).hasValue(1));
        assertThat(startedUnaccepted).isEmpty();
        assertThat(consumer.acks).containsExactlyInAnyOrder("ACCEPT 0", "ACCEPT 1", "ACCEPT 2", "ACCEPT 3", "ACCEPT 4");
        assertThat(sink.heartbeats).flatExtracting(Heartbeat::attempts).extracting(Heartbeat.Attempt::path)
                .containsExactlyInAnyOrder("wf/t0", "wf/t1", "wf/t2", "wf/t3", "wf/t4");
        assertThat(sink.heartbeats).allSatisfy(h -> assertThat(h.attempts()).hasSizeLessThanOrEqualTo(2));
        assertThat(slots.used()).isEqualTo(5);

        // and when they finish, their slots come back
        finish.countDown();
        await("ended").atMost(AT_MOST).until(() -> finals().size() == 5 && slots.used() == 0);
        assertThat(finals()).allSatisfy(e -> assertThat(e.status()).isEqualTo(Status.SUCCEEDED));
        assertThat(feed.accepted()).isEqualTo(5);
    }

    @Test
    void shouldNotPollWhileFewerSlotsThanABatchAreFree() {
        // given: two slots fetching two at a time, both busy
        offer(0, 1);
        offer(1, 1);
        startFeed(2, 2, Duration.ofSeconds(30));
        await("both running").atMost(AT_MOST).until(() -> executions.size() == 2);
        int polls = consumer.polls.size();

        // when: more tasks wait
        offer(2, 1);

        // then: the feed does not poll for them (it would acquire records it has no slot for) until slots are free
        await("no poll while busy").during(Duration.ofMillis(300)).atMost(AT_MOST)
                .until(() -> consumer.polls.size() == polls && executed(2) == 0);
        finish.countDown();
        await("the waiting task runs once slots are free").atMost(AT_MOST).until(() -> executed(2) == 1);
        assertThat(sink.events.stream().filter(e -> e.path().equals("wf/t2") && e.status() == Status.CANCELLED)).isEmpty();
    }

    @Test
    void shouldReportARedeliveredTaskLostAndAcceptItWithoutRunningIt() {
        // given: a task record whose earlier delivery's worker died before it accepted it
        startFeed(4, 1, Duration.ofSeconds(30));

        // when
        offer(0, 2);

        // then
        await("reported lost").atMost(AT_MOST).until(() -> consumer.acks.contains("ACCEPT 0"));
        assertThat(executed(0)).isZero();
        assertThat(sink.events).singleElement().satisfies(e -> {
            assertThat(e.status()).isEqualTo(Status.LOST);
            assertThat(e.seq()).isZero();
            assertThat(e.error()).isEqualTo("attempt 1 lost: delivery 2 found it unaccepted (its worker died or lost the "
                    + "record before accepting it)");
        });
        assertThat(sink.heartbeats).as("a lost attempt is not announced").isEmpty();
        assertThat(slots.used()).isZero();
    }

    @Test
    void shouldEndARecordHeldLongerThanHalfTheLockWithoutRunningIt() {
        // given: one slot, busy past half the (short) lock while the next record waits in the client's buffer
        startFeed(1, 1, Duration.ofMillis(200));
        offer(0, 1);
        await("running").atMost(AT_MOST).until(() -> executed(0) == 1);
        offer(1, 1);
        await("longer than half the lock").pollDelay(Duration.ofMillis(150)).atMost(AT_MOST).until(() -> true);

        // when: the slot frees
        finish.countDown();

        // then: the record that may have outlived its lock is ended cancelled, not run (the coordinator retries it)
        await("declined").atMost(AT_MOST).until(() -> consumer.acks.contains("ACCEPT 1"));
        assertThat(executed(1)).isZero();
        assertThat(sink.events.stream().filter(e -> e.path().equals("wf/t1")).toList()).singleElement().satisfies(e -> {
            assertThat(e.status()).isEqualTo(Status.CANCELLED);
            assertThat(e.error()).isEqualTo(TaskFeed.HELD_TOO_LONG);
        });
        assertThat(feed.notStarted()).isEqualTo(1);
    }

    @Test
    void shouldNotRunATaskWhoseAcceptanceWasRefused() {
        // given: the broker refuses the acknowledgements (e.g. the partition's leader changed)
        consumer.commitRefusal = new KafkaException("NOT_LEADER_OR_FOLLOWER");
        startFeed(4, 1, Duration.ofSeconds(30));

        // when
        offer(0, 1);

        // then: announced, but not run; its slot is free again (its lease lapses at the coordinator)
        await("announced and acknowledged").atMost(AT_MOST)
                .until(() -> consumer.acks.contains("ACCEPT 0") && !sink.heartbeats.isEmpty() && slots.used() == 0);
        await("never run").during(Duration.ofMillis(200)).atMost(AT_MOST).until(() -> executed(0) == 0);
        assertThat(sink.events).isEmpty();
    }

    @Test
    void shouldReleaseATaskWhoseStartCouldNotBeAnnouncedAndReportItsRedeliveryLost() {
        // given: writes fail for a while
        sink.failing = new KafkaException("broker unreachable");
        startFeed(4, 1, Duration.ofSeconds(30));

        // when
        offer(0, 1);
        await("released").atMost(AT_MOST).until(() -> consumer.acks.contains("RELEASE 0"));
        sink.failing = null;

        // then: never run; its next delivery is reported lost (each report that failed to be written, too)
        await("redelivery reported lost").atMost(AT_MOST).until(() -> consumer.acks.contains("ACCEPT 0"));
        assertThat(executed(0)).isZero();
        assertThat(finals()).isNotEmpty().extracting(UsageEvent::status).containsOnly(Status.LOST);
    }

    @Test
    void shouldCloseItsConsumerAtOnceWhenStoppedWhileItsLeavesRunOn() throws InterruptedException {
        // given
        startFeed(2, 1, Duration.ofSeconds(30));
        offer(0, 1);
        await("running").atMost(AT_MOST).until(() -> executed(0) == 1);

        // when
        feed.stopFetching();

        // then: the consumer closes holding nothing, the leaf still ends normally
        assertThat(feed.awaitExit(AT_MOST.toNanos())).isTrue();
        assertThat(consumer.closed).isTrue();
        assertThat(consumer.acks).containsExactly("ACCEPT 0");
        finish.countDown();
        await("ended").atMost(AT_MOST).until(() -> finals().size() == 1 && slots.used() == 0);
        assertThat(finals().get(0).status()).isEqualTo(Status.SUCCEEDED);
    }

    @Test
    void shouldStopAndSaySoOnAnErrorRetryingCannotPass() throws InterruptedException {
        // given
        consumer.pollFailure = new AuthenticationException("bad password");
        startFeed(2, 1, Duration.ofSeconds(30));

        // then
        assertThat(feed.awaitExit(AT_MOST.toNanos())).isTrue();
        assertThat(deaths).singleElement().isInstanceOf(AuthenticationException.class);
        deaths.clear();
        feed = null;
    }
}
