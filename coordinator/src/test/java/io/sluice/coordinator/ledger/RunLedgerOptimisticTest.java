package io.sluice.coordinator.ledger;

import static io.sluice.coordinator.ledger.Trees.NONE;
import static io.sluice.coordinator.ledger.Trees.branch;
import static io.sluice.coordinator.ledger.Trees.budget;
import static io.sluice.coordinator.ledger.Trees.leaf;
import static io.sluice.coordinator.ledger.Trees.optimistic;
import static io.sluice.coordinator.ledger.Trees.tokens;
import static io.sluice.coordinator.ledger.Trees.workflow;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.sluice.schemas.Grant;
import io.sluice.schemas.Halt;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Status;

/** OPTIMISTIC mode: the seed system's behaviour, with its overshoot reported rather than hidden. */
class RunLedgerOptimisticTest {

    @Test
    void shouldReproduceTheSeedOvershootAndReportIt() {
        // given: the seed's sequential run — cap 1000, leaves of 600 and 500, a third never starts
        Driver d = Driver.of(optimistic(workflow("audit", budget(1000L, null, null, null, null, 1),
                leaf("a"), leaf("b"), leaf("c"))));

        // when
        Decisions begun = d.begin();
        Decisions afterA = d.work("audit/a", 600);
        Decisions crossing = d.usage("audit/b", 500, 0, 1);

        // then: grants carry no ancestor limit; the crossing usage halts the workflow at once
        assertThat(begun.tasks()).singleElement().satisfies(t -> assertThat(t.grant()).isEqualTo(Grant.UNLIMITED));
        assertThat(afterA.tasks()).extracting(LeafTask::path).containsExactly("audit/b");
        assertThat(crossing.halts()).singleElement().satisfies(h -> {
            assertThat(h.path()).isEqualTo("audit");
            assertThat(h.status()).isEqualTo(Status.CANCELLED);
            assertThat(h.reason()).isEqualTo("audit: max_tokens 1000 exhausted (spent 1100, overshoot 100)");
        });
        assertThat(d.entry("audit").overshoot()).isEqualTo(100);

        // when: b's worker stops
        Decisions last = d.finish("audit/b", Status.SUCCEEDED);

        // then
        assertThat(last.tasks()).isEmpty();
        assertThat(last.receipt().status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(last.receipt().reason()).isEqualTo("audit: max_tokens 1000 exhausted (spent 1100, overshoot 100)");
        assertThat(d.entry("audit/c").status()).isEqualTo(Status.CANCELLED);
        assertThat(d.entry("audit/c").reason()).isEqualTo("halted: audit max_tokens exhausted");
        assertThat(d.entry("audit").leaves()).isEqualTo(Map.of(Status.SUCCEEDED, 2L, Status.CANCELLED, 1L));
    }

    @Test
    void shouldChargeAttemptsThatFinishAfterTheHalt() {
        // given: all three leaves in flight at once
        Driver d = Driver.of(optimistic(workflow("audit", tokens(1000), leaf("a"), leaf("b"), leaf("c"))));
        assertThat(d.begin().tasks()).hasSize(3);

        // when: a and b cross the cap; c is told to stop but reports what it had spent
        d.work("audit/a", 600);
        d.work("audit/b", 500);
        assertThat(d.halts).extracting(Halt::path).containsExactly("audit");
        d.usage("audit/c", 100, 0, 1);
        Decisions last = d.finish("audit/c", Status.CANCELLED);

        // then: everything reported is charged and the overshoot says so
        LedgerEntry audit = d.entry("audit");
        assertThat(audit.spent().totalTokens()).isEqualTo(1200);
        assertThat(audit.overshoot()).isEqualTo(200);
        assertThat(audit.reason()).isEqualTo("audit: max_tokens 1000 exhausted (spent 1200, overshoot 200)");
        assertThat(last.receipt().nodes().get(0).overshoot()).isEqualTo(200);
    }

    @Test
    void shouldCarryOnlyTheLeafsOwnLimitsOrLeafMaxTokensInGrants() {
        // given
        Driver d = Driver.of(optimistic(workflow("w", budget(1000L, 500L, null, 10L, null, null), 100L,
                leaf("a"), leaf("b", budget(50L, null, null, 2L, null, null)))));

        // when
        Decisions begun = d.begin();

        // then
        assertThat(begun.tasks()).extracting(LeafTask::grant)
                .containsExactly(new Grant(100L, null, null, null), new Grant(50L, null, null, 2L));
    }

    @Test
    void shouldHaltOnlyTheCrossingBranch() {
        // given
        Driver d = Driver.of(optimistic(workflow("w", NONE,
                branch("x", budget(100L, null, null, null, null, 1), leaf("a"), leaf("b")),
                branch("y", NONE, leaf("c")))));
        d.begin();

        // when: a crosses x's cap
        Decisions crossing = d.usage("w/x/a", 150, 0, 1);

        // then
        assertThat(crossing.halts()).extracting(Halt::path).containsExactly("w/x");
        d.finish("w/x/a", Status.SUCCEEDED);
        Decisions last = d.work("w/y/c", 10);
        assertThat(d.entry("w/x").status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(d.entry("w/x").overshoot()).isEqualTo(50);
        assertThat(d.entry("w/y").status()).isEqualTo(Status.SUCCEEDED);
        assertThat(d.entry("w").overshoot()).isZero();
        assertThat(last.receipt().status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(d.dispatched).extracting(LeafTask::path).doesNotContain("w/x/b");
    }

    @Test
    void shouldHaltBothNodesWhenOneEventCrossesTwoLimits() {
        // given
        Driver d = Driver.of(optimistic(workflow("w", tokens(100), branch("x", tokens(50), leaf("a")))));
        d.begin();

        // when
        Decisions crossing = d.usage("w/x/a", 120, 0, 1);

        // then: the deepest first, each with its own cause
        assertThat(crossing.halts()).extracting(Halt::path).containsExactly("w/x", "w");
        d.finish("w/x/a", Status.SUCCEEDED);
        assertThat(d.entry("w/x").reason()).isEqualTo("w/x: max_tokens 50 exhausted (spent 120, overshoot 70)");
        assertThat(d.entry("w").reason()).isEqualTo("w: max_tokens 100 exhausted (spent 120, overshoot 20)");
        assertThat(d.entry("w").overshoot()).isEqualTo(20);
    }

    @Test
    void shouldRefuseLeavesUnderAZeroLimitAndHaltThatNode() {
        // given
        Driver d = Driver.of(optimistic(workflow("w", NONE, branch("x", tokens(0), leaf("a"), leaf("b")), leaf("c"))));

        // when
        Decisions begun = d.begin();

        // then
        assertThat(begun.tasks()).extracting(LeafTask::path).containsExactly("w/c");
        assertThat(begun.halts()).extracting(Halt::path).containsExactly("w/x");
        assertThat(d.entry("w/x/a").reason()).isEqualTo("not admitted: w/x max_tokens 0 exhausted (spent 0)");
        assertThat(d.entry("w/x/b").status()).isEqualTo(Status.CANCELLED);
    }
}
