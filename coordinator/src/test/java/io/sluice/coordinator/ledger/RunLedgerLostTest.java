package io.sluice.coordinator.ledger;

import static io.sluice.coordinator.ledger.Trees.NONE;
import static io.sluice.coordinator.ledger.Trees.branch;
import static io.sluice.coordinator.ledger.Trees.budget;
import static io.sluice.coordinator.ledger.Trees.leaf;
import static io.sluice.coordinator.ledger.Trees.optimistic;
import static io.sluice.coordinator.ledger.Trees.strict;
import static io.sluice.coordinator.ledger.Trees.tokens;
import static io.sluice.coordinator.ledger.Trees.workflow;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.sluice.schemas.Budget;
import io.sluice.schemas.Leaf;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Status;
import io.sluice.schemas.Usage;
import io.sluice.schemas.UsageEvent;

/** Attempts reported lost: whose worker died with an unknown part of its grant spent. */
class RunLedgerLostTest {

    /** A leaf tried once only, so that a lost attempt ends it. */
    private static Leaf once(String id, Budget budget) {
        return new Leaf(id, budget, "simulated", null, 1, 1);
    }

    private static UsageEvent late(String path, int attempt, long seq, long in) {
        return new UsageEvent("run-1", path, attempt, "worker-1", seq, in, 0, 1, false, Status.RUNNING, null, null, 0);
    }

    @Test
    void shouldChargeALostAttemptExactlyWhatIsLeftOfItsGrantInStrictMode() {
        // given: two leaves of 600 / 300 tokens under 1000; a reports 250 (200 in, 50 out) before its worker dies
        Driver d = Driver.of(strict(workflow("w", tokens(1000), once("a", tokens(600)), once("b", tokens(300)))));
        d.begin();
        d.usage("w/a", 200, 50, 1);
        LedgerEntry before = d.entry("w");
        assertThat(before.spent().totalTokens() + before.reserved().tokens()).isEqualTo(900);

        // when: another worker reports it lost, with a sequence number of 0
        Decisions lost = d.lost("w/a", 0);

        // then: the remaining 350 is charged (as input: nothing limits input), nothing refunded, b's grant untouched
        LedgerEntry w = d.entry("w");
        assertThat(w.spent()).isEqualTo(new Usage(550, 50, 1));
        assertThat(w.spent().totalTokens()).isEqualTo(600);
        assertThat(w.reserved().tokens()).isEqualTo(300);
        assertThat(w.spent().totalTokens() + w.reserved().tokens()).isEqualTo(900).isLessThanOrEqualTo(1000);
        LedgerEntry a = d.entry("w/a");
        assertThat(a.status()).isEqualTo(Status.FAILED);
        assertThat(a.spent().totalTokens()).isEqualTo(600);
        assertThat(a.reason()).isEqualTo("failed: attempt 1 lost (worker died): charged its whole grant 600 tokens (reported 250)");
        assertThat(lost.entries()).extracting(LedgerEntry::path).containsExactly("w/a", "w");
        assertThat(d.ledger.duplicatesIgnored()).isZero();
    }

    @Test
    void shouldChargeEveryLimitedDimensionOfTheGrant() {
        // given: tokens and steps limited, input not: the probe gets 1000 tokens and 10 steps
        Driver d = Driver.of(strict(workflow("w", budget(1000L, null, null, 10L, null, null), once("a", NONE))));
        d.begin();
        d.usage("w/a", 100, 20, 2);

        // when
        d.lost("w/a", 0);

        // then
        LedgerEntry w = d.entry("w");
        assertThat(w.spent().totalTokens()).isEqualTo(1000);
        assertThat(w.spent().steps()).isEqualTo(10);
        assertThat(w.reserved()).isEqualTo(io.sluice.schemas.Reservation.ZERO);
        assertThat(d.entry("w/a").reason())
                .isEqualTo("failed: attempt 1 lost (worker died): charged its whole grant 1000 tokens (reported 120), 10 steps (reported 2)");
    }

    @Test
    void shouldChargeALostAttemptItsWholeCostGrant() {
        // given: a leaf that may cost 400 µUSD reports 150 before its worker dies
        Driver d = Driver.of(strict(workflow("w", Budget.NONE.withMaxCostMicrousd(1000L),
                once("a", Budget.NONE.withMaxCostMicrousd(400L)))));
        d.begin();
        d.priced("w/a", 10, 150);

        // when
        d.lost("w/a", 0);

        // then: the dead delivery may have spent all of it
        assertThat(d.entry("w").spent().costMicrousd()).isEqualTo(400);
        assertThat(d.entry("w/a").reason()).isEqualTo(
                "failed: attempt 1 lost (worker died): charged its whole grant 400 µUSD (reported 150)");
    }

