package io.sluice.coordinator.ledger;

import static io.sluice.coordinator.ledger.Trees.NONE;
import static io.sluice.coordinator.ledger.Trees.branch;
import static io.sluice.coordinator.ledger.Trees.budget;
import static io.sluice.coordinator.ledger.Trees.leaf;
import static io.sluice.coordinator.ledger.Trees.repeated;
import static io.sluice.coordinator.ledger.Trees.strict;
import static io.sluice.coordinator.ledger.Trees.tokens;
import static io.sluice.coordinator.ledger.Trees.workflow;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.sluice.schemas.Budget;
import io.sluice.schemas.Grant;
import io.sluice.schemas.Halt;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;

/** STRICT mode: the grant policy and zero overshoot, case by case. */
class RunLedgerStrictTest {

    private static void assertWithinLimit(Driver d, String path, long maxTokens) {
        LedgerEntry e = d.entry(path);
        assertThat(e.spent().totalTokens() + e.reserved().tokens()).as("S + R at %s", path).isLessThanOrEqualTo(maxTokens);
    }

    @Test
    void shouldReserveSettleRefundAndHaltOnCostAsOnTokens() {
        // given: a workflow that may cost 1,000 µUSD, three leaves that may cost 400 each
        Budget each = Budget.NONE.withMaxCostMicrousd(400L);
        Driver d = Driver.of(strict(workflow("w", Budget.NONE.withMaxCostMicrousd(1000L), leaf("a", each), leaf("b", each),
                leaf("c", each))));

        // when / then: two grants fit, the third waits for a refund
        Decisions begun = d.begin();
        assertThat(begun.tasks()).extracting(LeafTask::path).containsExactly("w/a", "w/b");
        assertThat(begun.tasks().get(0).grant()).isEqualTo(new Grant(null, null, null, null, 400L));
        assertThat(d.entry("w").reserved().costMicrousd()).isEqualTo(800);

        // when: a costs 350 and b 380 (their 50 and 20 refunded), so 270 are left: c's last chance
        d.priced("w/a", 100, 350);
        d.finish("w/a", Status.SUCCEEDED);
        d.priced("w/b", 100, 380);
        Decisions afterB = d.finish("w/b", Status.SUCCEEDED);

        // then
        assertThat(afterB.tasks()).singleElement().satisfies(t -> assertThat(t.grant().maxCostMicrousd()).isEqualTo(270L));
        LedgerEntry w = d.entry("w");
        assertThat(w.spent().costMicrousd() + w.reserved().costMicrousd()).isLessThanOrEqualTo(1000);

        // when: c spends all it was granted and more is left to do: the workflow is exhausted and halts
        d.priced("w/c", 100, 270);
        Decisions afterC = d.finish("w/c", Status.BUDGET_EXCEEDED);

        // then
        Receipt receipt = afterC.receipt();
        assertThat(receipt).isNotNull();
        assertThat(receipt.nodes().get(0).spent().costMicrousd()).isEqualTo(1000);
        assertThat(receipt.nodes().get(0).spent().totalTokens()).isEqualTo(300);
        assertThat(receipt.nodes().get(0).overshoot()).isZero();
        assertThat(d.ledger.isTerminal()).isTrue();
    }

    @Test
    void shouldLearnACostGrantFromAProbeWhenLeavesHaveNoneOfTheirOwn() {
        // given: only the workflow prices anything
        Driver d = Driver.of(strict(workflow("w", Budget.NONE.withMaxCostMicrousd(1000L), leaf("a"), leaf("b"), leaf("c"))));

        // when: the probe takes all the headroom and reports 200
        Decisions begun = d.begin();
        assertThat(begun.tasks()).singleElement().satisfies(t -> assertThat(t.grant().maxCostMicrousd()).isEqualTo(1000L));
        d.priced("w/a", 10, 200);
        Decisions afterA = d.finish("w/a", Status.SUCCEEDED);

        // then: its siblings are granted the learned estimate, each within what is left
        assertThat(afterA.tasks()).isNotEmpty().allSatisfy(t -> assertThat(t.grant().maxCostMicrousd()).isBetween(200L, 800L));
        LedgerEntry w = d.entry("w");
        assertThat(w.spent().costMicrousd() + w.reserved().costMicrousd()).isLessThanOrEqualTo(1000);
    }

