package io.sluice.coordinator.ledger;

import static io.sluice.coordinator.ledger.Trees.NONE;
import static io.sluice.coordinator.ledger.Trees.branch;
import static io.sluice.coordinator.ledger.Trees.leaf;
import static io.sluice.coordinator.ledger.Trees.repeated;
import static io.sluice.coordinator.ledger.Trees.strict;
import static io.sluice.coordinator.ledger.Trees.tokens;
import static io.sluice.coordinator.ledger.Trees.workflow;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.sluice.schemas.Budget;
import io.sluice.schemas.Leaf;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Node;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.Workflow;

/** Creation, begin, receipts, snapshots and the config record. */
class RunLedgerLifecycleTest {

    @Test
    void shouldEndAnEmptyWorkflowAtBeginWithAReceipt() {
        // given
        RunLedger ledger = RunLedger.create(strict(workflow("w", NONE)), LedgerConfig.defaults(), 5);

        // when
        Decisions begun = ledger.begin(7);

        // then
        assertThat(begun.receipt()).isNotNull();
        assertThat(begun.receipt().status()).isEqualTo(Status.SUCCEEDED);
        assertThat(begun.receipt().reason()).isEqualTo("no leaves");
        assertThat(begun.receipt().startedAtMs()).isEqualTo(5);
        assertThat(begun.receipt().finishedAtMs()).isEqualTo(7);
        assertThat(ledger.isTerminal()).isTrue();
        assertThat(ledger.receipt()).isSameAs(begun.receipt());
    }

    @Test
    void shouldReportPendingBeforeBeginAndRunningAfter() {
        // given
        RunLedger ledger = RunLedger.create(strict(workflow("w", NONE, 10L, leaf("a"))), LedgerConfig.defaults(), 0);

        // then
        assertThat(ledger.status()).isEqualTo(Status.PENDING);
        assertThat(ledger.runId()).isEqualTo("run-1");
        assertThat(ledger.mode()).isEqualTo(Mode.STRICT);
        assertThat(ledger.entry("w").leaves()).isEqualTo(Map.of(Status.PENDING, 1L));

        // when
        ledger.begin(0);

        // then
        assertThat(ledger.status()).isEqualTo(Status.RUNNING);
        assertThat(ledger.entry("w/a").status()).isEqualTo(Status.RUNNING);
        assertThat(ledger.entry("w/a").reserved().tokens()).isEqualTo(10);
    }

    @Test
    void shouldRefuseMisuse() {
        RunLedger ledger = RunLedger.create(strict(workflow("w", NONE, leaf("a"))), LedgerConfig.defaults(), 0);
        assertThatThrownBy(() -> ledger.onTick(1)).isInstanceOf(IllegalStateException.class).hasMessageContaining("not begun");
        ledger.begin(0);
        assertThatThrownBy(() -> ledger.begin(0)).isInstanceOf(IllegalStateException.class).hasMessageContaining("already begun");
    }

