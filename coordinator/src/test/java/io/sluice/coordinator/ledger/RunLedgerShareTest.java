package io.sluice.coordinator.ledger;

import static io.sluice.coordinator.ledger.Trees.repeated;
import static io.sluice.coordinator.ledger.Trees.strict;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import io.sluice.schemas.Branch;
import io.sluice.schemas.Budget;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Node;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Share;
import io.sluice.schemas.Status;
import io.sluice.schemas.Workflow;
import org.junit.jupiter.api.Test;

/** {@code share: even}: children admitted in turn, each within an even share of the budget while siblings run. */
class RunLedgerShareTest {

    /** 8 branches of 4 leaves of 100 tokens each, against 800 tokens: the budget pays for a quarter of the work. */
    private static Workflow wide(Share share, Integer maxParallel) {
        List<Node> branches = new ArrayList<>();
        for (int b = 0; b < 8; b++) {
            branches.add(new Branch("b" + b, Budget.NONE, null, List.of(repeated("l", Budget.NONE, 4))));
        }
        return new Workflow("w", new Budget(800L, null, null, null, null, maxParallel), 100L, branches, share);
    }

    @Test
    void shouldSpendTheBudgetOnTheFirstBranchesInDocumentOrderByDefault() {
        // when
        Receipt receipt = runAll(Driver.of(strict(wide(null, null))), 100);

        // then: two branches did all their work, six nothing
        assertThat(leavesSucceededByBranch(receipt)).containsExactly(4L, 4L, 0L, 0L, 0L, 0L, 0L, 0L);
        assertThat(node(receipt, "w").spent().totalTokens()).isEqualTo(800);
    }

    @Test
    void shouldGiveEveryBranchItsEvenShareUnderShareEven() {
        // when
        Receipt receipt = runAll(Driver.of(strict(wide(Share.EVEN, null))), 100);

        // then: every branch did a quarter of its work; none spent beyond its share; the budget was used
        assertThat(leavesSucceededByBranch(receipt)).containsOnly(1L);
        for (int b = 0; b < 8; b++) {
            LedgerEntry e = node(receipt, "w/b" + b);
            assertThat(e.spent().totalTokens()).isEqualTo(100);
            assertThat(e.status()).isEqualTo(Status.BUDGET_EXCEEDED);
            assertThat(e.reason()).isEqualTo("w/b" + b + ": its even share of w's max_tokens 800 exhausted (spent 100)");
        }
        assertThat(node(receipt, "w").spent().totalTokens()).isEqualTo(800);
        assertThat(node(receipt, "w").reason()).endsWith("; budget shared evenly among 8 branches");
    }

    @Test
    void shouldInterleaveTheBranchesWithinMaxParallel() {
        // when: 4 slots for 8 branches
        Decisions begun = Driver.of(strict(wide(Share.EVEN, 4))).begin();

        // then: one leaf from each of the first four branches, not four from the first
        assertThat(begun.tasks()).extracting(LeafTask::path).containsExactly("w/b0/l[0]", "w/b1/l[0]", "w/b2/l[0]", "w/b3/l[0]");
    }

    @Test
    void shouldLeaveAFinishedBranchsUnusedShareToTheOthers() {
        // given: b0 has one cheap leaf; the other seven want more than their share
        List<Node> branches = new ArrayList<>();
        branches.add(new Branch("b0", Budget.NONE, null, List.of(repeated("l", Budget.NONE, 1))));
        for (int b = 1; b < 8; b++) {
            branches.add(new Branch("b" + b, Budget.NONE, null, List.of(repeated("l", Budget.NONE, 4))));
        }
        Driver d = Driver.of(strict(new Workflow("w", Budget.ofTokens(800L), 50L, branches, Share.EVEN)));

        // when: b0's leaf spends 10 of its 100-token share and b0 finishes
        d.begin();
        Receipt receipt = null;
        while (receipt == null && !d.running.isEmpty()) {
            String path = d.running.keySet().iterator().next();
            receipt = d.work(path, path.startsWith("w/b0/") ? 10 : 50).receipt();
        }

        // then: the 790 left went to the seven others — each at least the 112 of an even split, rounded down to whole
        // leaves of 50 — and what the first to finish left was shared again; all within the limit
        assertThat(receipt).isNotNull();
        assertThat(node(receipt, "w/b0").spent().totalTokens()).isEqualTo(10);
        List<Long> spent = new ArrayList<>();
        for (int b = 1; b < 8; b++) {
            spent.add(node(receipt, "w/b" + b).spent().totalTokens());
        }
        assertThat(spent).allSatisfy(s -> assertThat(s).isBetween(100L, 150L));
        assertThat(node(receipt, "w").spent().totalTokens()).isLessThanOrEqualTo(800).isGreaterThan(800 - 50);
    }

    private static Receipt runAll(Driver d, long need) {
        Receipt receipt = d.begin().receipt();
        while (receipt == null && !d.running.isEmpty()) {
            receipt = d.work(d.running.keySet().iterator().next(), need).receipt();
        }
        assertThat(receipt).as("the run ended").isNotNull();
        return receipt;
    }

    private static List<Long> leavesSucceededByBranch(Receipt receipt) {
        List<Long> out = new ArrayList<>();
        for (int b = 0; b < 8; b++) {
            out.add(node(receipt, "w/b" + b).leaves().getOrDefault(Status.SUCCEEDED, 0L));
        }
        return out;
    }

    private static LedgerEntry node(Receipt receipt, String path) {
        return receipt.nodes().stream().filter(e -> e.path().equals(path)).findFirst().orElseThrow();
    }
}
