package io.sluice.coordinator.ledger;

import static io.sluice.coordinator.ledger.Trees.branch;
import static io.sluice.coordinator.ledger.Trees.leaf;
import static io.sluice.coordinator.ledger.Trees.strict;
import static io.sluice.coordinator.ledger.Trees.tokens;
import static io.sluice.coordinator.ledger.Trees.workflow;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.schemas.Halt;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import org.junit.jupiter.api.Test;

/** An operator's cancel: the same halt as a budget's, by hand, said in the receipt, and restorable. */
class RunLedgerCancelTest {

    /** b (two leaves in flight, one queued behind max_parallel) and c (one leaf in flight). */
    private static Submission run() {
        return strict(workflow("w", tokens(10_000), 100L,
                branch("b", new io.sluice.schemas.Budget(null, null, null, null, null, 2), leaf("b1"), leaf("b2"), leaf("b3")),
                branch("c", tokens(1_000), leaf("c1"))));
    }

    @Test
    void shouldHaltACancelledBranchAsABudgetWouldAndLetTheRestOfTheRunFinish() {
        // given
        Driver d = Driver.of(run());
        assertThat(d.begin().tasks()).extracting(LeafTask::path).containsExactly("w/b/b1", "w/b/b2", "w/c/c1");

        // when
        Decisions cancelled = d.cancel("w/b", "alice@ops-1: not needed");

        // then: its leaves are told to stop, the queued one ends cancelled at once
        assertThat(cancelled.rejection()).isNull();
        assertThat(cancelled.halts()).singleElement().satisfies(h -> {
            assertThat(h.path()).isEqualTo("w/b");
            assertThat(h.status()).isEqualTo(Status.CANCELLED);
            assertThat(h.cause()).isEqualTo(Status.CANCELLED);
            assertThat(h.reason()).isEqualTo("w/b: cancelled by alice@ops-1: not needed");
        });
        assertThat(d.entry("w/b/b3")).satisfies(e -> {
            assertThat(e.status()).isEqualTo(Status.CANCELLED);
            assertThat(e.reason()).isEqualTo("halted: w/b cancelled by alice@ops-1: not needed");
        });

        // when: its workers stop; the other branch succeeds
        d.usage("w/b/b1", 30, 10, 1);
        d.finish("w/b/b1", Status.CANCELLED);
        d.finish("w/b/b2", Status.CANCELLED);
        d.usage("w/c/c1", 50, 20, 1);
        Decisions last = d.finish("w/c/c1", Status.SUCCEEDED);

        // then: the run ends; the cancelled branch says who, and its spend counts
        Receipt receipt = last.receipt();
        assertThat(receipt).isNotNull();
        assertThat(receipt.status()).isEqualTo(Status.CANCELLED);
        assertThat(d.entry("w/b").status()).isEqualTo(Status.CANCELLED);
        assertThat(d.entry("w/b").reason()).isEqualTo("w/b: cancelled by alice@ops-1: not needed");
        assertThat(d.entry("w/b").spent().totalTokens()).isEqualTo(40);
        assertThat(d.entry("w/c").status()).isEqualTo(Status.SUCCEEDED);
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(110);
    }

    @Test
    void shouldEndTheRunCancelledWithWhoCancelledItInTheReceipt() {
        // given
        Driver d = Driver.of(run());
        d.begin();

        // when
        Decisions cancelled = d.cancel(null, "bob");
        for (String path : new String[] {"w/b/b1", "w/b/b2", "w/c/c1"}) {
            d.finish(path, Status.CANCELLED);
        }

        // then
        assertThat(cancelled.halts()).extracting(Halt::path).containsExactly("w");
        Receipt receipt = d.last().receipt();
        assertThat(receipt.status()).isEqualTo(Status.CANCELLED);
        assertThat(receipt.reason()).contains("w: cancelled by bob");
        assertThat(d.entry("w").reason()).isEqualTo("w: cancelled by bob");
    }

    @Test
    void shouldRefuseWhatItCannotCancelAndChangeNothing() {
        // given
        Driver d = Driver.of(run());
        d.begin();
        d.cancel("w/c", "alice");

        // then
        assertThat(d.cancel("w/x", "alice").rejection()).isEqualTo(
                "path: w/x is no workflow or branch of run " + d.ledger.runId() + " (a leaf is cancelled with its branch)");
        assertThat(d.cancel("w/b/b1", "alice").rejection()).startsWith("path: w/b/b1 is no workflow or branch");
        assertThat(d.cancel("w/c", "carol").rejection()).isEqualTo(
                "path: w/c is halted already (halted: w/c cancelled by alice)");
        Decisions refused = d.cancel("w/x", "alice");
        assertThat(refused.halts()).isEmpty();
        assertThat(refused.tasks()).isEmpty();

        // when: the run ends
        d.cancel(null, "alice");
        for (String path : new String[] {"w/b/b1", "w/b/b2", "w/c/c1"}) {
            d.finish(path, Status.CANCELLED);
        }

        // then
        assertThat(d.cancel(null, "alice").rejection()).isEqualTo("run " + d.ledger.runId() + " already ended cancelled");
    }

    @Test
    void shouldRestoreACancelInProgressOnAnotherCoordinator() {
        // given: b cancelled, its attempts still stopping
        Driver d = Driver.of(run());
        d.begin();
        d.cancel("w/b", "alice: not needed");

        // when
        Driver r = d.takeOver();
        r.tick(r.now);
        r.finish("w/b/b1", Status.CANCELLED);
        r.finish("w/b/b2", Status.CANCELLED);

        // then: the restored ledger ends b as the original would, and refuses a second cancel of it
        assertThat(r.entry("w/b").status()).isEqualTo(Status.CANCELLED);
        assertThat(r.entry("w/b").reason()).isEqualTo("w/b: cancelled by alice: not needed");
        assertThat(r.cancel("w/b", "carol").rejection()).startsWith("path: w/b already ended");
    }
}
