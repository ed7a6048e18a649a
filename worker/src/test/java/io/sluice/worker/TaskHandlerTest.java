package io.sluice.worker;

import static io.sluice.worker.Tasks.script;
import static io.sluice.worker.Tasks.turn;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.schemas.Grant;
import io.sluice.schemas.Halt;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Status;
import io.sluice.schemas.Topics;
import io.sluice.schemas.UsageEvent;
import io.sluice.worker.execute.ExecutorRegistry;
import io.sluice.worker.execute.LeafContext;
import io.sluice.worker.execute.LeafExecutor;
import io.sluice.worker.execute.Outcome;
import io.sluice.worker.execute.SimulatedExecutor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TaskHandlerTest {

    private final FakeSink sink = new FakeSink();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final WorkerMetrics metrics = new WorkerMetrics(meters, "w1");
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final Halts halts = new Halts();
    private final RunningLeaves running = new RunningLeaves();
    private final AtomicInteger executions = new AtomicInteger();
    private final LeafExecutor counting = new LeafExecutor() {
        @Override
        public String name() {
            return "counting";
        }

        @Override
        public Outcome execute(LeafContext ctx) throws InterruptedException {
            executions.incrementAndGet();
            return new SimulatedExecutor().execute(ctx);
        }
    };
    private final LeafRuntime runtime = new LeafRuntime("w1", sink, Clock.systemUTC(), metrics, timer, Duration.ofSeconds(5));
    private final AtomicBoolean draining = new AtomicBoolean();
    private final TaskHandler handler = new TaskHandler("w1", ExecutorRegistry.of(counting), runtime, sink, halts, running,
            metrics, Clock.systemUTC(), 3, draining::get, Runnable::run);

    /** What the task feed does with an admitted record, on one thread: run it, or wait for its final events. */
    private void handle(ConsumerRecord<byte[], byte[]> record) {
        decline(record, null);
    }

    private void decline(ConsumerRecord<byte[], byte[]> record, String notToStart) {
        TaskHandler.Admission admission = handler.admit(record, notToStart);
        if (admission instanceof TaskHandler.Start start) {
            handler.execute(start);
        } else {
            ((TaskHandler.Settled) admission).written().join();
        }
    }

    @AfterEach
    void stopTimer() {
        timer.shutdownNow();
    }

    private static LeafTask task(String path, Long deadlineMs, String executor) {
        return new LeafTask("r1", path, 2, Grant.UNLIMITED, deadlineMs, executor, script(turn(10, 5)), 0);
    }

    private static ConsumerRecord<byte[], byte[]> record(byte[] value, int deliveryCount) {
        return new ConsumerRecord<>(Topics.TASKS, 4, 99, 0L, TimestampType.CREATE_TIME, 0, 0,
                "r1".getBytes(StandardCharsets.UTF_8), value, new RecordHeaders(), Optional.empty(),
                Optional.of((short) deliveryCount));
    }

    private static ConsumerRecord<byte[], byte[]> record(LeafTask task) {
        return record(Json.write(task), 1);
    }

    @Test
    void shouldExecuteAValidTaskAndAcceptItOnceItsFinalEventIsWritten() {
        handle(record(task("wf/a", null, "counting")));

        assertThat(executions).hasValue(1);
        assertThat(sink.events).extracting(UsageEvent::seq).containsExactly(1L, 2L);
        assertThat(sink.last().attempt()).isEqualTo(2);
        assertThat(running.size()).isZero();
    }

    @Test
    void shouldDropAHaltedTaskWithTheHaltsStatusWithoutExecutingIt() {
        // given
        Halt halt = new Halt("r1", "wf", Status.CANCELLED, "wf: max_tokens 600 exhausted", 1);
        halts.put(halt.key(), halt);

        // when
        handle(record(task("wf/a", null, "counting")));

        // then
        assertThat(executions).hasValue(0);
        assertThat(sink.events).singleElement().satisfies(e -> {
            assertThat(e.isFinal()).isTrue();
            assertThat(e.seq()).isEqualTo(1);
            assertThat(e.status()).isEqualTo(Status.CANCELLED);
            assertThat(e.error()).isEqualTo("halted: wf: max_tokens 600 exhausted");
            assertThat(e.usage().isZero()).isTrue();
        });
        assertThat(meters.get("sluice.worker.dropped").tag("reason", "halted").counter().count()).isEqualTo(1);
    }

    @Test
    void shouldDropAnExpiredTaskAsTimedOutWithoutExecutingIt() {
        handle(record(task("wf/a", System.currentTimeMillis() - 1, "counting")));

        assertThat(executions).hasValue(0);
        assertThat(sink.events).singleElement().satisfies(e -> {
            assertThat(e.status()).isEqualTo(Status.TIMED_OUT);
            assertThat(e.error()).isEqualTo("deadline passed before the task started");
        });
        assertThat(meters.get("sluice.worker.dropped").tag("reason", "expired").counter().count()).isEqualTo(1);
    }

    @Test
    void shouldFailATaskForAnUnknownExecutorPermanentlyAndRejectIt() {
        handle(record(task("wf/a", null, "x")));

        // another attempt would find the same: the failure says it is permanent, so the leaf is not retried
        assertThat(sink.events).singleElement().satisfies(e -> {
            assertThat(e.status()).isEqualTo(Status.FAILED);
            assertThat(e.error()).isEqualTo("unknown executor 'x'");
            assertThat(e.isPermanentFailure()).isTrue();
        });
        assertThat(sink.rejections).singleElement().satisfies(r -> {
            assertThat(r.sourceTopic()).isEqualTo(Topics.TASKS);
            assertThat(r.partition()).isEqualTo(4);
            assertThat(r.offset()).isEqualTo(99);
            assertThat(r.runId()).isEqualTo("r1");
            assertThat(r.errors()).containsExactly("executor: unknown executor 'x' (known here: [counting])");
            assertThat(r.payload()).contains("\"executor\":\"x\"");
        });
    }

    @Test
    void shouldRejectAnUndecodableTaskAndStillEndTheAttemptItNames() {
        // given: an attempt whose grant has the wrong type
        byte[] value = "{\"run_id\":\"r1\",\"path\":\"wf/a\",\"attempt\":3,\"grant\":7,\"executor\":\"counting\",\"dispatched_at_ms\":0}"
                .getBytes(StandardCharsets.UTF_8);

        // when
        handle(record(value, 1));

        // then: nothing lost, nothing blocked
        assertThat(sink.rejections).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo("task");
            assertThat(r.errors()).singleElement().asString().isEqualTo("not a valid LeafTask: grant: must be an object, got 7");
        });
        assertThat(sink.events).singleElement().satisfies(e -> {
            assertThat(e.attempt()).isEqualTo(3);
            assertThat(e.status()).isEqualTo(Status.FAILED);
            assertThat(e.error()).isEqualTo("invalid task: not a valid LeafTask: grant: must be an object, got 7");
        });
    }

    @Test
    void shouldRejectGarbageWithoutAFinalEvent() {
        handle(record("not json".getBytes(StandardCharsets.UTF_8), 1));

        assertThat(sink.rejections).singleElement().satisfies(r -> assertThat(r.runId()).isEqualTo("r1"));
        assertThat(sink.events).isEmpty();
    }

    @Test
    void shouldRejectTheJsonNullLiteralAndATombstoneInsteadOfThrowing() {
        // when: `null` was once an NPE, released five times and archived by the broker without a dead letter
        handle(record("null".getBytes(StandardCharsets.UTF_8), 1));
        handle(record(null, 1));

        // then
        assertThat(sink.rejections).extracting(r -> r.errors().get(0)).containsExactly(
                "not a valid LeafTask: payload: must be an object, got null",
                "record has no value (a tombstone), expected a LeafTask");
        assertThat(sink.events).isEmpty();
        assertThat(executions.get()).isZero();
    }

    @Test
    void shouldRejectATaskMissingItsIdentity() {
        handle(record("{\"path\":\"wf/a\",\"attempt\":1,\"executor\":\"counting\",\"dispatched_at_ms\":0}"
                .getBytes(StandardCharsets.UTF_8), 1));

        assertThat(sink.rejections).singleElement()
                .satisfies(r -> assertThat(r.errors()).containsExactly("not a valid LeafTask: grant: is required; run_id: is required"));
    }

    @Test
    void shouldReportARedeliveredAttemptLostWithoutExecutingIt() {
        // when: the attempt's second delivery (the first one's worker died holding it)
        handle(record(Json.write(task("wf/a", null, "counting")), 2));

        // then
        assertThat(executions).hasValue(0);
        assertThat(sink.events).singleElement().satisfies(e -> {
            assertThat(e.isFinal()).isTrue();
            assertThat(e.seq()).isZero();
            assertThat(e.attempt()).isEqualTo(2);
            assertThat(e.status()).isEqualTo(Status.LOST);
            assertThat(e.error()).isEqualTo("attempt 2 lost: delivery 2 found it unaccepted (its worker died or lost the record before accepting it)");
            assertThat(e.usage().isZero()).isTrue();
        });
        assertThat(sink.rejections).isEmpty();
        assertThat(running.size()).isZero();
    }

    @Test
    void shouldReportARedeliveredAttemptLostEvenWhenAHaltNowCoversIt() {
        // given: a halted final at seq 1 would be deduplicated against the lost delivery's first step event
        Halt halt = new Halt("r1", "wf", Status.CANCELLED, "wf: max_tokens 600 exhausted", 1);
        halts.put(halt.key(), halt);

        // when
        handle(record(Json.write(task("wf/a", null, "counting")), 2));

        // then
        assertThat(sink.events).singleElement().satisfies(e -> {
            assertThat(e.status()).isEqualTo(Status.LOST);
            assertThat(e.seq()).isZero();
        });
    }

    @Test
    void shouldReportLostAndRejectATaskOnItsLastDelivery() {
        handle(record(Json.write(task("wf/a", null, "counting")), 3));

        assertThat(executions).hasValue(0);
        assertThat(sink.last().status()).isEqualTo(Status.LOST);
        assertThat(sink.last().error()).isEqualTo("attempt 2 lost: delivery 3 found it unaccepted (its worker died or lost the record before accepting it)");
        assertThat(sink.rejections).singleElement().satisfies(r -> assertThat(r.errors()).containsExactly(
                "delivered 3 times (the limit): attempt 2 lost: delivery 3 found it unaccepted (its worker died or lost the record before accepting it)"));
    }

    @Test
    void shouldStillRejectAnUndecodableTaskOnALaterDelivery() {
        handle(record("not json".getBytes(StandardCharsets.UTF_8), 3));

        assertThat(sink.rejections).hasSize(1);
        assertThat(sink.events).isEmpty();
    }

    @Test
    void shouldCancelATaskNotYetStartedWhenTheWorkerIsShuttingDown() {
        // given
        draining.set(true);

        // when
        handle(record(task("wf/a", null, "counting")));

        // then
        assertThat(executions).hasValue(0);
        assertThat(sink.events).singleElement().satisfies(e -> {
            assertThat(e.isFinal()).isTrue();
            assertThat(e.seq()).isEqualTo(1);
            assertThat(e.status()).isEqualTo(Status.CANCELLED);
            assertThat(e.error()).isEqualTo("worker shutting down");
            assertThat(e.usage().isZero()).isTrue();
        });
    }

    @Test
    void shouldDeclineATaskWithoutExecutingIt() {
        decline(record(task("wf/a", null, "counting")), TaskFeed.NO_SLOT);

        assertThat(executions).hasValue(0);
        assertThat(sink.events).singleElement().satisfies(e -> {
            assertThat(e.status()).isEqualTo(Status.CANCELLED);
            assertThat(e.error()).isEqualTo("not started: the worker had no free slot for it");
        });
    }
}
