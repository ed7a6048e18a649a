package io.sluice.worker;

import static io.sluice.worker.Tasks.script;
import static io.sluice.worker.Tasks.turn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.schemas.Grant;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Status;
import io.sluice.schemas.UsageEvent;
import io.sluice.worker.LeafRuntime.Disposition;
import io.sluice.worker.execute.ExecutorRegistry;
import io.sluice.worker.execute.LeafContext;
import io.sluice.worker.execute.LeafExecutor;
import io.sluice.worker.execute.Outcome;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Lanes with the real task handler and runtime, on fake consumers: what a redelivered task record leads to. */
class RedeliveryTest {

    private static final Duration AT_MOST = Duration.ofSeconds(5);

    private final FakeSink sink = new FakeSink();
    private final WorkerMetrics metrics = new WorkerMetrics(new SimpleMeterRegistry(), "w1");
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService pool = Executors.newFixedThreadPool(2);
    private final Deliveries deliveries = new Deliveries();
    private final AtomicInteger executions = new AtomicInteger();
    private final CountDownLatch finish = new CountDownLatch(1);
    /** One step, then it waits for the test. */
    private final LeafExecutor gated = new LeafExecutor() {
        @Override
        public String name() {
            return "gated";
        }

        @Override
        public Outcome execute(LeafContext ctx) throws InterruptedException {
            executions.incrementAndGet();
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
    private final Lane.TaskRunner runner = new Lane.TaskRunner() {
        @Override
        public CompletableFuture<Disposition> start(ConsumerRecord<byte[], byte[]> record) {
            return CompletableFuture.supplyAsync(() -> handler.handle(record), pool);
        }

        @Override
        public Disposition decline(ConsumerRecord<byte[], byte[]> record, String reason) {
            return handler.decline(record, reason);
        }
    };
    private final List<FakeShareConsumer> consumers = new ArrayList<>();
    private final List<Lane> lanes = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    private FakeShareConsumer startLane() {
        FakeShareConsumer consumer = new FakeShareConsumer(60);
        Lane lane = new Lane(lanes.size() + 1, "w1", consumer, deliveries, runner, Duration.ofMillis(20), Duration.ofSeconds(30));
        Thread thread = new Thread(lane, "sluice-worker-poll-" + (lanes.size() + 1));
        consumers.add(consumer);
        lanes.add(lane);
        threads.add(thread);
        thread.start();
        return consumer;
    }

    private static byte[] task(String executor) {
        return Json.write(new LeafTask("r1", "wf/a", 1, Grant.UNLIMITED, null, executor, script(turn(10, 5)), 0));
    }

    @AfterEach
    void stop() throws InterruptedException {
        finish.countDown();
        lanes.forEach(Lane::stopFetching);
        for (Thread t : threads) {
            t.join(AT_MOST.toMillis());
        }
        pool.shutdownNow();
        timer.shutdownNow();
        consumers.forEach(c -> assertThat(c.violations).isEmpty());
    }

    @Test
    void shouldReportARedeliveredTaskLostAndAcceptItWithoutRunningIt() {
        // given: the second delivery of a task whose first delivery's worker died holding it
        FakeShareConsumer consumer = startLane();

        // when
        consumer.offer(0, task("gated"), 2);

        // then
        await("accepted").atMost(AT_MOST).until(() -> consumer.acks.contains("ACCEPT 0"));
        assertThat(executions).hasValue(0);
        assertThat(consumer.acks).noneMatch(a -> a.contains("RELEASE"));
        assertThat(sink.events).singleElement().satisfies(e -> {
            assertThat(e.isFinal()).isTrue();
            assertThat(e.seq()).isZero();
            assertThat(e.status()).isEqualTo(Status.LOST);
            assertThat(e.error()).isEqualTo("attempt 1 lost: delivery 2 found it unfinished (its worker died or lost the lock)");
            assertThat(e.usage().isZero()).isTrue();
        });
    }

    @Test
    void shouldNotReportLostATaskThisWorkerStillRunsWhenAnotherOfItsLanesReceivesIt() {
        // given: lane 1 runs the task
        FakeShareConsumer first = startLane();
        first.offer(0, task("gated"), 1);
        await("running, first step reported").atMost(AT_MOST).until(() -> executions.get() == 1 && sink.events.size() == 1);

        // when: the broker delivers it again, to lane 2 (lane 1's lock expired, say)
        FakeShareConsumer second = startLane();
        second.offer(0, task("gated"), 2);

        // then: lane 2 holds it for the running execution instead of reporting it lost
        await("lane 2 holds the redelivery").atMost(AT_MOST).until(() -> second.acks.contains("RENEW 0"));
        assertThat(sink.events).noneMatch(e -> e.status() == Status.LOST);
        finish.countDown();
        await("accepted by both lanes").atMost(AT_MOST)
                .until(() -> first.acks.contains("ACCEPT 0") && second.acks.contains("ACCEPT 0"));
        assertThat(executions).hasValue(1);
        assertThat(sink.events).extracting(UsageEvent::seq).containsExactly(1L, 2L);
        assertThat(sink.last().status()).isEqualTo(Status.SUCCEEDED);
    }

    @Test
    void shouldEndASurplusRecordCancelledAndAcceptIt() {
        // given: a poll that returns two records to a lane with one slot
        FakeShareConsumer consumer = new FakeShareConsumer(60);
        consumer.maxPerPoll = 2;
        consumer.offer(0, task("gated"), 1);
        consumer.offer(1, Json.write(new LeafTask("r1", "wf/b", 1, Grant.UNLIMITED, null, "gated", null, 0)), 1);
        Lane lane = new Lane(1, "w1", consumer, deliveries, runner, Duration.ofMillis(20), Duration.ofSeconds(30));
        lanes.add(lane);
        consumers.add(consumer);
        Thread thread = new Thread(lane, "sluice-worker-poll-1");
        threads.add(thread);

        // when
        thread.start();

        // then: wf/b ends "cancelled" without running, so that the coordinator retries it without charging it
        await("surplus accepted").atMost(AT_MOST).until(() -> consumer.acks.contains("ACCEPT 1"));
        assertThat(sink.events).filteredOn(e -> e.path().equals("wf/b")).singleElement().satisfies(e -> {
            assertThat(e.isFinal()).isTrue();
            assertThat(e.status()).isEqualTo(Status.CANCELLED);
            assertThat(e.error()).isEqualTo("not started: the worker had no free slot for it");
        });
        assertThat(executions).hasValue(1);
        assertThat(consumer.acks).noneMatch(a -> a.contains("RELEASE"));
    }
}