    @Test
    void shouldRefuseWhatValidationShouldHaveCaught() {
        Workflow duplicate = workflow("w", NONE, leaf("a"), leaf("a"));
        assertThatThrownBy(() -> RunLedger.create(strict(duplicate), LedgerConfig.defaults(), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("w: duplicate child id 'a'");
        Workflow zeroParallel = workflow("w", Budget.NONE.withMaxParallel(0), leaf("a"));
        assertThatThrownBy(() -> RunLedger.create(strict(zeroParallel), LedgerConfig.defaults(), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("w: max_parallel must be ≥ 1, got 0");
        Workflow noAttempts = workflow("w", NONE, new Leaf("a", NONE, "simulated", null, 1, 0));
        assertThatThrownBy(() -> RunLedger.create(strict(noAttempts), LedgerConfig.defaults(), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("w/a: max_attempts must be ≥ 1, got 0");
        Workflow negative = workflow("w", NONE, leaf("a", tokens(-1)));
        assertThatThrownBy(() -> RunLedger.create(strict(negative), LedgerConfig.defaults(), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("w/a: max_tokens must be ≥ 0, got -1");
        assertThatThrownBy(() -> RunLedger.create(new Submission(null, Mode.STRICT, workflow("w", NONE)), LedgerConfig.defaults(), 0))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("runId");
    }

    @Test
    void shouldSucceedABranchWithoutLeavesAtBegin() {
        // given
        Driver d = Driver.of(strict(workflow("w", NONE, 10L, branch("empty", NONE, branch("inner", NONE)), leaf("a"))));

        // when
        Decisions begun = d.begin();

        // then
        assertThat(begun.entries()).filteredOn(e -> e.path().startsWith("w/empty"))
                .extracting(LedgerEntry::status).containsOnly(Status.SUCCEEDED);
        assertThat(d.ledger.isTerminal()).isFalse();
        assertThat(d.work("w/a", 1).receipt().status()).isEqualTo(Status.SUCCEEDED);
    }

    @Test
    void shouldListEveryLeafInTheReceiptOfASmallRunInDocumentOrder() {
        // given: a halt leaves never-dispatched leaves behind
        Driver d = Driver.of(strict(workflow("w", NONE,
                branch("b", tokens(10), leaf("x"), repeated("y", NONE, 2)), leaf("z", tokens(5)))));
        d.begin();

        // when
        d.work("w/b/x", 10);
        Receipt receipt = d.work("w/z", 1).receipt();

        // then
        assertThat(receipt.nodes()).extracting(LedgerEntry::path)
                .containsExactly("w", "w/b", "w/b/x", "w/b/y[0]", "w/b/y[1]", "w/z");
        assertThat(receipt.nodes()).extracting(LedgerEntry::status).containsExactly(Status.BUDGET_EXCEEDED,
                Status.BUDGET_EXCEEDED, Status.SUCCEEDED, Status.BUDGET_EXCEEDED, Status.CANCELLED, Status.SUCCEEDED);
        assertThat(receipt.nodes()).extracting(LedgerEntry::kind)
                .containsExactly("workflow", "branch", "leaf", "leaf", "leaf", "leaf");
    }

    @Test
    void shouldListOnlyWorkflowAndBranchesInTheReceiptOfALargeRun() {
        // given: a leaf limit of 2 for a run of 3 leaves
        LedgerConfig config = new LedgerConfig(1.25, 0.5, 2);
        Driver d = Driver.of(strict(workflow("w", NONE, 10L, branch("b", NONE, repeated("l", NONE, 3)))), config);
        d.begin();
        assertThat(d.ledger.retainedLeafEntries()).isZero();

        // when
        for (String path : d.runningPaths()) {
            d.work(path, 1);
        }

        // then
        assertThat(d.ledger.receipt().nodes()).extracting(LedgerEntry::path).containsExactly("w", "w/b");
        assertThat(d.ledger.entry("w/b/l[0]")).isNull();
    }

    @Test
    void shouldGiveAReceiptSnapshotBeforeTheEnd() {
        // given
        Driver d = Driver.of(strict(workflow("w", NONE, 10L, leaf("a"), leaf("b", Budget.NONE))));
        d.begin();

        // when
        Receipt snapshot = d.ledger.receipt();

        // then
        assertThat(snapshot.status()).isEqualTo(Status.RUNNING);
        assertThat(snapshot.nodes()).extracting(LedgerEntry::status).containsExactly(Status.RUNNING, Status.RUNNING, Status.RUNNING);
    }

    @Test
    void shouldResolveEntriesOfLeavesOnlyWhileKnown() {
        // given
        Driver d = Driver.of(strict(workflow("w", Trees.parallel(1), 10L, repeated("l", NONE, 3))));
        d.begin();

        // then
        assertThat(d.ledger.entry("w/l[0]").status()).isEqualTo(Status.RUNNING);
        assertThat(d.ledger.entry("w/l[1]")).isNull();   // pending
        assertThat(d.ledger.entry("w/l[9]")).isNull();
        assertThat(d.ledger.entry("w/l")).isNull();
        assertThat(d.ledger.entry("w/l[x]")).isNull();
        assertThat(d.ledger.entry("nope/l[0]")).isNull();
        d.work("w/l[0]", 3);
        assertThat(d.ledger.entry("w/l[0]").status()).isEqualTo(Status.SUCCEEDED);
    }

    @Test
    void shouldTreatRepeatZeroAsNoLeaves() {
        // given
        List<Node> nodes = List.of(new Leaf("none", NONE, "simulated", null, 0, null));
        RunLedger ledger = RunLedger.create(strict(new Workflow("w", NONE, null, nodes)), LedgerConfig.defaults(), 0);

        // when / then
        assertThat(ledger.begin(0).receipt().status()).isEqualTo(Status.SUCCEEDED);
    }

    @Test
    void shouldDefaultAndValidateTheConfigNamingTheField() {
        assertThat(LedgerConfig.defaults()).isEqualTo(new LedgerConfig(1.25, 0.5, 1000));
        assertThat(LedgerConfig.defaults()).isEqualTo(new LedgerConfig(1.25, 0.5, 1000, 3, Duration.ofMillis(200),
                Duration.ofSeconds(10)));
        Duration ms = Duration.ofMillis(1);
        assertThatThrownBy(() -> new LedgerConfig(1.0, 1.0, 1, 0, ms, ms)).hasMessageContaining("maxAttempts");
        assertThatThrownBy(() -> new LedgerConfig(1.0, 1.0, 1, 1, null, ms)).hasMessageContaining("baseBackoff");
        assertThatThrownBy(() -> new LedgerConfig(1.0, 1.0, 1, 1, ms.negated(), ms)).hasMessageContaining("baseBackoff");
        assertThatThrownBy(() -> new LedgerConfig(1.0, 1.0, 1, 1, ms, null)).hasMessageContaining("maxBackoff");
        assertThatThrownBy(() -> new LedgerConfig(1.0, 1.0, 1, 1, ms.multipliedBy(2), ms)).hasMessageContaining("maxBackoff");
        assertThatThrownBy(() -> new LedgerConfig(1.0, 1.0, 1, 1, ms, Duration.ofSeconds(Long.MAX_VALUE)))
                .hasMessageContaining("maxBackoff");
        assertThatThrownBy(() -> new LedgerConfig(0.9, 0.5, 1)).hasMessageContaining("estimateMargin");
        assertThatThrownBy(() -> new LedgerConfig(Double.NaN, 0.5, 1)).hasMessageContaining("estimateMargin");
        assertThatThrownBy(() -> new LedgerConfig(Double.POSITIVE_INFINITY, 0.5, 1)).hasMessageContaining("estimateMargin");
        assertThatThrownBy(() -> new LedgerConfig(1.0, 0.0, 1)).hasMessageContaining("minUsefulFraction");
        assertThatThrownBy(() -> new LedgerConfig(1.0, 1.5, 1)).hasMessageContaining("minUsefulFraction");
        assertThatThrownBy(() -> new LedgerConfig(1.0, 1.0, -1)).hasMessageContaining("receiptLeafLimit");
    }
}