    @Test
    void shouldChargeTheTokensRemainderAsOutputFirstWhenOnlyOutputIsLimited() {
        // given: 1000 tokens of which at most 100 output
        Driver d = Driver.of(strict(workflow("w", budget(1000L, null, 100L, null, null, null), once("a", NONE))));
        d.begin();
        d.usage("w/a", 10, 5, 1);

        // when
        d.lost("w/a", 0);

        // then: output gets what is left of its grant (95), input the rest of the tokens grant (890)
        LedgerEntry w = d.entry("w");
        assertThat(w.spent()).isEqualTo(new Usage(900, 100, 1));
        assertThat(d.entry("w/a").reason()).isEqualTo("failed: attempt 1 lost (worker died): charged its whole grant "
                + "1000 tokens (reported 15), 100 output tokens (reported 5)");
    }

    @Test
    void shouldChargeNoMoreTokensThanInputAndOutputGrantsAllow() {
        // given: input and output capped at 100 each under 1000 tokens: the worker cannot have spent more than 200
        Driver d = Driver.of(strict(workflow("w", budget(1000L, 100L, 100L, null, null, null), once("a", NONE))));
        d.begin();

        // when
        d.lost("w/a", 0);

        // then: 200 charged, the other 800 tokens refunded; the reason says what the grant allowed
        LedgerEntry w = d.entry("w");
        assertThat(w.spent()).isEqualTo(new Usage(100, 100, 0));
        assertThat(w.reserved().tokens()).isZero();
        assertThat(d.entry("w/a").reason()).isEqualTo("failed: attempt 1 lost (worker died): charged what its grant allows: "
                + "200 of 1000 tokens (reported 0), 100 input tokens (reported 0), 100 output tokens (reported 0)");
    }

    @Test
    void shouldIgnoreLateEventsOfALostAttemptAndASecondNotice() {
        // given: a's worker reported 2 steps, then was declared lost
        Driver d = Driver.of(strict(workflow("w", tokens(1000), 400L, once("a", NONE), leaf("b"))));
        d.begin();
        d.usage("w/a", 50, 0, 1);
        d.usage("w/a", 50, 0, 1);
        d.lost("w/a", 0);
        LedgerEntry before = d.entry("w");
        assertThat(before.spent().totalTokens()).isEqualTo(400);

        // when: the "dead" worker was only slow — its next steps arrive — and the notice comes again
        Decisions late1 = d.raw(late("w/a", 1, 3, 80));
        Decisions late2 = d.raw(late("w/a", 1, 4, 80));
        Decisions again = d.raw(new UsageEvent("run-1", "w/a", 1, "worker-3", 0, 0, 0, 0, true, Status.LOST, null, null, 0));

        // then: ignored as duplicates, within the 400 already charged
        assertThat(late1.isEmpty()).isTrue();
        assertThat(late2.isEmpty()).isTrue();
        assertThat(again.isEmpty()).isTrue();
        assertThat(d.ledger.duplicatesIgnored()).isEqualTo(3);
        assertThat(d.entry("w")).isEqualTo(before);
    }

    @Test
    void shouldTakeALostNoticeWhateverTheAttemptsSequenceNumberAndFromAnotherWorker() {
        // given: the attempt's own worker reached seq 3
        Driver d = Driver.of(strict(workflow("w", tokens(1000), 100L, once("a", NONE))));
        d.begin();
        for (int seq = 1; seq <= 3; seq++) {
            d.raw(late("w/a", 1, seq, 10));
        }

        // when: the notice of the worker that received the attempt again (seq 0, as the protocol writes it)
        d.raw(new UsageEvent("run-1", "w/a", 1, "worker-2", 0, 0, 0, 0, true, Status.LOST, null, null, 0));

        // then
        assertThat(d.ledger.duplicatesIgnored()).isZero();
        assertThat(d.entry("w/a").status()).isEqualTo(Status.FAILED);
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(100);
        assertThat(d.ledger.isTerminal()).isTrue();
    }

    @Test
    void shouldRefuseALostNoticeThatCarriesASeqOrUsage() {
        // given
        Driver d = Driver.of(strict(workflow("w", tokens(1000), 100L, once("a", NONE))));
        d.begin();
        LedgerEntry before = d.entry("w");

        // when: notices the worker protocol never writes
        Decisions withSeq = d.raw(new UsageEvent("run-1", "w/a", 1, "worker-2", 2, 0, 0, 0, true, Status.LOST, null, null, 0));
        Decisions withUsage = d.raw(new UsageEvent("run-1", "w/a", 1, "worker-2", 0, 5, 0, 0, true, Status.LOST, null, null, 0));

        // then: refused with the reason, nothing folded, the attempt still in flight
        assertThat(withSeq.rejection()).isEqualTo("a lost notice has seq 0 and no usage, got seq 2 and "
                + new Usage(0, 0, 0));
        assertThat(withUsage.rejection()).startsWith("a lost notice has seq 0 and no usage, got seq 0 and");
        assertThat(d.ledger.rejectedEvents()).isEqualTo(2);
        assertThat(d.entry("w")).isEqualTo(before);
        assertThat(d.entry("w/a").status()).isEqualTo(Status.RUNNING);
    }