    @Test
    void shouldSpendTheWholeBudgetAndNeverMoreInTheSeedCase() {
        // given: the seed system's own test — cap 1000, leaves needing 600, 500 and 400 tokens
        Driver d = Driver.of(strict(workflow("audit", tokens(1000), leaf("a"), leaf("b"), leaf("c"))));

        // when / then: the first leaf is a probe with all the headroom, its siblings wait for its result
        Decisions begun = d.begin();
        assertThat(begun.tasks()).extracting(LeafTask::path).containsExactly("audit/a");
        assertThat(begun.tasks().get(0).grant()).isEqualTo(new Grant(1000L, null, null, null));
        assertWithinLimit(d, "audit", 1000);

        // when: a spends 600 → estimate 750 does not fit the 400 left, nothing in flight: last chance with 400
        Decisions afterA = d.work("audit/a", 600);
        assertThat(afterA.tasks()).singleElement().satisfies(t -> {
            assertThat(t.path()).isEqualTo("audit/b");
            assertThat(t.grant().maxTokens()).isEqualTo(400L);
        });
        assertWithinLimit(d, "audit", 1000);

        // when: b needs 500, is truncated to its grant of 400 and ends budget_exceeded
        Decisions afterB = d.work("audit/b", 500);

        // then: c is not admitted (estimate ≥ 2 × 400 with nothing left) and the workflow halts, fully used
        assertThat(afterB.tasks()).isEmpty();
        assertThat(afterB.halts()).singleElement().satisfies(h -> {
            assertThat(h.path()).isEqualTo("audit");
            assertThat(h.status()).isEqualTo(Status.CANCELLED);
            assertThat(h.reason()).isEqualTo("audit: max_tokens 1000 exhausted (spent 1000, remaining 0)");
        });
        Receipt receipt = afterB.receipt();
        assertThat(receipt).isNotNull();
        assertThat(receipt.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(receipt.reason()).isEqualTo("audit: max_tokens 1000 exhausted (spent 1000, remaining 0)");
        assertThat(receipt.nodes()).extracting(LedgerEntry::path).containsExactly("audit", "audit/a", "audit/b", "audit/c");
        assertThat(receipt.nodes().get(0).spent().totalTokens()).isEqualTo(1000);
        assertThat(receipt.nodes().get(0).overshoot()).isZero();
        assertThat(receipt.nodes().get(0).leaves())
                .isEqualTo(Map.of(Status.SUCCEEDED, 1L, Status.BUDGET_EXCEEDED, 2L));
        assertThat(receipt.nodes().get(1).status()).isEqualTo(Status.SUCCEEDED);
        assertThat(receipt.nodes().get(2).status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(receipt.nodes().get(2).reason()).isEqualTo("budget_exceeded: used its grant of max_tokens 400");
        assertThat(receipt.nodes().get(2).spent().totalTokens()).isEqualTo(400);
        assertThat(receipt.nodes().get(3).status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(receipt.nodes().get(3).reason()).isEqualTo("not admitted: grant 800 > remaining 0 at audit (max_tokens)");
        assertThat(receipt.nodes().get(3).spent().totalTokens()).isZero();
        assertThat(d.ledger.isTerminal()).isTrue();
    }

    @Test
    void shouldLetExactlyThreeOfEightLeavesSucceedInsteadOfStarvingAll() {
        // given: a branch of 1000 tokens whose 8 leaves each need 300, all allowed in parallel
        Driver d = Driver.of(strict(workflow("w", NONE,
                branch("scan", budget(1000L, null, null, null, null, 8), repeated("l", NONE, 8)))));

        // when
        d.begin();
        assertThat(d.runningPaths()).containsExactly("w/scan/l[0]");
        d.work("w/scan/l[0]", 300);        // estimate 375: l[1] fits, l[2] waits for l[1]'s refund
        assertThat(d.runningPaths()).containsExactly("w/scan/l[1]");
        d.work("w/scan/l[1]", 300);
        assertThat(d.runningPaths()).containsExactly("w/scan/l[2]");
        Decisions last = d.work("w/scan/l[2]", 300);

        // then: 100 left is below half the estimate: l[3] refused, the branch halts, l[4..7] are cancelled
        assertThat(last.halts()).extracting(Halt::path).containsExactly("w/scan");
        LedgerEntry scan = d.entry("w/scan");
        assertThat(scan.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(scan.reason()).isEqualTo("w/scan: max_tokens 1000 exhausted (spent 900, remaining 100)");
        assertThat(scan.leaves()).isEqualTo(Map.of(Status.SUCCEEDED, 3L, Status.BUDGET_EXCEEDED, 1L, Status.CANCELLED, 4L));
        assertThat(d.entry("w/scan/l[5]").reason()).isEqualTo("halted: w/scan max_tokens exhausted");
        assertThat(d.entry("w").status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(last.receipt()).isNotNull();
    }

    @Test
    void shouldAdmitThreeLeavesInParallelWhenLeafMaxTokensIsKnown() {
        // given: the same branch with leaf_max_tokens 300
        Driver d = Driver.of(strict(workflow("w", NONE,
                branch("scan", budget(1000L, null, null, null, null, 8), 300L, repeated("l", NONE, 8)))));

        // when
        Decisions begun = d.begin();

        // then: three grants of 300 fit at once; the fourth waits for refunds
        assertThat(begun.tasks()).extracting(LeafTask::path).containsExactly("w/scan/l[0]", "w/scan/l[1]", "w/scan/l[2]");
        assertThat(begun.tasks()).extracting(t -> t.grant().maxTokens()).containsOnly(300L);
        assertThat(d.entry("w/scan").reserved().tokens()).isEqualTo(900);

        // when: all three succeed
        d.work("w/scan/l[0]", 300);
        d.work("w/scan/l[1]", 300);
        Decisions last = d.work("w/scan/l[2]", 300);

        // then
        assertThat(d.entry("w/scan").leaves()).containsEntry(Status.SUCCEEDED, 3L).containsEntry(Status.CANCELLED, 4L);
        assertThat(last.receipt()).isNotNull();
        assertThat(d.dispatched).hasSize(3);
    }

    @Test
    void shouldWaitForARefundRatherThanDispatchATooSmallGrant() {
        // given: 1000 tokens, leaf_max_tokens 400: two fit, the third would only get 200
        Driver d = Driver.of(strict(workflow("w", tokens(1000), 400L, leaf("a"), leaf("b"), leaf("c"))));
        d.begin();
        assertThat(d.runningPaths()).containsExactly("w/a", "w/b");

        // when: a finishes having used only 100 → 500 left (b still holds 400 less what it used)
        Decisions refund = d.work("w/a", 100);

        // then: the refund admits c in the same call, with its full desired grant
        assertThat(refund.tasks()).singleElement().satisfies(t -> {
            assertThat(t.path()).isEqualTo("w/c");
            assertThat(t.grant().maxTokens()).isEqualTo(400L);
        });
    }

    @Test
    void shouldUseTheLastChanceOnlyAboveTheMinimumUsefulFraction() {
        // given: a fraction of 0.8, probe learns 100 → estimate 125; 100 left needs ≥ 100 → admitted
        LedgerConfig config = new LedgerConfig(1.25, 0.8, 1000);
        Driver d = Driver.of(strict(workflow("w", tokens(300), leaf("a"), leaf("b"), leaf("c"), leaf("d"))), config);
        d.begin();
        d.work("w/a", 100);                // probe: 100 spent, 200 left, estimate 125 → b gets 125
        assertThat(d.task("w/b").grant().maxTokens()).isEqualTo(125L);
        Decisions afterB = d.work("w/b", 100);  // 100 left: ≥ ceil(125 × 0.8) = 100 → last chance for c
        assertThat(afterB.tasks()).singleElement().satisfies(t -> assertThat(t.grant().maxTokens()).isEqualTo(100L));

        // when: c uses 30 → 70 left < 100
        Decisions afterC = d.work("w/c", 30);

        // then: d is refused and the workflow halts with 70 unused
        assertThat(afterC.tasks()).isEmpty();
        assertThat(d.entry("w/d").reason()).isEqualTo("not admitted: grant 125 > remaining 70 at w (max_tokens)");
        assertThat(d.entry("w").reason()).isEqualTo("w: max_tokens 300 exhausted (spent 230, remaining 70)");
    }

    @Test
    void shouldLearnEstimatesPerParent() {
        // given: two branches; the first learns 10-token leaves, the second must probe on its own
        Driver d = Driver.of(strict(workflow("w", tokens(1000),
                branch("x", NONE, leaf("a"), leaf("b")),
                branch("y", NONE, leaf("c"), leaf("d")))));
        d.begin();
        assertThat(d.runningPaths()).containsExactly("w/x/a");   // probe of x holds all 1000: y waits

        // when
        Decisions afterA = d.work("w/x/a", 10);

        // then: b gets ceil(10 × 1.25) = 13; y's first leaf probes with what is left
        assertThat(afterA.tasks()).extracting(LeafTask::path).containsExactly("w/x/b", "w/y/c");
        assertThat(afterA.tasks()).extracting(t -> t.grant().maxTokens()).containsExactly(13L, 977L);
    }

    @Test
    void shouldCapAGrantByTheLeafsOwnLimitAndNotHaltSiblingsWhenItIsExceeded() {
        // given: leaf a capped at 200 needs 300; b capped at 200 needs 100
        Driver d = Driver.of(strict(workflow("w", tokens(1000), leaf("a", tokens(200)), leaf("b", tokens(200)))));

        // when
        Decisions begun = d.begin();
        d.work("w/a", 300);
        Decisions last = d.work("w/b", 100);

        // then
        assertThat(begun.tasks()).extracting(t -> t.grant().maxTokens()).containsExactly(200L, 200L);
        assertThat(d.halts).isEmpty();
        assertThat(d.entry("w/a").status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(d.entry("w/a").spent().totalTokens()).isEqualTo(200);
        assertThat(d.entry("w/b").status()).isEqualTo(Status.SUCCEEDED);
        assertThat(last.receipt().status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(last.receipt().reason()).isEqualTo("w/a: budget_exceeded: used its grant of max_tokens 200");
    }

    @Test
    void shouldRefuseALeafWithMaxTokensZeroWithoutHaltingAnything() {
        // given
        Driver d = Driver.of(strict(workflow("w", tokens(1000), leaf("z", tokens(0)), leaf("a", tokens(100)))));

        // when
        Decisions begun = d.begin();

        // then
        assertThat(begun.tasks()).extracting(LeafTask::path).containsExactly("w/a");
        assertThat(begun.halts()).isEmpty();
        LedgerEntry z = d.entry("w/z");
        assertThat(z.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(z.spent().totalTokens()).isZero();
        assertThat(z.reason()).isEqualTo("not admitted: its own max_tokens 0 allows no grant");
        assertThat(begun.entries()).extracting(LedgerEntry::path).contains("w/z");

        // when: a succeeds
        Decisions last = d.work("w/a", 50);

        // then: the workflow ends with its children's worst status, not halted
        assertThat(last.receipt().status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(d.halts).isEmpty();
    }

    @Test
    void shouldGrantInputAndOutputTokensSeparatelyWhenLimitedSeparately() {
        // given: input and output limited, total tokens not
        Driver d = Driver.of(strict(workflow("w", budget(null, 1000L, 100L, null, null, null),
                leaf("a"), leaf("b"), leaf("c", budget(null, null, 20L, null, null, null)))));

        // when
        Decisions begun = d.begin();

        // then: the probe gets all of both; c (own output cap, input unknown) must wait for the probe too
        assertThat(begun.tasks()).singleElement().satisfies(t -> assertThat(t.grant()).isEqualTo(new Grant(null, 1000L, 100L, null)));

        // when: a reads 300 and writes 40
        d.usage("w/a", 300, 40, 1);
        Decisions afterA = d.finish("w/a", Status.SUCCEEDED);

        // then: estimates 375 / 50 for b; c (375 input does not fit beside b) waits for b's refund
        assertThat(afterA.tasks()).extracting(LeafTask::grant).containsExactly(new Grant(null, 375L, 50L, null));

        // when
        d.usage("w/b", 300, 40, 1);
        Decisions afterB = d.finish("w/b", Status.SUCCEEDED);

        // then: c's own output cap 20 is its output grant
        assertThat(afterB.tasks()).extracting(LeafTask::grant).containsExactly(new Grant(null, 375L, 20L, null));
        LedgerEntry w = d.entry("w");
        assertThat(w.spent().inputTokens() + w.reserved().inputTokens()).isLessThanOrEqualTo(1000);
        assertThat(w.spent().outputTokens() + w.reserved().outputTokens()).isLessThanOrEqualTo(100);
    }

    @Test
    void shouldHaltOnAnExhaustedInputDimensionNamingIt() {
        // given
        Driver d = Driver.of(strict(workflow("w", budget(null, 500L, null, null, null, null), leaf("a"), leaf("b"))));
        d.begin();

        // when: the probe reads all 500
        d.usage("w/a", 500, 7, 1);
        Decisions last = d.finish("w/a", Status.BUDGET_EXCEEDED);

        // then
        assertThat(last.halts()).singleElement()
                .satisfies(h -> assertThat(h.reason()).isEqualTo("w: max_input_tokens 500 exhausted (spent 500, remaining 0)"));
        assertThat(d.entry("w/b").reason()).isEqualTo("not admitted: grant 1000 > remaining 0 at w (max_input_tokens)");
    }

    @Test
    void shouldBudgetStepsLikeTokens() {
        // given: 10 steps for three leaves of 4 steps each
        Driver d = Driver.of(strict(workflow("w", budget(null, null, null, 10L, null, null), leaf("a"), leaf("b"), leaf("c"))));

        // when
        Decisions begun = d.begin();
        assertThat(begun.tasks()).singleElement().satisfies(t -> assertThat(t.grant()).isEqualTo(new Grant(null, null, null, 10L)));
        for (int i = 0; i < 4; i++) {
            d.usage("w/a", 10, 10, 1);
        }
        Decisions afterA = d.finish("w/a", Status.SUCCEEDED);
        assertThat(afterA.tasks()).singleElement().satisfies(t -> assertThat(t.grant().maxSteps()).isEqualTo(5L));
        for (int i = 0; i < 4; i++) {
            d.usage("w/b", 10, 10, 1);
        }
        Decisions afterB = d.finish("w/b", Status.SUCCEEDED);

        // then: 2 steps left < ceil(5 × 0.5): c is refused and the workflow halts on max_steps
        assertThat(afterB.tasks()).isEmpty();
        assertThat(d.entry("w").reason()).isEqualTo("w: max_steps 10 exhausted (spent 8, remaining 2)");
        assertThat(d.entry("w").spent().steps()).isEqualTo(8);
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(160);
    }

    @Test
    void shouldHaltOnlyTheOverrunBranchAndLetItsSiblingsFinish() {
        // given: branch a (100 tokens, 60 per leaf) and branch b (50 per leaf) under a roomy workflow
        Driver d = Driver.of(strict(workflow("w", tokens(10_000),
                branch("a", tokens(100), 60L, leaf("a1"), leaf("a2"), leaf("a3")),
                branch("b", NONE, 50L, leaf("b1"), leaf("b2")))));

        // when: a2 must wait for a1 (branch a busy); b's leaves go ahead
        d.begin();
        assertThat(d.runningPaths()).containsExactly("w/a/a1", "w/b/b1", "w/b/b2");
        Decisions afterA1 = d.work("w/a/a1", 60);           // 40 left ≥ 30: last chance for a2
        assertThat(afterA1.tasks()).extracting(t -> t.grant().maxTokens()).containsExactly(40L);
        Decisions afterA2 = d.work("w/a/a2", 60);           // truncated to 40: budget_exceeded; a3 refused

        // then
        assertThat(afterA2.halts()).extracting(Halt::path).containsExactly("w/a");
        assertThat(d.entry("w/a").status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(d.entry("w").status()).isEqualTo(Status.RUNNING);

        // when: b's leaves finish; refunds at the workflow must not revive branch a
        Decisions afterB1 = d.work("w/b/b1", 50);
        Decisions afterB2 = d.work("w/b/b2", 50);

        // then
        assertThat(afterB1.tasks()).isEmpty();
        assertThat(afterB2.tasks()).isEmpty();
        assertThat(d.dispatched).extracting(LeafTask::path).doesNotContain("w/a/a3");
        assertThat(d.entry("w/b").status()).isEqualTo(Status.SUCCEEDED);
        assertThat(afterB2.receipt().status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(afterB2.receipt().reason()).isEqualTo("w/a: max_tokens 100 exhausted (spent 100, remaining 0)");
    }

    @Test
    void shouldNeverExceedMaxParallelAtAnyNodeAndRefillSlotsInTheSameCall() {
        // given: workflow max_parallel 3 over two branches of max_parallel 2
        Driver d = Driver.of(strict(workflow("w", budget(null, null, null, null, null, 3), 10L,
                branch("x", Trees.parallel(2), repeated("l", NONE, 4)),
                branch("y", Trees.parallel(2), repeated("l", NONE, 4)))));

        // when
        Decisions begun = d.begin();

        // then: document order within the limits
        assertThat(begun.tasks()).extracting(LeafTask::path).containsExactly("w/x/l[0]", "w/x/l[1]", "w/y/l[0]");

        // when: one of x finishes → its slot is refilled from x, in the same call
        Decisions refill = d.work("w/x/l[0]", 5);
        assertThat(refill.tasks()).extracting(LeafTask::path).containsExactly("w/x/l[2]");

        // when: run everything to the end, always finishing the oldest task
        while (!d.running.isEmpty()) {
            String path = d.runningPaths().get(0);
            d.work(path, 5);
            assertThat(d.running.size()).isLessThanOrEqualTo(3);
            assertThat(d.running.keySet().stream().filter(p -> p.startsWith("w/x/")).count()).isLessThanOrEqualTo(2);
            assertThat(d.running.keySet().stream().filter(p -> p.startsWith("w/y/")).count()).isLessThanOrEqualTo(2);
            assertThat(d.entry("w").leaves().getOrDefault(Status.RUNNING, 0L)).isEqualTo(d.running.size());
        }

        // then
        assertThat(d.maxRunning()).isEqualTo(3);
        assertThat(d.ledger.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(d.ledger.receipt().reason()).isEqualTo("all 8 leaves succeeded");
    }

    @Test
    void shouldChargeUsageBeyondTheGrantAsAWorkerFaultAndReportIt() {
        // given
        Driver d = Driver.of(strict(workflow("w", tokens(100), leaf("a"))));
        d.begin();

        // when: the worker ignores its grant of 100
        d.usage("w/a", 150, 0, 1);
        Decisions last = d.finish("w/a", Status.SUCCEEDED);

        // then: spend is truth; the invariant broke and the overshoot shows
        LedgerEntry w = d.entry("w");
        assertThat(w.spent().totalTokens()).isEqualTo(150);
        assertThat(w.reserved().tokens()).isZero();
        assertThat(w.overshoot()).isEqualTo(50);
        assertThat(w.reason()).contains("overshoot 50 tokens beyond max_tokens 100");
        assertThat(d.entry("w/a").reason()).isEqualTo("succeeded; worker fault: reported 50 beyond its grant of max_tokens 100");
        assertThat(last.receipt()).isNotNull();
    }

    @Test
    void shouldKeepReservationsEqualToOutstandingGrants() {
        // given
        Driver d = Driver.of(strict(workflow("w", tokens(1000), 300L, branch("b", NONE, leaf("a"), leaf("c")))));
        d.begin();

        // when: a reports 120 of its 300
        d.usage("w/b/a", 100, 20, 1);

        // then: S + R unchanged by usage inside the grant
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(120);
        assertThat(d.entry("w").reserved().tokens()).isEqualTo(480);
        assertThat(d.entry("w/b/a").reserved().tokens()).isEqualTo(180);

        // when: it ends → the rest is refunded
        d.finish("w/b/a", Status.SUCCEEDED);

        // then
        assertThat(d.entry("w").reserved().tokens()).isEqualTo(300);
        assertThat(d.entry("w/b").reserved().tokens()).isEqualTo(300);
    }

    @Test
    void shouldCoalesceEntriesToOnePerChangedNodePerCall() {
        // given
        Driver d = Driver.of(strict(workflow("w", NONE, 10L, branch("b", NONE, repeated("l", NONE, 5)), branch("e", NONE))));

        // when
        Decisions begun = d.begin();

        // then: each dispatched leaf, then every node once, in document order, although five dispatches touched w
        // and b
        assertThat(begun.entries()).extracting(LedgerEntry::path)
                .containsExactly("w/b/l[0]", "w/b/l[1]", "w/b/l[2]", "w/b/l[3]", "w/b/l[4]", "w", "w/b", "w/e");
        assertThat(begun.entries().get(7).status()).isEqualTo(Status.SUCCEEDED);
        assertThat(begun.entries().get(7).reason()).isEqualTo("no leaves");

        // when: a step, then a final event
        Decisions step = d.usage("w/b/l[0]", 3, 0, 1);
        Decisions fin = d.finish("w/b/l[0]", Status.SUCCEEDED);

        // then: the leaf's entry, then each changed node once
        assertThat(step.entries()).extracting(LedgerEntry::path).containsExactly("w/b/l[0]", "w", "w/b");
        assertThat(step.entries().get(0).status()).isEqualTo(Status.RUNNING);
        assertThat(step.entries().get(0).lastSeq()).isEqualTo(1L);
        assertThat(fin.entries()).extracting(LedgerEntry::path).containsExactly("w/b/l[0]", "w", "w/b");
        assertThat(fin.entries().get(0).status()).isEqualTo(Status.SUCCEEDED);
    }

    @Test
    void shouldGiveTheSameDecisionsForTheSameInputs() {
        // given
        var s = strict(workflow("w", tokens(2000), branch("a", tokens(900), repeated("x", NONE, 6)),
                branch("b", Trees.parallel(2), repeated("y", NONE, 4))));

        // when
        List<Decisions> first = replay(Driver.of(s));
        List<Decisions> second = replay(Driver.of(s));

        // then
        assertThat(first).isEqualTo(second);
    }

    private static List<Decisions> replay(Driver d) {
        d.begin();
        int i = 0;
        while (!d.running.isEmpty()) {
            List<String> paths = d.runningPaths();
            d.work(paths.get(i++ % paths.size()), 170);
        }
        return d.history;
    }
}
