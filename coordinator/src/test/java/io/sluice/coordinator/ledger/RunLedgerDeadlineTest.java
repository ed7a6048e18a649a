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
        assertThat(d.ledger.nextDeadlineMs()).isEmpty();

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
}
