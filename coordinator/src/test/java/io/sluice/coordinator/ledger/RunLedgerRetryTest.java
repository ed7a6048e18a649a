package io.sluice.coordinator.ledger;

import static io.sluice.coordinator.ledger.Trees.NONE;
import static io.sluice.coordinator.ledger.Trees.branch;
import static io.sluice.coordinator.ledger.Trees.budget;
import static io.sluice.coordinator.ledger.Trees.leaf;
import static io.sluice.coordinator.ledger.Trees.optimistic;
import static io.sluice.coordinator.ledger.Trees.repeated;
import static io.sluice.coordinator.ledger.Trees.strict;
import static io.sluice.coordinator.ledger.Trees.tokens;
import static io.sluice.coordinator.ledger.Trees.workflow;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;

import org.junit.jupiter.api.Test;

import io.sluice.schemas.Budget;
import io.sluice.schemas.Halt;
import io.sluice.schemas.Leaf;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Status;

/** Leaves tried again after a failed, lost or shut-down attempt. */
class RunLedgerRetryTest {

    private static Leaf tries(String id, Budget budget, int maxAttempts) {
        return new Leaf(id, budget, "simulated", null, 1, maxAttempts);
    }

    /** When the retry of {@code path} after attempt {@code attempt} ended at {@code endedAt} is due, by defaults. */
    private static long due(String path, int attempt, long endedAt) {
        return endedAt + RetryBackoff.delayMs(LedgerConfig.defaults(), "run-1", path, attempt);
    }

    @Test
    void shouldRetryAFailedLeafAfterItsBackoffWithANewAttemptAndAFreshGrant() {
        // given: a fails on its first attempt, having spent 30 of its 100
        Driver d = Driver.of(strict(workflow("w", tokens(1000), 100L, leaf("a"))));
        d.begin();
        d.usage("w/a", 30, 0, 1);

        // when
        Decisions failed = d.fail("w/a", Status.FAILED, "boom");

        // then: pending again, holding nothing, not ended; a timer for its retry
        long retryAt = due("w/a", 1, Driver.START);
        assertThat(retryAt - Driver.START).isBetween(100L, 199L);
        assertThat(failed.tasks()).isEmpty();
        assertThat(failed.entries()).extracting(LedgerEntry::path).containsExactly("w/a", "w");
        LedgerEntry a = d.entry("w/a");
        assertThat(failed.entries().get(0)).isEqualTo(a);
        assertThat(a.status()).isEqualTo(Status.PENDING);
        assertThat(a.attempt()).isEqualTo(1);
        assertThat(a.retryAtMs()).isEqualTo(retryAt);
        assertThat(a.grant()).isNull();
        assertThat(a.reason()).isEqualTo("attempt 1 failed (worker: boom); attempt 2 not before " + retryAt);
        assertThat(a.spent().totalTokens()).isEqualTo(30);
        assertThat(d.entry("w").leaves()).isEqualTo(Map.of(Status.PENDING, 1L));
        assertThat(d.entry("w").reserved().tokens()).isZero();
        assertThat(d.ledger.nextDeadlineMs()).isEqualTo(OptionalLong.of(retryAt));
        assertThat(d.ledger.liveLeafObjects()).isEqualTo(1);

        // when: not yet due, then due
        Decisions early = d.tick(retryAt - 1);
        Decisions retry = d.tick(retryAt);

        // then: attempt 2 with a fresh grant
        assertThat(early.isEmpty()).isTrue();
        assertThat(retry.tasks()).singleElement().satisfies(t -> {
            assertThat(t.path()).isEqualTo("w/a");
            assertThat(t.attempt()).isEqualTo(2);
            assertThat(t.grant().maxTokens()).isEqualTo(100L);
            assertThat(t.dispatchedAtMs()).isEqualTo(retryAt);
        });
        assertThat(d.ledger.nextDeadlineMs()).isEmpty();
        assertThat(d.entry("w").reserved().tokens()).isEqualTo(100);

        // when: events of attempt 1 arrive late, then attempt 2 succeeds
        assertThat(d.raw(new io.sluice.schemas.UsageEvent("run-1", "w/a", 1, "w-1", 9, 5, 0, 1, false, Status.RUNNING,
                null, null, 0)).isEmpty()).isTrue();
        Decisions last = d.work("w/a", 40);

        // then: both attempts' usage counts; the reason names the attempts
        assertThat(d.entry("w/a").reason()).isEqualTo("succeeded after 2 attempts");
        assertThat(d.entry("w/a").spent().totalTokens()).isEqualTo(70);
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(70);
        assertThat(last.receipt().status()).isEqualTo(Status.SUCCEEDED);
        assertThat(d.ledger.liveLeafObjects()).isZero();
    }

