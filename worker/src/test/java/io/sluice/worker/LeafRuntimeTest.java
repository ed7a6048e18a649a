package io.sluice.worker;

import static io.sluice.worker.Tasks.grant;
import static io.sluice.worker.Tasks.script;
import static io.sluice.worker.Tasks.task;
import static io.sluice.worker.Tasks.turn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.schemas.Grant;
import io.sluice.schemas.Halt;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Status;
import io.sluice.schemas.UsageEvent;
import io.sluice.worker.execute.BudgetExhaustedException;
import io.sluice.worker.execute.LeafExecutor;
import io.sluice.worker.execute.Outcome;
import io.sluice.worker.execute.SimulatedExecutor;
import io.sluice.worker.execute.StepPermit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LeafRuntimeTest {

    private final FakeSink sink = new FakeSink();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final WorkerMetrics metrics = new WorkerMetrics(meters, "w1");
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final LeafRuntime runtime = new LeafRuntime("w1", sink, Clock.systemUTC(), metrics, timer, Duration.ofSeconds(5));
    private final SimulatedExecutor simulated = new SimulatedExecutor();

    @AfterEach
    void stopTimer() {
        timer.shutdownNow();
    }

    private void run(LeafTask task) {
        runtime.execute(task, simulated, new StopSignal());
    }

    @Test
    void shouldReportOneEventPerStepThenAFinalOne() {
        // given
        LeafTask task = task(Grant.UNLIMITED, script(turn(300, 200), turn(400, 100)));

        // when
        run(task);

        // then
        assertThat(sink.events).extracting(UsageEvent::seq).containsExactly(1L, 2L, 3L);
        assertThat(sink.steps()).extracting(UsageEvent::inputTokens).containsExactly(300L, 400L);
        assertThat(sink.steps()).extracting(UsageEvent::outputTokens).containsExactly(200L, 100L);
        assertThat(sink.steps()).allSatisfy(e -> {
            assertThat(e.steps()).isEqualTo(1);
            assertThat(e.status()).isEqualTo(Status.RUNNING);
            assertThat(e.workerId()).isEqualTo("w1");
        });
        UsageEvent fin = sink.last();
        assertThat(fin.isFinal()).isTrue();
        assertThat(fin.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(fin.usage().isZero()).isTrue();
        assertThat(fin.output().get("turns_completed").asInt()).isEqualTo(2);
        assertThat(fin.output().get("text").asText()).isEqualTo("[turn 1: 200 tokens][turn 2: 100 tokens]");
        assertThat(meters.get("sluice.worker.tasks").tag("status", "succeeded").counter().count()).isEqualTo(1);
        assertThat(meters.get("sluice.worker.tokens").tag("direction", "input").counter().count()).isEqualTo(700);
        assertThat(meters.get("sluice.worker.step").tag("executor", "simulated").timer().count()).isEqualTo(2);
    }

    @Test
    void shouldTruncateOutputToWhatIsLeftAndEndBudgetExceededAfterReportingTheStep() {
        // given: 300 output tokens for two turns of 200
        LeafTask task = task(grant(null, null, 300L, null), script(turn(300, 200), turn(300, 200), turn(10, 10)));

        // when
        run(task);

        // then
        assertThat(sink.steps()).extracting(UsageEvent::outputTokens).containsExactly(200L, 100L);
        UsageEvent fin = sink.last();
        assertThat(fin.seq()).isEqualTo(3);
        assertThat(fin.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(fin.error()).isEqualTo("turn 2 output truncated to 100 of 200 tokens (max_output_tokens 300)");
        assertThat(fin.output().get("truncated").asBoolean()).isTrue();
        assertThat(fin.output().get("turns_completed").asInt()).isEqualTo(2);
    }

    @Test
    void shouldCapOutputByTheTotalLeftAfterTheInput() {
        // given: 600 in all; turn 2 has 100 left, its input takes 50
        LeafTask task = task(grant(600L, null, null, null), script(turn(300, 200), turn(50, 100)));

        // when
        run(task);

        // then
        assertThat(sink.steps()).extracting(UsageEvent::outputTokens).containsExactly(200L, 50L);
        assertThat(sink.last().error()).isEqualTo("turn 2 output truncated to 50 of 100 tokens (max_tokens 600)");
    }

    @Test
    void shouldNotStartATurnWhoseInputDoesNotFit() {
        // given
        LeafTask task = task(grant(600L, null, null, null), script(turn(300, 200), turn(200, 50)));

        // when
        run(task);

        // then: the second turn spent nothing
        assertThat(sink.steps()).hasSize(1);
        UsageEvent fin = sink.last();
        assertThat(fin.seq()).isEqualTo(2);
        assertThat(fin.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(fin.error()).isEqualTo("max_tokens 600: step input 200 does not fit in the 100 left");
        assertThat(fin.output().get("turns_completed").asInt()).isEqualTo(1);
    }

    @Test
    void shouldRefuseAnInputBeyondMaxInputTokens() {
        run(task(grant(null, 500L, null, null), script(turn(300, 1), turn(300, 1))));

        assertThat(sink.steps()).hasSize(1);
        assertThat(sink.last().error()).isEqualTo("max_input_tokens 500: step input 300 does not fit in the 200 left");
    }

    @Test
    void shouldFailAtTheScriptedTurnWithoutSpendingAndKeepThePartialOutput() {
        // given
        JsonNode input = script(turn(10, 20), turn(10, 20), turn(10, 20));
        ((com.fasterxml.jackson.databind.node.ObjectNode) input).put("fail_at_turn", 2);

        // when
        run(task(Grant.UNLIMITED, input));

        // then
        assertThat(sink.steps()).hasSize(1);
        UsageEvent fin = sink.last();
        assertThat(fin.status()).isEqualTo(Status.FAILED);
        assertThat(fin.error()).isEqualTo("simulated failure at turn 2");
        assertThat(fin.output().get("turns_completed").asInt()).isEqualTo(1);
    }

    @Test
    void shouldEndBudgetExceededWhenMaxStepsIsReachedWithWorkLeft() {
        run(task(grant(null, null, null, 3L), script(turn(1, 1), turn(1, 1), turn(1, 1), turn(1, 1))));

        assertThat(sink.steps()).hasSize(3);
        assertThat(sink.last().status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(sink.last().error()).isEqualTo("max_steps 3 reached");
    }

    @Test
    void shouldSucceedWhenTheLastAllowedStepFinishesTheWork() {
        run(task(grant(null, null, null, 2L), script(turn(1, 1), turn(1, 1))));

        assertThat(sink.last().status()).isEqualTo(Status.SUCCEEDED);
    }

    @Test
    void shouldPlayTheWrapUpTurnFromTheReserveWhenTheMainAllowanceRunsOut() {
        // given: 1,000 tokens, 200 kept back; two turns of 600 (only one fits the 800), a wrap-up of 50 + 100
        com.fasterxml.jackson.databind.node.ObjectNode input = (com.fasterxml.jackson.databind.node.ObjectNode) script(
                turn(300, 300), turn(300, 300));
        input.putObject("wrap_up").put("input_tokens", 50).put("output_tokens", 100);
        LeafTask task = task(new Grant(1_000L, null, null, null).withWrapUpTokens(200L), input);

        // when
        run(task);

        // then
        assertThat(sink.steps()).extracting(e -> e.inputTokens() + e.outputTokens()).containsExactly(600L, 150L);
        assertThat(sink.last().status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(sink.last().error()).contains("(200 tokens of the grant kept back for the wrap-up)")
                .endsWith("; wrapped up in 100 tokens");
        assertThat(sink.last().output().get("wrapped_up").asBoolean()).isTrue();
        assertThat(sink.last().output().get("text").asText()).endsWith("[wrap-up: 100 tokens]");
    }

    @Test
    void shouldTimeOutWhenTheDeadlinePassesDuringATurn() {
        // given: a 10 s turn and a deadline 100 ms away
        LeafTask base = task(Grant.UNLIMITED, script(turn(5, 5), turn(10, 10, 10_000)));
        LeafTask task = new LeafTask(base.runId(), base.path(), 1, base.grant(), System.currentTimeMillis() + 100,
                base.executor(), base.input(), base.dispatchedAtMs());

        // when
        long started = System.nanoTime();
        run(task);

        // then: stopped at the deadline, the first turn reported, the interrupted one not
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
        assertThat(sink.steps()).hasSize(1);
        assertThat(sink.last().status()).isEqualTo(Status.TIMED_OUT);
        assertThat(sink.last().error()).isEqualTo("deadline passed");
        assertThat(sink.last().output().get("turns_completed").asInt()).isEqualTo(1);
    }

    @Test
    void shouldStopABlockedExecutorAtItsDeadlineEvenWhenTheClockWasSetBack() throws Exception {
        // given: an executor that only ends when cancelled (a call blocked on the network), and a wall clock that is
        // set back 300 ms once the leaf has started, so that the timer fires before the clock reaches the deadline
        java.util.concurrent.atomic.AtomicLong offsetMs = new java.util.concurrent.atomic.AtomicLong();
        Clock clock = new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public java.time.Instant instant() {
                return java.time.Instant.ofEpochMilli(System.currentTimeMillis() + offsetMs.get());
            }
        };
        LeafRuntime shifted = new LeafRuntime("w1", sink, clock, metrics, timer, Duration.ofSeconds(5));
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        LeafExecutor blocked = new LeafExecutor() {
            @Override
            public String name() {
                return "blocked";
            }

            @Override
            public Outcome execute(io.sluice.worker.execute.LeafContext ctx) throws InterruptedException {
                java.util.concurrent.CountDownLatch cancelled = new java.util.concurrent.CountDownLatch(1);
                ctx.onCancel(cancelled::countDown);
                started.countDown();
                cancelled.await();
                return Outcome.cancelled(null);
            }
        };
        LeafTask base = task(Grant.UNLIMITED, Json.mapper().createObjectNode());
        LeafTask task = new LeafTask(base.runId(), base.path(), 1, base.grant(), clock.millis() + 100, "blocked",
                base.input(), base.dispatchedAtMs());
        java.util.concurrent.ExecutorService leaf = Executors.newSingleThreadExecutor();
        try {
            java.util.concurrent.Future<?> running = leaf.submit(() -> shifted.execute(task, blocked, new StopSignal()));
            started.await();
            offsetMs.set(-300);

            // when / then: the timer waits again for what the clock says is left, then stops it
            running.get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(sink.last().status()).isEqualTo(Status.TIMED_OUT);
        } finally {
            leaf.shutdownNow();
        }
    }

    @Test
    void shouldEndWithTheHaltsStatusAndPartialOutputWhenCancelled() {
        // given: a leaf in its long second turn
        StopSignal signal = new StopSignal();
        LeafTask task = task(Grant.UNLIMITED, script(turn(5, 5), turn(10, 10, 30_000)));
        CompletableFuture<Void> running = CompletableFuture.runAsync(() -> runtime.execute(task, simulated, signal));
        await("first step reported").atMost(Duration.ofSeconds(5)).until(() -> sink.events.size() == 1);

        // when
        signal.stop(StopSignal.Stop.halt(new Halt("run-1", "wf", Status.TIMED_OUT, "wf: deadline", 1L)));

        // then
        running.join();
        UsageEvent fin = sink.last();
        assertThat(fin.seq()).isEqualTo(2);
        assertThat(fin.status()).isEqualTo(Status.TIMED_OUT);
        assertThat(fin.error()).isEqualTo("halted: wf: deadline");
        assertThat(fin.output().get("turns_completed").asInt()).isEqualTo(1);
    }

    @Test
    void shouldEndCancelledWithItsPartialUsageWhenTheWorkerShutsDown() {
        // given
        StopSignal signal = new StopSignal();
        CompletableFuture<Void> running = CompletableFuture.runAsync(() -> runtime.execute(
                task(Grant.UNLIMITED, script(turn(5, 7), turn(10, 10, 30_000))), simulated, signal));
        await("first step reported").atMost(Duration.ofSeconds(5)).until(() -> sink.events.size() == 1);

        // when
        signal.stop(StopSignal.Stop.shutdown());

        // then: a final event, so that the task is accepted rather than released (and reported lost elsewhere)
        running.join();
        assertThat(sink.steps()).extracting(UsageEvent::outputTokens).containsExactly(7L);
        UsageEvent fin = sink.last();
        assertThat(fin.isFinal()).isTrue();
        assertThat(fin.seq()).isEqualTo(2);
        assertThat(fin.status()).isEqualTo(Status.CANCELLED);
        assertThat(fin.error()).isEqualTo("worker shutting down");
        assertThat(fin.usage().isZero()).isTrue();
        assertThat(fin.output().get("turns_completed").asInt()).isEqualTo(1);
        assertThat(meters.get("sluice.worker.tasks").tag("status", "cancelled").counter().count()).isEqualTo(1);
    }

    @Test
    void shouldReportALostAttemptWithSeqZeroAndNoUsage() {
        // given
        LeafTask task = new LeafTask("run-1", "wf/a", 3, Grant.UNLIMITED, null, "simulated", null, 0);

        // when
        runtime.lost(task, 2).join();

        // then
        assertThat(sink.events).singleElement().satisfies(e -> {
            assertThat(e.isFinal()).isTrue();
            assertThat(e.seq()).isZero();
            assertThat(e.attempt()).isEqualTo(3);
            assertThat(e.status()).isEqualTo(Status.LOST);
            assertThat(e.error()).isEqualTo("attempt 3 lost: delivery 2 found it unaccepted (its worker died or lost the record before accepting it)");
            assertThat(e.usage().isZero()).isTrue();
            assertThat(e.workerId()).isEqualTo("w1");
        });
        assertThat(meters.get("sluice.worker.tasks").tag("status", "lost").counter().count()).isEqualTo(1);
    }

    @Test
    void shouldReportOverspendAndEndBudgetExceededEvenWhenTheExecutorClaimsSuccess() {
        // given: an executor that reports more output than its permit allowed and swallows the refusal
        LeafExecutor liar = new NamedExecutor("liar", ctx -> {
            StepPermit permit = ctx.beginStep(100);
            assertThat(permit.maxOutputTokens()).isEqualTo(50);
            try {
                permit.complete(80);
            } catch (BudgetExhaustedException ignored) {
                // a buggy executor carries on
            }
            return Outcome.succeeded(Json.mapper().createObjectNode().put("ok", true));
        });

        // when
        runtime.execute(new LeafTask("run-1", "wf/x", 1, grant(null, null, 50L, null), null, "liar", null, 0), liar,
                new StopSignal());

        // then: spend is truth
        assertThat(sink.steps()).extracting(UsageEvent::outputTokens).containsExactly(80L);
        assertThat(sink.last().status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(sink.last().error())
                .isEqualTo("executor 'liar' reported more than its grant allows: max_output_tokens 50 exceeded: 80 used");
    }

    @Test
    void shouldFailWithTheExceptionsMessage() {
        LeafExecutor broken = new NamedExecutor("broken", ctx -> {
            throw new java.io.IOException("connection reset");
        });

        runtime.execute(new LeafTask("run-1", "wf/x", 1, Grant.UNLIMITED, null, "broken", null, 0), broken, new StopSignal());

        assertThat(sink.events).hasSize(1);
        assertThat(sink.last().status()).isEqualTo(Status.FAILED);
        assertThat(sink.last().error()).isEqualTo("connection reset");
    }

    @Test
    void shouldFailWhenTheExecutorReturnsNoOutcome() {
        runtime.execute(new LeafTask("run-1", "wf/x", 1, Grant.UNLIMITED, null, "null", null, 0),
                new NamedExecutor("null", ctx -> null), new StopSignal());

        assertThat(sink.last().error()).isEqualTo("executor 'null' returned no outcome");
    }

    @Test
    void shouldFailOnBadSimulatedInputNamingTheField() {
        JsonNode input = Json.tree("{\"turns\":[{\"input_tokens\":1,\"output_tokens\":2},{\"input_tokens\":-5,\"output_tokens\":2}]}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));

        run(task(Grant.UNLIMITED, input));

        assertThat(sink.events).hasSize(1);
        assertThat(sink.last().status()).isEqualTo(Status.FAILED);
        assertThat(sink.last().error()).isEqualTo("input.turns[1].input_tokens: must be a non-negative integer, got -5");
    }

    @Test
    void shouldRefuseASecondStepBeforeTheFirstIsCompletedAndADoubleCompletion() {
        LeafExecutor sloppy = new NamedExecutor("sloppy", ctx -> {
            StepPermit first = ctx.beginStep(1, 1);
            assertThatThrownBy(() -> ctx.beginStep(1, 1)).isInstanceOf(IllegalStateException.class)
                    .hasMessage("step 1 was begun and not completed");
            first.complete(1);
            assertThatThrownBy(() -> first.complete(1)).isInstanceOf(IllegalStateException.class)
                    .hasMessage("step 1 was already completed");
            return Outcome.succeeded(null);
        });

        runtime.execute(new LeafTask("run-1", "wf/x", 1, Grant.UNLIMITED, null, "sloppy", null, 0), sloppy, new StopSignal());

        assertThat(sink.events).extracting(UsageEvent::seq).containsExactly(1L, 2L);
        assertThat(sink.last().status()).isEqualTo(Status.SUCCEEDED);
    }

    @Test
    void shouldEndANotExecutedTaskWithOneFinalEventAndNoUsage() {
        runtime.finish(task(Grant.UNLIMITED, null), Status.CANCELLED, "halted: stop").join();

        assertThat(sink.events).singleElement().satisfies(e -> {
            assertThat(e.seq()).isEqualTo(1);
            assertThat(e.isFinal()).isTrue();
            assertThat(e.usage().isZero()).isTrue();
            assertThat(e.status()).isEqualTo(Status.CANCELLED);
            assertThat(e.error()).isEqualTo("halted: stop");
        });
    }

    @Test
    void shouldRefuseToAcknowledgeWhenUsageCannotBeWritten() {
        sink.failing = new IllegalStateException("broker gone");

        assertThatThrownBy(() -> run(task(Grant.UNLIMITED, script(turn(1, 1)))))
                .isInstanceOf(LeafRuntime.UsageWriteException.class)
                .hasMessageContaining("broker gone");
    }

    @Test
    void shouldCountInflightLeavesAndReturnTheSlotWhenAnExecutorThrows() {
        LeafExecutor boom = new NamedExecutor("boom", ctx -> {
            assertThat(metrics.inflight().get()).isEqualTo(1);
            throw new StackOverflowError();
        });

        runtime.execute(new LeafTask("run-1", "wf/x", 1, Grant.UNLIMITED, null, "boom", null, 0), boom, new StopSignal());

        assertThat(metrics.inflight().get()).isZero();
        assertThat(sink.last().error()).isEqualTo("StackOverflowError");
    }

    @Test
    void shouldRemoveExactlyItsMetersOnClose() {
        run(task(Grant.UNLIMITED, script(turn(1, 1))));
        assertThat(meters.getMeters()).isNotEmpty();

        metrics.close();
        metrics.taskEnded(Status.SUCCEEDED);

        assertThat(meters.getMeters()).isEmpty();
    }

    /** An executor from a lambda. */
    record NamedExecutor(String name, Body body) implements LeafExecutor {
        interface Body {
            Outcome run(io.sluice.worker.execute.LeafContext ctx) throws Exception;
        }

        @Override
        public Outcome execute(io.sluice.worker.execute.LeafContext ctx) throws Exception {
            return body.run(ctx);
        }
    }
}
