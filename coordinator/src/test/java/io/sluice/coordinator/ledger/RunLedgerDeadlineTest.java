package io.sluice.coordinator.ledger;

import static io.sluice.coordinator.ledger.Trees.NONE;
import static io.sluice.coordinator.ledger.Trees.branch;
import static io.sluice.coordinator.ledger.Trees.budget;
import static io.sluice.coordinator.ledger.Trees.leaf;
import static io.sluice.coordinator.ledger.Trees.repeated;
import static io.sluice.coordinator.ledger.Trees.strict;
import static io.sluice.coordinator.ledger.Trees.workflow;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.OptionalLong;

import org.junit.jupiter.api.Test;

import io.sluice.schemas.Budget;
import io.sluice.schemas.Halt;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Status;

/** Workflow, branch and leaf timeouts. */
class RunLedgerDeadlineTest {

    private static Budget timeout(long ms, Integer maxParallel) {
        return budget(null, null, null, null, ms, maxParallel);
    }

    @Test
    void shouldTimeOutTheWorkflowCancelPendingLeavesAndStillChargeTheInFlightOne() {
        // given: a 5 s workflow running one leaf at a time
        Driver d = Driver.of(strict(workflow("w", timeout(5000, 1), 10L, repeated("l", NONE, 3))));
        Decisions begun = d.begin();
        assertThat(begun.tasks()).singleElement().satisfies(t -> assertThat(t.deadlineMs()).isEqualTo(6000L));
        assertThat(d.ledger.nextDeadlineMs()).isEqualTo(OptionalLong.of(6000));

        // when: just before the deadline nothing happens
        assertThat(d.tick(5999).isEmpty()).isTrue();

        // when: at the deadline
        Decisions expired = d.tick(6000);

        // then: a timed_out halt, pending leaves cancelled, the run waits for the in-flight attempt
        assertThat(expired.halts()).singleElement().satisfies(h -> {
            assertThat(h.path()).isEqualTo("w");
            assertThat(h.status()).isEqualTo(Status.TIMED_OUT);
            assertThat(h.reason()).isEqualTo("w: timeout_ms 5000 passed");
        });
        assertThat(d.entry("w").leaves()).isEqualTo(Map.of(Status.RUNNING, 1L, Status.CANCELLED, 2L));
        assertThat(d.ledger.isTerminal()).isFalse();
        // the in-flight attempt's final event is due within the grace, or the attempt is given up
        assertThat(d.ledger.nextDeadlineMs()).isEqualTo(OptionalLong.of(6000 + LedgerConfig.DEFAULT_ABANDON_GRACE.toMillis()));

        // when: the worker stops it and reports its spend
        d.usage("w/l[0]", 7, 0, 1);
        Decisions last = d.finish("w/l[0]", Status.TIMED_OUT);

        // then
        assertThat(last.receipt().status()).isEqualTo(Status.TIMED_OUT);
        assertThat(last.receipt().reason()).isEqualTo("w: timeout_ms 5000 passed");
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(7);
        assertThat(d.entry("w/l[2]").reason()).isEqualTo("halted: w timeout_ms 5000 passed");
    }

    @Test
    void shouldTimeOutOnlyTheBranchWhoseDeadlinePassed() {
        // given
        Driver d = Driver.of(strict(workflow("w", NONE, 10L,
                branch("slow", timeout(2000, 1), repeated("l", NONE, 2)),
                branch("fast", NONE, leaf("f")))));
        d.begin();

        // when
        Decisions expired = d.tick(3000);
        d.finish("w/slow/l[0]", Status.TIMED_OUT);
        Decisions last = d.work("w/fast/f", 5);

        // then
        assertThat(expired.halts()).extracting(Halt::path).containsExactly("w/slow");
        assertThat(d.entry("w/slow").status()).isEqualTo(Status.TIMED_OUT);
        assertThat(d.entry("w/fast").status()).isEqualTo(Status.SUCCEEDED);
        assertThat(last.receipt().status()).isEqualTo(Status.TIMED_OUT);
        assertThat(last.receipt().reason()).isEqualTo("w/slow: timeout_ms 2000 passed");
    }

    @Test
    void shouldCapALeafsDeadlineByItsAncestors() {
        // given: leaf timeouts of 300 and 50 ms under a branch that ends 200 ms after the start
        Driver d = Driver.of(strict(workflow("w", NONE, 10L,
                branch("b", timeout(200, null), leaf("long", timeout(300, null)), leaf("short", timeout(50, null))),
                leaf("free"))));

        // when
        Decisions begun = d.begin();

        // then
        assertThat(begun.tasks()).extracting(LeafTask::deadlineMs).containsExactly(1200L, 1050L, null);
    }

    @Test
    void shouldCountALeafTimeoutFromItsDispatch() {
        // given: one at a time, 100 ms each
        Driver d = Driver.of(strict(workflow("w", Trees.parallel(1), 10L, repeated("l", timeout(100, null), 2))));
        d.begin();

        // when
        d.now = 1500;
        Decisions next = d.work("w/l[0]", 1);

        // then
        assertThat(next.tasks()).singleElement().satisfies(t -> assertThat(t.deadlineMs()).isEqualTo(1600L));
    }