    @Test
    void shouldChargeOnlyWhatWasReportedInOptimisticModeAndSaySo() {
        // given: optimistic grants carry the leaf's own cap of 600
        Driver d = Driver.of(optimistic(workflow("w", tokens(1000), once("a", tokens(600)))));
        d.begin();
        d.usage("w/a", 200, 50, 1);

        // when
        d.lost("w/a", 0);

        // then
        assertThat(d.entry("w").spent()).isEqualTo(new Usage(200, 50, 1));
        assertThat(d.entry("w/a").reason()).isEqualTo("failed: attempt 1 lost (worker died): charged only what it "
                + "reported, 250 tokens and 1 step (optimistic mode charges no grant)");
    }

    @Test
    void shouldChargeOnlyWhatWasReportedWhenTheGrantLimitsNothing() {
        // given: strict mode, but no limit anywhere
        Driver d = Driver.of(strict(workflow("w", NONE, once("a", NONE))));
        d.begin();
        d.usage("w/a", 10, 5, 1);

        // when
        d.lost("w/a", 0);

        // then
        assertThat(d.entry("w").spent()).isEqualTo(new Usage(10, 5, 1));
        assertThat(d.entry("w/a").reason()).isEqualTo("failed: attempt 1 lost (worker died): charged only what it "
                + "reported, 15 tokens and 1 step (its grant limits nothing)");
    }

    @Test
    void shouldEndALostAttemptBelowAHaltedNodeWithTheHaltsStatus() {
        // given: a branch of 500 ms whose only attempt's worker dies
        Driver d = Driver.of(strict(workflow("w", NONE,
                branch("b", budget(100L, null, null, null, 500L, null), 60L, leaf("x")))));
        d.begin();
        d.tick(1500);                         // the branch times out with x in flight
        assertThat(d.halts).singleElement().satisfies(h -> assertThat(h.status()).isEqualTo(Status.TIMED_OUT));

        // when
        Decisions last = d.lost("w/b/x", 0);

        // then: charged, not retried, timed_out as its worker would have reported
        LedgerEntry x = d.entry("w/b/x");
        assertThat(x.status()).isEqualTo(Status.TIMED_OUT);
        assertThat(x.reason()).isEqualTo("halted: w/b timeout_ms 500 passed; attempt 1 lost (worker died): charged its "
                + "whole grant 60 tokens (reported 0)");
        assertThat(d.entry("w/b").spent().totalTokens()).isEqualTo(60);
        assertThat(last.tasks()).isEmpty();
        assertThat(last.receipt().status()).isEqualTo(Status.TIMED_OUT);
    }

    @Test
    void shouldNotTakeWhatALostAttemptReportedAsAKnownEstimate() {
        // given: one at a time; a (own cap 200) reports 40, then is lost
        Driver d = Driver.of(strict(workflow("w", budget(1000L, null, null, null, null, 1), once("a", tokens(200)), leaf("b"))));
        d.begin();
        d.usage("w/a", 40, 0, 1);

        // when
        Decisions lost = d.lost("w/a", 0);

        // then: b probes with all that is left (800) rather than getting ceil(40 × 1.25) from a truncated report
        assertThat(lost.tasks()).singleElement().satisfies(t -> {
            assertThat(t.path()).isEqualTo("w/b");
            assertThat(t.grant().maxTokens()).isEqualTo(800L);
        });
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(200);
    }

    @Test
    void shouldLetALostProbeUseUpItsNodeAndHaltIt() {
        // given: the probe holds all 1000 tokens when its worker dies
        Driver d = Driver.of(strict(workflow("w", tokens(1000), once("a", NONE), leaf("b"))));
        d.begin();

        // when
        Decisions lost = d.lost("w/a", 0);

        // then: charged all of it; b cannot be admitted and the workflow halts, with nothing overspent
        assertThat(lost.halts()).singleElement().satisfies(h -> assertThat(h.path()).isEqualTo("w"));
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(1000);
        assertThat(d.entry("w").overshoot()).isZero();
        assertThat(d.entry("w").leaves()).isEqualTo(Map.of(Status.FAILED, 1L, Status.BUDGET_EXCEEDED, 1L));
        assertThat(lost.receipt().reason()).isEqualTo("w: max_tokens 1000 exhausted (spent 1000, remaining 0)");
    }
}