    @Test
    void shouldRetryALostAttemptAfterChargingItsWholeGrant() {
        // given
        Driver d = Driver.of(strict(workflow("w", tokens(1000), 300L, leaf("a"))));
        d.begin();
        d.usage("w/a", 100, 0, 1);

        // when
        d.lost("w/a", 0);
        long retryAt = due("w/a", 1, Driver.START);
        Decisions retry = d.tick(retryAt);
        Decisions last = d.work("w/a", 50);

        // then: 300 charged for attempt 1, 50 for attempt 2, and the reason keeps why
        assertThat(retry.tasks()).singleElement().satisfies(t -> assertThat(t.attempt()).isEqualTo(2));
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(350);
        assertThat(d.entry("w/a").reason()).isEqualTo("succeeded after 2 attempts; attempt 1 lost (worker died): "
                + "charged its whole grant 300 tokens (reported 100)");
        assertThat(last.receipt()).isNotNull();
    }

    @Test
    void shouldGiveARetryOnlyWhatTheLeafsOwnLimitHasLeft() {
        // given: a's own cap of 100 tokens holds across its attempts
        Driver d = Driver.of(strict(workflow("w", tokens(1000), leaf("a", tokens(100)), leaf("b", tokens(100)))));
        d.begin();
        d.usage("w/a", 30, 0, 1);
        d.fail("w/a", Status.FAILED, "boom");
        d.usage("w/b", 10, 0, 1);
        d.lost("w/b", 0);

        // when
        Decisions retries = d.tick(Driver.START + 10_000);

        // then: a gets the 70 left; b's lost attempt used up its own 100, so it ends budget_exceeded, halting nothing
        assertThat(retries.tasks()).singleElement().satisfies(t -> {
            assertThat(t.path()).isEqualTo("w/a");
            assertThat(t.grant().maxTokens()).isEqualTo(70L);
        });
        LedgerEntry b = d.entry("w/b");
        assertThat(b.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(b.reason()).isEqualTo("attempt 2 not admitted: its own max_tokens 100 is used up (charged 100); "
                + "attempt 1 lost (worker died): charged its whole grant 100 tokens (reported 10)");
        assertThat(b.spent().totalTokens()).isEqualTo(100);
        assertThat(d.halts).isEmpty();
    }

    @Test
    void shouldNotHoldAParallelSlotWhileWaitingForARetry() {
        // given: one at a time
        Driver d = Driver.of(strict(workflow("w", Trees.parallel(1), 10L, repeated("l", NONE, 2))));
        d.begin();

        // when: l[0] fails
        Decisions failed = d.fail("w/l[0]", Status.FAILED, "boom");

        // then: its slot goes to l[1] at once
        assertThat(failed.tasks()).extracting(LeafTask::path).containsExactly("w/l[1]");

        // when: l[0]'s retry is due while l[1] holds the slot
        Decisions due = d.tick(due("w/l[0]", 1, Driver.START));

        // then: it waits for the slot, here (no task, and no timer while it waits)
        assertThat(due.tasks()).isEmpty();
        assertThat(d.entry("w").leaves()).isEqualTo(Map.of(Status.RUNNING, 1L, Status.PENDING, 1L));
        assertThat(d.ledger.nextDeadlineMs()).isEmpty();

        // when: l[1] finishes
        Decisions freed = d.work("w/l[1]", 3);

        // then
        assertThat(freed.tasks()).singleElement().satisfies(t -> {
            assertThat(t.path()).isEqualTo("w/l[0]");
            assertThat(t.attempt()).isEqualTo(2);
        });
        assertThat(d.maxRunning()).isEqualTo(1);
    }

    @Test
    void shouldDispatchARetryAtOnceWhenTheBackoffIsZero() {
        // given
        LedgerConfig noWait = new LedgerConfig(1.25, 0.5, 1000, 3, Duration.ZERO, Duration.ZERO);
        Driver d = Driver.of(strict(workflow("w", tokens(1000), 100L, leaf("a"))), noWait);
        d.begin();

        // when
        Decisions failed = d.fail("w/a", Status.FAILED, "boom");

        // then
        assertThat(failed.tasks()).singleElement().satisfies(t -> assertThat(t.attempt()).isEqualTo(2));
    }

    @Test
    void shouldLetADueRetryWaitForARefundLikeAnyLeaf() {
        // given: 100 tokens, 60 per leaf: a runs, b waits for a refund
        Driver d = Driver.of(strict(workflow("w", tokens(100), 60L, leaf("a"), leaf("b"))));
        d.begin();
        assertThat(d.runningPaths()).containsExactly("w/a");

        // when: a fails having spent 10 → its refund admits b; then a's retry is due: 30 left < 60, b busy
        d.usage("w/a", 10, 0, 1);
        Decisions failed = d.fail("w/a", Status.FAILED, "boom");
        Decisions due = d.tick(due("w/a", 1, Driver.START));

        // then: a waits (no last chance while a refund may come)
        assertThat(failed.tasks()).extracting(LeafTask::path).containsExactly("w/b");
        assertThat(due.tasks()).isEmpty();
        assertThat(d.entry("w/a").status()).isEqualTo(Status.PENDING);

        // when: b finishes having used 20
        Decisions refund = d.work("w/b", 20);

        // then: a's attempt 2 gets its full 60
        assertThat(refund.tasks()).singleElement().satisfies(t -> {
            assertThat(t.path()).isEqualTo("w/a");
            assertThat(t.attempt()).isEqualTo(2);
            assertThat(t.grant().maxTokens()).isEqualTo(60L);
        });
    }

    @Test
    void shouldGiveARetryItsLastChanceWithWhatIsLeft() {
        // given: a uses all its 60 of 100, then fails
        Driver d = Driver.of(strict(workflow("w", tokens(100), 60L, leaf("a"))));
        d.begin();
        d.usage("w/a", 60, 0, 1);
        d.fail("w/a", Status.FAILED, "boom");

        // when
        Decisions retry = d.tick(due("w/a", 1, Driver.START));

        // then: 40 ≥ ceil(60 × 0.5): dispatched with 40
        assertThat(retry.tasks()).singleElement().satisfies(t -> assertThat(t.grant().maxTokens()).isEqualTo(40L));
    }

    @Test
    void shouldRefuseARetryTheBudgetCannotCoverAndHaltTheNode() {
        // given: a minimum useful fraction of 0.8: 40 left is too little for a grant of 60
        LedgerConfig config = new LedgerConfig(1.25, 0.8, 1000);
        Driver d = Driver.of(strict(workflow("w", tokens(100), 60L, leaf("a"))), config);
        d.begin();
        d.usage("w/a", 60, 0, 1);
        d.fail("w/a", Status.FAILED, "boom");

        // when
        Decisions refused = d.tick(due("w/a", 1, Driver.START));

        // then
        assertThat(refused.tasks()).isEmpty();
        assertThat(refused.halts()).extracting(Halt::path).containsExactly("w");
        LedgerEntry a = d.entry("w/a");
        assertThat(a.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(a.reason()).isEqualTo("attempt 2 not admitted: grant 60 > remaining 40 at w (max_tokens); "
                + "attempt 1 failed (worker: boom)");
        assertThat(a.spent().totalTokens()).isEqualTo(60);
        assertThat(refused.receipt().reason()).isEqualTo("w: max_tokens 100 exhausted (spent 60, remaining 40)");
    }

    @Test
    void shouldFailAfterMaxAttemptsNamingThem() {
        // given: two attempts allowed
        Driver d = Driver.of(strict(workflow("w", NONE, 10L, tries("a", NONE, 2))));
        d.begin();
        d.fail("w/a", Status.FAILED, "boom 1");
        d.tick(due("w/a", 1, Driver.START));

        // when
        Decisions last = d.fail("w/a", Status.FAILED, "boom 2");

        // then
        assertThat(last.tasks()).isEmpty();
        assertThat(d.entry("w/a").status()).isEqualTo(Status.FAILED);
        assertThat(d.entry("w/a").reason()).isEqualTo("failed after 2 attempts: boom 2");
        assertThat(last.receipt().reason()).isEqualTo("w/a: failed after 2 attempts: boom 2");
        assertThat(d.dispatched).extracting(LeafTask::attempt).containsExactly(1, 2);
    }

    @Test
    void shouldFailALostLeafAfterMaxAttemptsKeepingEveryCharge() {
        // given: three attempts (the default), each lost
        Driver d = Driver.of(strict(workflow("w", tokens(1000), 100L, leaf("a"))));
        d.begin();
        d.lost("w/a", 0);
        d.tick(d.ledger.nextDeadlineMs().orElseThrow());
        d.usage("w/a", 20, 0, 1);
        d.lost("w/a", 0);
        d.tick(d.ledger.nextDeadlineMs().orElseThrow());

        // when
        Decisions last = d.lost("w/a", 0);

        // then
        assertThat(d.entry("w/a").status()).isEqualTo(Status.FAILED);
        assertThat(d.entry("w/a").reason()).isEqualTo("failed after 3 attempts: attempt 3 lost (worker died): charged its "
                + "whole grant 100 tokens (reported 0); attempt 1 lost (worker died): charged its whole grant 100 tokens "
                + "(reported 0); attempt 2 lost (worker died): charged its whole grant 100 tokens (reported 20)");
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(300);
        assertThat(last.receipt()).isNotNull();
    }

    @Test
    void shouldTakeTheConfiguredDefaultWhenALeafSetsNoMaxAttempts() {
        // given: a default of one attempt
        LedgerConfig once = new LedgerConfig(1.25, 0.5, 1000, 1, Duration.ofMillis(200), Duration.ofSeconds(10));
        Driver d = Driver.of(strict(workflow("w", NONE, 10L, leaf("a"))), once);
        d.begin();

        // when
        Decisions last = d.fail("w/a", Status.FAILED, "boom");

        // then
        assertThat(d.entry("w/a").reason()).isEqualTo("failed (worker: boom)");
        assertThat(last.receipt()).isNotNull();
    }

    @Test
    void shouldRetryAnAttemptItsWorkerCancelledWithoutAHaltAndNotCallItAFailure() {
        // given: the worker shut down after reporting 10 tokens
        Driver d = Driver.of(strict(workflow("w", tokens(1000), 100L, leaf("a"), tries("b", NONE, 1))));
        d.begin();
        d.usage("w/a", 10, 0, 1);

        // when
        Decisions cancelled = d.fail("w/a", Status.CANCELLED, "worker shutting down");
        Decisions capped = d.fail("w/b", Status.CANCELLED, "worker shutting down");

        // then: charged what it reported, then retried; b had no attempt left and ends cancelled
        assertThat(cancelled.tasks()).isEmpty();
        assertThat(d.entry("w/a").reason()).isEqualTo("attempt 1 cancelled by its worker (not halted) (worker: worker "
                + "shutting down); attempt 2 not before " + due("w/a", 1, Driver.START));
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(10);
        assertThat(d.entry("w/b").status()).isEqualTo(Status.CANCELLED);
        assertThat(d.entry("w/b").reason()).isEqualTo("cancelled (worker: worker shutting down)");
        assertThat(capped.halts()).isEmpty();

        // when
        d.tick(due("w/a", 1, Driver.START));
        Decisions last = d.work("w/a", 5);

        // then
        assertThat(d.entry("w/a").reason()).isEqualTo("succeeded after 2 attempts");
        assertThat(last.receipt().status()).isEqualTo(Status.CANCELLED);
    }

    @Test
    void shouldNeverRetryBudgetExceededTimedOutOrHaltCancelledAttempts() {
        // given
        Driver d = Driver.of(optimistic(workflow("w", tokens(100), 50L, leaf("x"), leaf("t"),
                branch("b", tokens(10), leaf("h"), leaf("g")))));
        d.begin();

        // when: x used up its grant, t passed its deadline, h is stopped by b's halt
        d.work("w/x", 80);
        d.fail("w/t", Status.TIMED_OUT, "deadline passed");
        d.usage("w/b/h", 10, 0, 1);
        assertThat(d.halts).extracting(Halt::path).containsExactly("w/b");
        d.fail("w/b/h", Status.CANCELLED, "stopped: halted");
        Decisions last = d.fail("w/b/g", Status.CANCELLED, "stopped: halted");

        // then: all ended, no retry pending
        assertThat(d.ledger.nextDeadlineMs()).isEmpty();
        assertThat(d.entry("w/x").status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(d.entry("w/t").status()).isEqualTo(Status.TIMED_OUT);
        assertThat(d.entry("w/b/h").status()).isEqualTo(Status.CANCELLED);
        assertThat(d.dispatched).extracting(LeafTask::attempt).containsOnly(1);
        assertThat(last.receipt()).isNotNull();
    }

    @Test
    void shouldNotRetryAFailureBelowAHaltedNode() {
        // given: a branch halted on its deadline while its leaf runs
        Driver d = Driver.of(strict(workflow("w", NONE, 10L, branch("b", budget(null, null, null, null, 500L, null),
                leaf("x")))));
        d.begin();
        d.tick(1500);

        // when
        Decisions last = d.fail("w/b/x", Status.FAILED, "boom");

        // then
        assertThat(d.entry("w/b/x").status()).isEqualTo(Status.FAILED);
        assertThat(last.receipt()).isNotNull();
        assertThat(d.ledger.nextDeadlineMs()).isEmpty();
    }

    @Test
    void shouldCancelAPendingRetryWhenAnAncestorsDeadlinePasses() {
        // given: x fails shortly before its branch's deadline
        Driver d = Driver.of(strict(workflow("w", NONE, 10L,
                branch("b", budget(null, null, null, null, 1000L, null), leaf("x")), leaf("y"))));
        d.begin();
        d.now = 1950;
        d.fail("w/b/x", Status.FAILED, "boom");
        assertThat(d.ledger.nextDeadlineMs()).isEqualTo(OptionalLong.of(2000));

        // when
        Decisions expired = d.tick(2000);

        // then: the retry is cancelled with the halt's reason, and no timer is left for it
        assertThat(expired.tasks()).isEmpty();
        LedgerEntry x = d.entry("w/b/x");
        assertThat(x.status()).isEqualTo(Status.CANCELLED);
        assertThat(x.reason()).isEqualTo("halted: w/b timeout_ms 1000 passed; attempt 1 failed (worker: boom)");
        assertThat(expired.entries()).extracting(LedgerEntry::path).contains("w/b/x");
        assertThat(d.entry("w/b").status()).isEqualTo(Status.TIMED_OUT);
        assertThat(d.ledger.nextDeadlineMs()).isEmpty();
        assertThat(d.ledger.liveLeafObjects()).isEqualTo(1);
    }

    @Test
    void shouldCancelAPendingRetryWhenAnAncestorHaltsForBudget() {
        // given: optimistic; a fails, then b's usage crosses the workflow's limit
        Driver d = Driver.of(optimistic(workflow("w", tokens(100), leaf("a"), leaf("b"))));
        d.begin();
        d.usage("w/a", 10, 0, 1);
        d.fail("w/a", Status.FAILED, "boom");

        // when
        Decisions crossing = d.usage("w/b", 95, 0, 1);

        // then
        assertThat(crossing.halts()).extracting(Halt::path).containsExactly("w");
        assertThat(d.entry("w/a").status()).isEqualTo(Status.CANCELLED);
        assertThat(d.entry("w/a").reason()).isEqualTo("halted: w max_tokens exhausted; attempt 1 failed (worker: boom)");
        assertThat(d.entry("w/a").spent().totalTokens()).isEqualTo(10);
        assertThat(d.ledger.nextDeadlineMs()).isEqualTo(OptionalLong.of(d.now + LedgerConfig.DEFAULT_ABANDON_GRACE.toMillis()));

        // when
        Decisions last = d.fail("w/b", Status.CANCELLED, "stopped");

        // then
        assertThat(d.entry("w").leaves()).isEqualTo(Map.of(Status.CANCELLED, 2L));
        assertThat(last.receipt().status()).isEqualTo(Status.BUDGET_EXCEEDED);
    }

    @Test
    void shouldListAWaitingRetryAsPendingInAReceiptSnapshot() {
        // given
        Driver d = Driver.of(strict(workflow("w", NONE, 10L, leaf("a"), leaf("b"))));
        d.begin();
        d.fail("w/a", Status.FAILED, "boom");

        // when
        var snapshot = d.ledger.receipt();

        // then
        assertThat(snapshot.nodes()).extracting(LedgerEntry::path, LedgerEntry::status).containsExactly(
                org.assertj.core.groups.Tuple.tuple("w", Status.RUNNING),
                org.assertj.core.groups.Tuple.tuple("w/a", Status.PENDING),
                org.assertj.core.groups.Tuple.tuple("w/b", Status.RUNNING));
    }

    @Test
    void shouldGiveTheSameRetryTimesForTheSameInputs() {
        // given: two ledgers fed the same events
        Driver first = Driver.of(strict(workflow("w", NONE, 10L, repeated("l", NONE, 4))));
        Driver second = Driver.of(strict(workflow("w", NONE, 10L, repeated("l", NONE, 4))));

        // when
        for (Driver d : new Driver[] {first, second}) {
            d.begin();
            for (String path : d.runningPaths()) {
                d.fail(path, Status.FAILED, "boom");
            }
            while (d.ledger.nextDeadlineMs().isPresent()) {
                d.tick(d.ledger.nextDeadlineMs().getAsLong());
                for (String path : d.runningPaths()) {
                    d.fail(path, Status.FAILED, "boom");
                }
            }
        }

        // then: identical; and the copies, all failed at the same instant, are retried at different times
        assertThat(second.history).isEqualTo(first.history);
        assertThat(first.dispatched).hasSize(12).filteredOn(t -> t.attempt() == 2).extracting(LeafTask::dispatchedAtMs)
                .hasSize(4).doesNotHaveDuplicates();
        assertThat(first.ledger.receipt().nodes().get(1).reason()).isEqualTo("failed after 3 attempts: boom");
    }
}