    @Test
    void shouldApplyAPassedDeadlineBeforeDispatchingOnAUsageEvent() {
        // given: the deadline passes with no tick in between
        Driver d = Driver.of(strict(workflow("w", timeout(1000, 1), 10L, repeated("l", NONE, 2))));
        d.begin();

        // when: the final event arrives after the deadline
        d.now = 2500;
        Decisions late = d.finish("w/l[0]", Status.SUCCEEDED);

        // then: the workflow timed out instead of dispatching l[1]
        assertThat(late.tasks()).isEmpty();
        assertThat(late.halts()).extracting(Halt::status).containsExactly(Status.TIMED_OUT);
        assertThat(late.receipt().status()).isEqualTo(Status.TIMED_OUT);
    }

    @Test
    void shouldNotLetADeadlineOverrideAnEarlierBudgetHalt() {
        // given: a branch that halts for budget first, then its deadline passes
        Driver d = Driver.of(strict(workflow("w", NONE,
                branch("b", budget(10L, null, null, null, 2000L, null), leaf("x"), leaf("y")))));
        d.begin();
        d.work("w/b/x", 10);               // y refused: b halts on max_tokens

        // when
        Decisions later = d.tick(5000);

        // then
        assertThat(later.isEmpty()).isTrue();
        assertThat(d.entry("w/b").status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(d.ledger.isTerminal()).isTrue();
    }

    private static final long GRACE = LedgerConfig.DEFAULT_ABANDON_GRACE.toMillis();

    @Test
    void shouldEndARunAtItsDeadlineEvenWhenItsWorkerNeverReportsAgain() {
        // given: a 5 s workflow with 400 tokens; its one attempt's worker falls silent (once: running forever)
        Driver d = Driver.of(strict(workflow("w", budget(400L, null, null, null, 5000L, null), repeated("l", NONE, 1))));
        d.begin();
        d.usage("w/l", 30, 0, 1);
        d.tick(6000);
        assertThat(d.ledger.isTerminal()).isFalse();

        // when: the grace after the halt passes with no final event
        assertThat(d.tick(6000 + GRACE - 1).isEmpty()).isTrue();
        Decisions last = d.tick(6000 + GRACE);

        // then: the attempt is given up as lost — charged its whole grant — and the run ends as its deadline says
        assertThat(last.receipt()).isNotNull();
        assertThat(last.receipt().status()).isEqualTo(Status.TIMED_OUT);
        assertThat(d.entry("w/l").status()).isEqualTo(Status.TIMED_OUT);
        assertThat(d.entry("w/l").reason()).contains("attempt 1 lost (no final event from worker worker-1 within 30000 ms "
                + "of its deadline or halt): charged its whole grant 400 tokens (reported 30)");
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(400);
        assertThat(d.entry("w").reserved().tokens()).isZero();
        assertThat(d.ledger.nextDeadlineMs()).isEmpty();
    }

    @Test
    void shouldGiveUpASilentAttemptAfterItsOwnDeadlineAndRetryIt() {
        // given: a leaf with a 1 s timeout per attempt, two attempts, no deadline above it
        Driver d = Driver.of(strict(workflow("w", NONE, 10L,
                new io.sluice.schemas.Leaf("l", budget(null, null, null, null, 1000L, null), "simulated", null, 1, 2))));
        d.begin();
        LeafTask first = d.task("w/l");
        assertThat(first.deadlineMs()).isEqualTo(Driver.START + 1000);

        // when: nothing comes from its worker until its deadline plus the grace
        Decisions given = d.tick(first.deadlineMs() + GRACE);

        // then: lost, charged its grant, and retried after the backoff
        assertThat(given.tasks()).isEmpty();
        assertThat(d.entry("w/l").status()).isEqualTo(Status.PENDING);
        assertThat(d.entry("w/l").reason()).startsWith("attempt 1 lost (no final event within 30000 ms of its deadline or "
                + "halt): charged its whole grant 10 tokens");
        long retryAt = d.ledger.nextDeadlineMs().getAsLong();
        d.running.remove("w/l"); // the driver's own book: the ledger, not a final event, ended that attempt
        assertThat(d.tick(retryAt).tasks()).singleElement().satisfies(t -> assertThat(t.attempt()).isEqualTo(2));
    }

    @Test
    void shouldRestoreWhenASilentAttemptIsGivenUp() {
        // given: halted at its deadline, its attempt in flight; another coordinator takes the run over
        Driver d = Driver.of(strict(workflow("w", budget(400L, null, null, null, 5000L, null), repeated("l", NONE, 1))));
        d.begin();
        d.tick(6000);
        Driver other = d.takeOver();

        // when
        Decisions original = d.tick(6000 + GRACE);
        Decisions restored = other.tick(6000 + GRACE);

        // then
        assertThat(restored).isEqualTo(original);
        assertThat(restored.receipt().status()).isEqualTo(Status.TIMED_OUT);
    }
}
