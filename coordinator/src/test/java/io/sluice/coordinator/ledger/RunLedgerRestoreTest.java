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
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

import io.sluice.schemas.Grant;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Reservation;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.Usage;
import io.sluice.schemas.UsageEvent;

/**
 * A run taken over by another coordinator: {@link RunLedger#restore} from the latest ledger entries, then the same
 * inputs to the original and the restored ledger. The property over random runs is {@link RunLedgerRestorePropertyTest}.
 */
class RunLedgerRestoreTest {

    /** Makes the same call on both drivers; they must decide the same. */
    private static Decisions same(Driver original, Driver restored, Function<Driver, Decisions> call) {
        Decisions expected = call.apply(original);
        assertThat(call.apply(restored)).isEqualTo(expected);
        return expected;
    }

    /** S + R ≤ L at every given node, in every limited dimension. */
    private static void assertStrictInvariant(RunLedger ledger, String... paths) {
        for (String path : paths) {
            LedgerEntry e = ledger.entry(path);
            Usage s = e.spent();
            Reservation r = e.reserved();
            assertLeq(path, "max_tokens", s.totalTokens() + r.tokens(), e.limits().maxTokens());
            assertLeq(path, "max_input_tokens", s.inputTokens() + r.inputTokens(), e.limits().maxInputTokens());
            assertLeq(path, "max_output_tokens", s.outputTokens() + r.outputTokens(), e.limits().maxOutputTokens());
            assertLeq(path, "max_steps", s.steps() + r.steps(), e.limits().maxSteps());
        }
    }

    private static void assertLeq(String path, String field, long spentAndReserved, Long limit) {
        if (limit != null) {
            assertThat(spentAndReserved).as("S + R ≤ L for %s at %s", field, path).isLessThanOrEqualTo(limit);
        }
    }

    @Test
    void shouldRestoreAttemptsInFlightWithTheirReservationsIntact() {
        // given: a and c in flight under b (600, all of it reserved), x under w (1000); e waits for a refund in b;
        // a has reported a step of 100
        Driver d = Driver.of(strict(workflow("w", tokens(1000), 300L,
                branch("b", tokens(600), leaf("a"), leaf("c"), leaf("e")), leaf("x"))));
        d.begin();
        d.usage("w/b/a", 100, 0, 1);

        // when
        Driver r = d.takeOver();

        // then: every node and leaf as the ledger says; the reservations intact, and S + R ≤ L everywhere
        for (String path : List.of("w", "w/b", "w/b/a", "w/b/c", "w/x")) {
            assertThat(r.entry(path)).as(path).isEqualTo(d.entry(path));
        }
        assertThat(r.entry("w").reserved().tokens()).isEqualTo(800);
        assertThat(r.entry("w/b").reserved().tokens()).isEqualTo(500);
        assertThat(r.entry("w/b/a").reserved().tokens()).isEqualTo(200);
        assertThat(r.entry("w/b").fold().paused()).isTrue();
        assertThat(r.ledger.entry("w/b/e")).isNull(); // never dispatched
        assertStrictInvariant(r.ledger, "w", "w/b");
        assertThat(r.ledger.liveLeafObjects()).isEqualTo(3);
        assertThat(r.ledger.nextDeadlineMs()).isEmpty();

        // when: the coordinator's first tick, a redelivered step, the next step
        Decisions first = same(d, r, x -> x.tick(x.now));
        UsageEvent again = new UsageEvent("run-1", "w/b/a", 1, "worker-1", 1, 100, 0, 1, false, Status.RUNNING, null,
                null, r.now);
        Decisions redelivered = r.raw(again);
        Decisions step = same(d, r, x -> x.usage("w/b/a", 50, 0, 1));

        // then: nothing new to dispatch; the redelivery is ignored, the next step charged
        assertThat(first.isEmpty()).isTrue();
        assertThat(redelivered.isEmpty()).isTrue();
        assertThat(r.ledger.duplicatesIgnored()).isEqualTo(1);
        assertThat(step.entries()).extracting(LedgerEntry::path).containsExactly("w/b/a", "w", "w/b");
        assertThat(r.entry("w/b/a").spent().totalTokens()).isEqualTo(150);
        assertThat(r.entry("w/b/a").lastSeq()).isEqualTo(2L);

        // when: a and c end: the refunds admit e, on both alike
        same(d, r, x -> x.finish("w/b/a", Status.SUCCEEDED));
        Decisions refund = same(d, r, x -> x.finish("w/b/c", Status.SUCCEEDED));

        // then
        assertThat(refund.tasks()).extracting(LeafTask::path).containsExactly("w/b/e");
        same(d, r, x -> x.work("w/b/e", 10));
        Decisions last = same(d, r, x -> x.work("w/x", 10));
        assertThat(last.receipt().status()).isEqualTo(Status.SUCCEEDED);
        assertThat(r.ledger.receipt()).isEqualTo(d.ledger.receipt());
    }

    @Test
    void shouldRestoreARetryWaitingAndDispatchItWhenDue() {
        // given: a failed its first attempt and waits for its retry
        Driver d = Driver.of(strict(workflow("w", tokens(1000), 100L, leaf("a"), leaf("b"))));
        d.begin();
        d.usage("w/a", 30, 0, 1);
        d.fail("w/a", Status.FAILED, "boom");
        long retryAt = Driver.START + RetryBackoff.delayMs(LedgerConfig.defaults(), "run-1", "w/a", 1);

        // when
        Driver r = d.takeOver();

        // then: waiting, holding nothing, with its timer
        LedgerEntry a = r.entry("w/a");
        assertThat(a).isEqualTo(d.entry("w/a"));
        assertThat(a.status()).isEqualTo(Status.PENDING);
        assertThat(a.retryAtMs()).isEqualTo(retryAt);
        assertThat(a.reason()).isEqualTo("attempt 1 failed (worker: boom); attempt 2 not before " + retryAt);
        assertThat(r.entry("w").reserved().tokens()).isEqualTo(100); // b's grant only
        assertThat(r.ledger.nextDeadlineMs()).hasValue(retryAt);

        // when / then: not before it is due; then attempt 2, with a fresh grant
        assertThat(same(d, r, x -> x.tick(retryAt - 1)).isEmpty()).isTrue();
        Decisions retry = same(d, r, x -> x.tick(retryAt));
        assertThat(retry.tasks()).singleElement().satisfies(t -> {
            assertThat(t.attempt()).isEqualTo(2);
            assertThat(t.grant().maxTokens()).isEqualTo(100L);
        });
        same(d, r, x -> x.work("w/a", 40));
        same(d, r, x -> x.work("w/b", 40));
        assertThat(r.entry("w/a").reason()).isEqualTo("succeeded after 2 attempts");
        assertThat(r.ledger.receipt()).isEqualTo(d.ledger.receipt());
    }

    @Test
    void shouldDispatchNothingMoreBelowABranchThatHaltedBeforeTheTakeOver() {
        // given: b (100 tokens, 2 at a time) halted when l[0] reported 120; l[1] is still in flight; y is not in b
        Driver d = Driver.of(optimistic(workflow("w", NONE,
                branch("b", budget(100L, null, null, null, null, 2), repeated("l", NONE, 4)), leaf("y"))));
        d.begin();
        d.usage("w/b/l[0]", 120, 0, 1);
        assertThat(d.halts).extracting(h -> h.path()).containsExactly("w/b");

        // when
        Driver r = d.takeOver();

        // then: b still runs (l[1] is in flight) but is halted, and says why
        LedgerEntry b = r.entry("w/b");
        assertThat(b).isEqualTo(d.entry("w/b"));
        assertThat(b.status()).isEqualTo(Status.RUNNING);
        assertThat(b.reason()).isEqualTo("w/b: max_tokens 100 exhausted (spent 120, overshoot 20)");
        assertThat(b.fold().haltedFor()).isEqualTo("max_tokens");
        assertThat(b.leaves()).isEqualTo(Map.of(Status.RUNNING, 2L, Status.CANCELLED, 2L));

        // when: its attempts end, and y
        Decisions l0 = same(d, r, x -> x.finish("w/b/l[0]", Status.SUCCEEDED));
        Decisions l1 = same(d, r, x -> x.fail("w/b/l[1]", Status.CANCELLED, "stopped: halted"));
        Decisions y = same(d, r, x -> x.work("w/y", 5));

        // then: nothing was dispatched below b; it ends as its halt says; l[1] is not retried
        assertThat(l0.tasks()).isEmpty();
        assertThat(l1.tasks()).isEmpty();
        assertThat(r.dispatched).extracting(LeafTask::path).containsExactly("w/b/l[0]", "w/b/l[1]", "w/y");
        assertThat(r.entry("w/b").status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(r.entry("w/b/l[1]").status()).isEqualTo(Status.CANCELLED);
        assertThat(y.receipt()).isEqualTo(d.ledger.receipt());
    }

    @Test
    void shouldHandOutTheReceiptOnTheFirstCallWhenTakenOverAfterTheLastLeafEnded() {
        // given: a run whose last leaf ended in the last call published (the receipt of that call is lost)
        Driver d = Driver.of(strict(workflow("w", tokens(100), 50L, leaf("a"), leaf("b"))));
        d.begin();
        d.work("w/a", 10);
        Decisions last = d.work("w/b", 20);

        // when
        Driver r = d.takeOver();
        Decisions first = r.tick(r.now + 5);

        // then: the same receipt, once
        assertThat(r.ledger.isTerminal()).isTrue();
        assertThat(first.receipt()).isNotNull().isEqualTo(last.receipt());
        assertThat(first.tasks()).isEmpty();
        assertThat(first.entries()).isEmpty();
        assertThat(r.tick(r.now + 5).isEmpty()).isTrue();
    }

    @Test
    void shouldEndNodesLeftUnsettledOnTheFirstCall() {
        // given: entries in which every leaf has ended, but the workflow's still says running (as no entries this
        // ledger publishes would: it ends a node in the call its last leaf ends)
        Driver d = Driver.of(strict(workflow("w", tokens(100), 50L, leaf("a"), leaf("b"))));
        d.begin();
        d.work("w/a", 10);
        d.work("w/b", 20);
        Map<String, LedgerEntry> entries = d.compacted();
        LedgerEntry w = entries.get("w");
        entries.put("w", new LedgerEntry(w.runId(), w.path(), w.kind(), w.mode(), Status.RUNNING, null, w.limits(),
                w.reserved(), w.spent(), w.leaves(), w.overshoot(), Driver.START + 1, null, null, null, null, null,
                LedgerEntry.Fold.ofGroup(2L, null, null, Status.SUCCEEDED, "w/a: succeeded", null, null, null, null)));
        RunLedger r = RunLedger.restore(strict(workflow("w", tokens(100), 50L, leaf("a"), leaf("b"))), Driver.START,
                entries.values(), LedgerConfig.defaults());

        // when
        Decisions first = r.onTick(Driver.START + 100);

        // then: the workflow ends, and with it the run
        assertThat(first.entries()).extracting(LedgerEntry::path).containsExactly("w");
        assertThat(first.receipt().status()).isEqualTo(Status.SUCCEEDED);
        assertThat(first.receipt().reason()).isEqualTo("all 2 leaves succeeded");
        assertThat(first.receipt().finishedAtMs()).isEqualTo(Driver.START + 100);
    }

    @Test
    void shouldBeginOnTheFirstCallWhenRestoredFromNoEntries() {
        // given
        Submission s = strict(workflow("w", tokens(1000), 100L, branch("b", NONE, repeated("l", NONE, 3)), branch("e", NONE)));
        RunLedger created = RunLedger.create(s, LedgerConfig.defaults(), Driver.START);
        RunLedger ticked = RunLedger.restore(s, Driver.START, List.of(), LedgerConfig.defaults());
        RunLedger used = RunLedger.restore(s, Driver.START, List.of(), LedgerConfig.defaults());

        // when: the first call is a tick, or a usage event (which no attempt can have sent yet)
        Decisions begun = created.begin(Driver.START + 7);
        Decisions onTick = ticked.onTick(Driver.START + 7);
        Decisions onUsage = used.onUsage(new UsageEvent("run-1", "w/b/l[0]", 1, "worker-1", 1, 5, 5, 1, false,
                Status.RUNNING, null, null, Driver.START + 7), Driver.START + 7);

        // then: what begin does, either way; the event (of nothing dispatched) is refused
        assertThat(begun.tasks()).hasSize(3);
        assertThat(onTick).isEqualTo(begun);
        assertThat(onUsage.withRejection(null)).isEqualTo(begun);
        assertThat(onUsage.rejection()).isEqualTo("path: w/b/l[0] was never dispatched");
        assertThat(used.rejectedEvents()).isEqualTo(1);
        assertThat(used.entry("w").spent()).isEqualTo(Usage.ZERO);
        assertThat(ticked.onTick(Driver.START + 8).isEmpty()).isTrue();
    }

    // ------------------------------------------------------------------------------------------------- bad entries

    /** w (1000 tokens, 300 a leaf) with b (one leaf at a time: a, c) and l[0..2]. */
    private static final Submission SMALL = strict(workflow("w", tokens(1000), 300L,
            branch("b", budget(null, null, null, null, null, 1), leaf("a"), leaf("c")), repeated("l", NONE, 3)));

    /** The ledger of {@link #SMALL} with a, l[0] and l[1] in flight (l[0] has reported 10), c and l[2] waiting. */
    private static Map<String, LedgerEntry> smallRunEntries() {
        Driver d = Driver.of(SMALL);
        d.begin();
        d.usage("w/l[0]", 10, 0, 1);
        return d.compacted();
    }

    private static RunLedger restore(Map<String, LedgerEntry> entries) {
        return RunLedger.restore(SMALL, Driver.START, entries.values(), LedgerConfig.defaults());
    }

    private static LedgerEntry withPath(LedgerEntry e, String runId, String path) {
        return new LedgerEntry(runId, path, e.kind(), e.mode(), e.status(), e.reason(), e.limits(), e.reserved(),
                e.spent(), e.leaves(), e.overshoot(), e.updatedAtMs(), e.attempt(), e.grant(), e.attemptSpent(),
                e.lastSeq(), e.retryAtMs(), e.fold());
    }

    @Test
    void shouldTakeTheLatestEntryOfAPathGivenTwice() {
        // given: the uncompacted topic: every entry in the order published
        Driver d = Driver.of(SMALL);
        d.begin();
        d.usage("w/l[0]", 10, 0, 1);
        d.work("w/b/a", 5);
        List<LedgerEntry> all = new ArrayList<>();
        d.history.forEach(h -> all.addAll(h.entries()));

        // when
        RunLedger r = RunLedger.restore(SMALL, Driver.START, all, LedgerConfig.defaults());

        // then
        assertThat(all.size()).isGreaterThan(d.compacted().size());
        d.compacted().forEach((path, e) -> assertThat(r.entry(path)).as(path).isEqualTo(e));
    }

    @Test
    void shouldRejectEntriesOfAnotherRun() {
        Map<String, LedgerEntry> entries = smallRunEntries();
        entries.put("x", withPath(entries.get("w/l[0]"), "run-2", "w/l[0]"));

        assertThatThrownBy(() -> restore(entries)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("entries of other runs given to restore run run-1: run-2|w/l[0]");
    }

    @Test
    void shouldRejectEntriesOfPathsTheRunDoesNotHave() {
        Map<String, LedgerEntry> entries = smallRunEntries();
        for (String path : List.of("w/zz", "w/l[3]", "w/l", "w/b/a[0]", "v")) {
            entries.put(path, withPath(entries.get("w/l[0]"), "run-1", path));
        }

        assertThatThrownBy(() -> restore(entries)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("entries of paths run run-1 does not have: w/zz, w/l[3], w/l, w/b/a[0], v");
    }

    @Test
    void shouldRejectAMissingWorkflowOrBranchEntry() {
        Map<String, LedgerEntry> entries = smallRunEntries();
        entries.remove("w/b");

        assertThatThrownBy(() -> restore(entries)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no entry for w/b: every workflow and branch has one from the run's start");
    }

    @Test
    void shouldRejectEntriesOfTheOtherMode() {
        Map<String, LedgerEntry> entries = smallRunEntries();

        assertThatThrownBy(() -> RunLedger.restore(new Submission("run-1", Mode.OPTIMISTIC, SMALL.workflow()),
                Driver.START, entries.values(), LedgerConfig.defaults()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("w/b/a: entry in strict mode, but run run-1 runs in optimistic mode");
    }

    @Test
    void shouldRejectAnEntryOfTheWrongKind() {
        Map<String, LedgerEntry> entries = smallRunEntries();
        LedgerEntry b = entries.get("w/b");
        entries.put("w/b", new LedgerEntry(b.runId(), b.path(), "leaf", b.mode(), b.status(), b.reason(), b.limits(),
                b.reserved(), b.spent(), b.leaves(), b.overshoot(), b.updatedAtMs()));

        assertThatThrownBy(() -> restore(entries)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("w/b: entry of kind leaf for a branch");
    }

    @Test
    void shouldRejectARunningLeafEntryWithoutItsAttemptState() {
        Map<String, LedgerEntry> entries = smallRunEntries();
        LedgerEntry l = entries.get("w/l[0]");
        entries.put("w/l[0]", new LedgerEntry(l.runId(), l.path(), l.kind(), l.mode(), l.status(), l.reason(), l.limits(),
                l.reserved(), l.spent(), l.leaves(), l.overshoot(), l.updatedAtMs(), l.attempt(), null, l.attemptSpent(),
                null, null));

        assertThatThrownBy(() -> restore(entries)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("w/l[0]: a running leaf's entry needs attempt, grant, attempt_spent and last_seq; "
                        + "it has no grant, last_seq");
    }

    @Test
    void shouldRejectAReservationBeyondTheGrant() {
        Map<String, LedgerEntry> entries = smallRunEntries();
        LedgerEntry l = entries.get("w/l[0]");
        entries.put("w/l[0]", new LedgerEntry(l.runId(), l.path(), l.kind(), l.mode(), l.status(), l.reason(), l.limits(),
                new Reservation(400, 0, 0, 0), l.spent(), l.leaves(), l.overshoot(), l.updatedAtMs(), l.attempt(),
                l.grant(), l.attemptSpent(), l.lastSeq(), null));

        assertThatThrownBy(() -> restore(entries)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("w/l[0]: reserved " + new Reservation(400, 0, 0, 0) + " is not within its grant "
                        + new Grant(300L, null, null, null));
    }

    @Test
    void shouldRejectLeafCountsTheLeafEntriesDoNotMake() {
        // given: the entry of w/l[1], in flight, is missing
        Map<String, LedgerEntry> entries = smallRunEntries();
        entries.remove("w/l[1]");

        assertThatThrownBy(() -> restore(entries)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("w: its entry counts 3 running and 2 pending leaves, but the leaf entries below it make "
                        + "2 and 3");
    }

    @Test
    void shouldRejectReservationsTheAttemptsInFlightDoNotHold() {
        Map<String, LedgerEntry> entries = smallRunEntries();
        LedgerEntry l = entries.get("w/l[0]");
        entries.put("w/l[0]", new LedgerEntry(l.runId(), l.path(), l.kind(), l.mode(), l.status(), l.reason(), l.limits(),
                new Reservation(250, 0, 0, 0), l.spent(), l.leaves(), l.overshoot(), l.updatedAtMs(), l.attempt(),
                l.grant(), l.attemptSpent(), l.lastSeq(), null));

        assertThatThrownBy(() -> restore(entries)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("w: reserved " + new Reservation(890, 0, 0, 0) + ", but the leaves in flight below it hold "
                        + new Reservation(850, 0, 0, 0));
    }

    @Test
    void shouldRejectCopiesWithEntriesOutOfOrder() {
        // given: w/l[1] has an entry, w/l[0] none
        Map<String, LedgerEntry> entries = smallRunEntries();
        entries.put("w/l[1]", withPath(entries.remove("w/l[0]"), "run-1", "w/l[1]"));

        assertThatThrownBy(() -> restore(entries)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no entry for w/l[0], though w/l[1] has one: copies are dispatched in order");
    }

    @Test
    void shouldRejectALeafStatusNoLeafHas() {
        Map<String, LedgerEntry> entries = smallRunEntries();
        LedgerEntry l = entries.get("w/l[0]");
        entries.put("w/l[0]", new LedgerEntry(l.runId(), l.path(), l.kind(), l.mode(), Status.LOST, l.reason(), l.limits(),
                l.reserved(), l.spent(), l.leaves(), l.overshoot(), l.updatedAtMs()));

        assertThatThrownBy(() -> restore(entries)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("w/l[0]: a leaf cannot have status lost");
    }

    @Test
    void shouldRejectLeafCountsThatDoNotAddUpToTheLeavesOfTheNode() {
        Map<String, LedgerEntry> entries = smallRunEntries();
        LedgerEntry w = entries.get("w");
        Map<Status, Long> counts = new LinkedHashMap<>(w.leaves());
        counts.merge(Status.SUCCEEDED, 1L, Long::sum);
        entries.put("w", new LedgerEntry(w.runId(), w.path(), w.kind(), w.mode(), w.status(), w.reason(), w.limits(),
                w.reserved(), w.spent(), counts, w.overshoot(), w.updatedAtMs(), null, null, null, null, null, w.fold()));

        assertThatThrownBy(() -> restore(entries)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("w: leaves {").hasMessageEndingWith("} count 6 leaves, but it has 5");
    }
}
