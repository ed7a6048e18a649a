package io.sluice.systemtest.e2e;

import static io.sluice.systemtest.e2e.Runs.leaf;
import static io.sluice.systemtest.e2e.Runs.node;
import static io.sluice.systemtest.e2e.Runs.turn;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.Usage;
import io.sluice.schemas.UsageEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The budget promises, end to end on a real broker: coordinator, three share-group workers, the simulated
 * executor. Every assertion is on what the system wrote to Kafka (receipts, ledger, usage, tasks).
 */
@ExtendWith(SluiceExtension.class)
class BudgetedFanOutIT {

    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(60);

    private final SluiceSystem sluice;

    BudgetedFanOutIT(SluiceSystem sluice) {
        this.sluice = sluice;
    }

    /** The seed system's own case: a global cap of 1000, leaves that need 600, 500 and 400. */
    private Submission seedCase(String runId, String mode) {
        return Runs.submission(runId, """
                {"run_id": "RUN", "mode": "%s", "workflow": {"id": "seed", "budget": {"max_tokens": 1000},
                 "nodes": [%s, %s, %s]}}""".formatted(mode,
                leaf("a", null, turn(400, 200, 5)), leaf("b", null, turn(300, 200, 5)), leaf("c", null, turn(250, 150, 5))));
    }

    @Test
    void shouldNeverSpendBeyondTheGlobalCapInStrictMode() {
        // given
        String runId = sluice.kafka().uniqueRunId("seed-strict");

        // when
        Receipt receipt = sluice.run(seedCase(runId, "strict"), RUN_TIMEOUT);

        // then: total ≤ 1000, and the budget was used, not wasted
        LedgerEntry root = node(receipt, "seed");
        assertThat(root.spent().totalTokens()).isLessThanOrEqualTo(1000).isGreaterThanOrEqualTo(900);
        assertThat(root.overshoot()).isZero();
        assertThat(receipt.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        // every attempt stayed within the grant it was dispatched with
        List<UsageEvent> usage = sluice.usage(runId);
        Map<String, Usage> byLeaf = Runs.usageByLeaf(usage);
        for (LeafTask task : sluice.tasks(runId)) {
            assertThat(byLeaf.getOrDefault(task.path(), Usage.ZERO).totalTokens())
                    .as("spend of %s within its grant %s", task.path(), task.grant()).isLessThanOrEqualTo(task.grant().maxTokens());
        }
        assertThat(Runs.total(usage)).isEqualTo(root.spent());
        // the leaf that could not be covered ends budget_exceeded with zero spend and says why
        assertThat(receipt.nodes()).filteredOn(e -> "leaf".equals(e.kind()) && e.spent().totalTokens() == 0)
                .allSatisfy(e -> {
                    assertThat(e.status()).isEqualTo(Status.BUDGET_EXCEEDED);
                    assertThat(e.reason()).contains("not admitted");
                });
    }

    @Test
    void shouldHaltAStrictRunAtItsCostLimitWithoutExceedingIt() {
        // given: 12 priced leaves ($1 / $4 per million input / output tokens) of 800 µUSD each against 5,000 µUSD
        String runId = sluice.kafka().uniqueRunId("cost-strict");
        StringBuilder leaves = new StringBuilder();
        for (int i = 0; i < 12; i++) {
            leaves.append(i == 0 ? "" : ",").append("{\"kind\": \"leaf\", \"id\": \"l" + i + "\", \"executor\": \"simulated\", "
                    + "\"input\": {\"turns\": [{\"input_tokens\": 200, \"output_tokens\": 150, \"latency_ms\": 5}], "
                    + "\"price\": {\"input_per_million_microusd\": 1000000, \"output_per_million_microusd\": 4000000}}}");
        }
        Submission submission = Runs.submission(runId, "{\"run_id\": \"RUN\", \"mode\": \"strict\", \"workflow\": {\"id\": "
                + "\"priced\", \"budget\": {\"max_cost_microusd\": 5000, \"max_parallel\": 3}, \"nodes\": [" + leaves + "]}}");

        // when
        Receipt receipt = sluice.run(submission, RUN_TIMEOUT);

        // then: halted on cost, within it, and every attempt within its cost grant
        LedgerEntry root = node(receipt, "priced");
        assertThat(receipt.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(root.spent().costMicrousd()).isLessThanOrEqualTo(5000).isGreaterThan(0);
        assertThat(receipt.reason()).contains("max_cost_microusd 5000");
        List<UsageEvent> usage = sluice.usage(runId);
        assertThat(usage.stream().mapToLong(UsageEvent::costMicrousd).sum()).isEqualTo(root.spent().costMicrousd());
        Map<String, Long> costByLeaf = new java.util.HashMap<>();
        usage.forEach(e -> costByLeaf.merge(e.path(), e.costMicrousd(), Long::sum));
        for (LeafTask task : sluice.tasks(runId)) {
            assertThat(task.grant().maxCostMicrousd()).as("cost grant of %s", task.path()).isNotNull();
            assertThat(costByLeaf.getOrDefault(task.path(), 0L)).isLessThanOrEqualTo(task.grant().maxCostMicrousd());
        }
    }

    @Test
    void shouldGiveALeafItsWrapUpReserveThroughTheWholeSystem() {
        // given: a leaf of 1,000 tokens keeping 200 back, whose second turn does not fit the other 800
        String runId = sluice.kafka().uniqueRunId("wrap-up");
        Submission submission = Runs.submission(runId, "{\"run_id\": \"RUN\", \"workflow\": {\"id\": \"w\", \"nodes\": [{\"kind\": "
                + "\"leaf\", \"id\": \"l\", \"executor\": \"simulated\", \"budget\": {\"max_tokens\": 1000}, \"wrap_up_tokens\": 200, "
                + "\"input\": {\"turns\": [{\"input_tokens\": 300, \"output_tokens\": 300}, {\"input_tokens\": 300, \"output_tokens\": 300}],"
                + " \"wrap_up\": {\"input_tokens\": 50, \"output_tokens\": 100}}}]}}");

        // when
        Receipt receipt = sluice.run(submission, RUN_TIMEOUT);

        // then: the grant carried the reserve; the leaf handed back its wrap-up, within its budget
        assertThat(sluice.tasks(runId)).singleElement().satisfies(t -> assertThat(t.grant().wrapUpTokens()).isEqualTo(200L));
        LedgerEntry leaf = node(receipt, "w/l");
        assertThat(leaf.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(leaf.spent().totalTokens()).isEqualTo(750);
        UsageEvent last = sluice.usage(runId).stream().filter(UsageEvent::isFinal).findFirst().orElseThrow();
        assertThat(last.output().path("wrapped_up").asBoolean()).isTrue();
    }

    @Test
    void shouldSplitABudgetEvenlyAmongWideBranchesOnlyWhenAskedTo() {
        // given: 8 branches of 4 leaves of 100 tokens; the budget pays for a quarter of the work
        String document = sluice.kafka().uniqueRunId("share-document");
        String even = sluice.kafka().uniqueRunId("share-even");

        // when
        Receipt byDocument = sluice.run(wideTree(document, null), RUN_TIMEOUT);
        Receipt byShare = sluice.run(wideTree(even, "even"), RUN_TIMEOUT);

        // then: in document order the first two branches get everything; with even shares every branch gets a quarter
        List<Long> documentOrder = new java.util.ArrayList<>();
        List<Long> shared = new java.util.ArrayList<>();
        for (int b = 0; b < 8; b++) {
            documentOrder.add(node(byDocument, "wide/b" + b).spent().totalTokens());
            shared.add(node(byShare, "wide/b" + b).spent().totalTokens());
        }
        assertThat(documentOrder).containsExactly(400L, 400L, 0L, 0L, 0L, 0L, 0L, 0L);
        assertThat(shared).containsOnly(100L);
        assertThat(node(byShare, "wide").spent().totalTokens()).isEqualTo(800);
        assertThat(node(byShare, "wide").reason()).endsWith("; budget shared evenly among 8 branches");
        // what the coordinator wrote, a restore reads: every ledger entry is valid on the wire
        for (io.sluice.schemas.LedgerEntry e : sluice.ledger(even).values()) {
            io.sluice.schemas.WireRecords.decode(io.sluice.schemas.Json.write(e), io.sluice.schemas.LedgerEntry.class);
        }
    }

    private static Submission wideTree(String runId, String share) {
        StringBuilder branches = new StringBuilder();
        for (int b = 0; b < 8; b++) {
            branches.append(b == 0 ? "" : ",").append("{\"kind\": \"branch\", \"id\": \"b" + b + "\", \"nodes\": [{\"kind\": "
                    + "\"leaf\", \"id\": \"l\", \"executor\": \"simulated\", \"repeat\": 4, \"input\": {\"turns\": "
                    + "[{\"input_tokens\": 60, \"output_tokens\": 40, \"latency_ms\": 5}]}}]}");
        }
        return Runs.submission(runId, "{\"run_id\": \"RUN\", \"workflow\": {\"id\": \"wide\", \"leaf_max_tokens\": 100, "
                + (share == null ? "" : "\"share\": \"" + share + "\", ")
                + "\"budget\": {\"max_tokens\": 800, \"max_parallel\": 4}, \"nodes\": [" + branches + "]}}");
    }

    @Test
    void shouldReportTheOvershootInOptimisticMode() {
        // given
        String runId = sluice.kafka().uniqueRunId("seed-optimistic");

        // when
        Receipt receipt = sluice.run(seedCase(runId, "optimistic"), RUN_TIMEOUT);

        // then: the seed behaviour — all three dispatched at once, the cap crossed, and the overshoot on record
        LedgerEntry root = node(receipt, "seed");
        assertThat(root.spent().totalTokens()).isGreaterThan(1000);
        assertThat(root.overshoot()).isEqualTo(root.spent().totalTokens() - 1000);
        assertThat(receipt.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(sluice.ledger(runId).get("seed").overshoot()).isEqualTo(root.overshoot());
    }

    @Test
    void shouldEndALeafWithMaxTokensZeroWithoutSpendingAndLetSiblingsRun() {
        // given
        String runId = sluice.kafka().uniqueRunId("zero");
        Submission s = Runs.submission(runId, """
                {"run_id": "RUN", "workflow": {"id": "w", "nodes": [%s, %s]}}""".formatted(
                leaf("zero", "{\"max_tokens\": 0}", turn(10, 10, 1)), leaf("ok", null, turn(10, 10, 1))));

        // when
        Receipt receipt = sluice.run(s, RUN_TIMEOUT);

        // then
        assertThat(node(receipt, "w/zero").status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(node(receipt, "w/zero").spent()).isEqualTo(Usage.ZERO);
        assertThat(node(receipt, "w/ok").status()).isEqualTo(Status.SUCCEEDED);
        assertThat(Runs.executedLeaves(sluice.usage(runId))).containsExactly("w/ok");
    }

    @Test
    void shouldTruncateALeafToItsOwnCapAndKeepItsPartialOutput() {
        // given: the leaf wants 200 in + 300 out against its cap of 300
        String runId = sluice.kafka().uniqueRunId("cap");
        Submission s = Runs.submission(runId, """
                {"run_id": "RUN", "workflow": {"id": "w", "nodes": [%s, %s]}}""".formatted(
                leaf("capped", "{\"max_tokens\": 300}", turn(200, 300, 1)), leaf("free", null, turn(50, 50, 1))));

        // when
        Receipt receipt = sluice.run(s, RUN_TIMEOUT);

        // then
        LedgerEntry capped = node(receipt, "w/capped");
        assertThat(capped.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(capped.spent()).isEqualTo(new Usage(200, 100, 1));
        assertThat(node(receipt, "w/free").status()).isEqualTo(Status.SUCCEEDED);
        UsageEvent last = sluice.usage(runId).stream().filter(e -> e.isFinal() && e.path().equals("w/capped")).findFirst().orElseThrow();
        assertThat(last.output()).isNotNull();
    }

    @Test
    void shouldHaltOnlyTheOverrunBranch() {
        // given: "small" can afford 3 of its 10 leaves of 300 tokens, "big" all of its 10
        String runId = sluice.kafka().uniqueRunId("branch-halt");
        List<String> small = new ArrayList<>();
        List<String> big = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            small.add(leaf("s" + i, null, turn(200, 100, 5)));
            big.add(leaf("b" + i, null, turn(200, 100, 5)));
        }
        Submission s = Runs.submission(runId, """
                {"run_id": "RUN", "workflow": {"id": "w", "budget": {"max_tokens": 20000}, "nodes": [
                  {"kind": "branch", "id": "small", "budget": {"max_tokens": 1000}, "leaf_max_tokens": 300, "nodes": [%s]},
                  {"kind": "branch", "id": "big", "budget": {"max_tokens": 10000}, "nodes": [%s]}]}}""".formatted(
                String.join(",", small), String.join(",", big)));

        // when
        Receipt receipt = sluice.run(s, RUN_TIMEOUT);

        // then
        LedgerEntry smallNode = node(receipt, "w/small");
        assertThat(smallNode.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(smallNode.spent().totalTokens()).isLessThanOrEqualTo(1000);
        assertThat(smallNode.leaves().get(Status.SUCCEEDED)).isEqualTo(3L);
        assertThat(smallNode.reason()).contains("w/small");
        LedgerEntry bigNode = node(receipt, "w/big");
        assertThat(bigNode.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(bigNode.leaves().get(Status.SUCCEEDED)).isEqualTo(10L);
        assertThat(bigNode.spent().totalTokens()).isEqualTo(3000);
        assertThat(receipt.status()).isEqualTo(Status.BUDGET_EXCEEDED);
    }

    @Test
    void shouldNeverRunMoreLeavesAtOnceThanMaxParallelAllows() {
        // given: 12 workers slots in all, but the run allows 5 at once, branch a 2 and branch b 3
        String runId = sluice.kafka().uniqueRunId("parallel");
        List<String> a = new ArrayList<>();
        List<String> b = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            a.add("{\"kind\":\"leaf\",\"id\":\"a" + i + "\",\"executor\":\"probe\",\"input\":{\"hold_ms\":80}}");
            b.add("{\"kind\":\"leaf\",\"id\":\"b" + i + "\",\"executor\":\"probe\",\"input\":{\"hold_ms\":80}}");
        }
        Submission s = Runs.submission(runId, """
                {"run_id": "RUN", "workflow": {"id": "w", "budget": {"max_parallel": 5}, "nodes": [
                  {"kind": "branch", "id": "a", "budget": {"max_parallel": 2}, "nodes": [%s]},
                  {"kind": "branch", "id": "b", "budget": {"max_parallel": 3}, "nodes": [%s]}]}}""".formatted(
                String.join(",", a), String.join(",", b)));

        // when
        Receipt receipt = sluice.run(s, RUN_TIMEOUT);

        // then: observed on the workers, not taken from the coordinator's word
        assertThat(receipt.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(ConcurrencyProbeExecutor.peak(runId, null)).isBetween(2, 5);
        assertThat(ConcurrencyProbeExecutor.peak(runId, "w/a")).isBetween(1, 2);
        assertThat(ConcurrencyProbeExecutor.peak(runId, "w/b")).isBetween(1, 3);
    }

    @Test
    void shouldTimeOutASubtreeAndLetTheRestFinish() {
        // given: "slow" has 600 ms for leaves of 10 turns × 150 ms
        String runId = sluice.kafka().uniqueRunId("timeout");
        List<String> slow = new ArrayList<>();
        List<String> fast = new ArrayList<>();
        long[][] tenTurns = new long[10][];
        for (int t = 0; t < 10; t++) {
            tenTurns[t] = turn(10, 10, 150);
        }
        for (int i = 0; i < 4; i++) {
            slow.add(leaf("s" + i, null, tenTurns));
            fast.add(leaf("f" + i, null, turn(10, 10, 5)));
        }
        Submission s = Runs.submission(runId, """
                {"run_id": "RUN", "workflow": {"id": "w", "nodes": [
                  {"kind": "branch", "id": "slow", "budget": {"timeout_ms": 600}, "nodes": [%s]},
                  {"kind": "branch", "id": "fast", "nodes": [%s]}]}}""".formatted(String.join(",", slow), String.join(",", fast)));

        // when
        Receipt receipt = sluice.run(s, RUN_TIMEOUT);

        // then
        LedgerEntry slowNode = node(receipt, "w/slow");
        assertThat(slowNode.status()).isEqualTo(Status.TIMED_OUT);
        assertThat(slowNode.reason()).contains("timeout_ms 600");
        assertThat(slowNode.leaves().getOrDefault(Status.SUCCEEDED, 0L)).isZero();
        assertThat(node(receipt, "w/fast").status()).isEqualTo(Status.SUCCEEDED);
        assertThat(receipt.finishedAtMs() - receipt.startedAtMs()).isLessThan(1500 * 10);
        // the steps the slow leaves did take before the halt are charged
        assertThat(slowNode.spent()).isEqualTo(Runs.usageByLeaf(sluice.usage(runId)).entrySet().stream()
                .filter(e -> e.getKey().startsWith("w/slow/")).map(Map.Entry::getValue).reduce(Usage.ZERO, Usage::plus));
    }

    @Test
    void shouldDropQueuedTasksOfAHaltedRunWithoutExecutingThem() {
        // given: 60 leaves may all be dispatched at once, but the workers run 12 at a time; the run has 500 ms
        String runId = sluice.kafka().uniqueRunId("halted-queue");
        List<String> leaves = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            leaves.add(leaf("l" + i, null, turn(10, 10, 300)));
        }
        Submission s = Runs.submission(runId, """
                {"run_id": "RUN", "workflow": {"id": "w", "budget": {"timeout_ms": 500, "max_parallel": 60}, "nodes": [%s]}}"""
                .formatted(String.join(",", leaves)));

        // when
        Receipt receipt = sluice.run(s, RUN_TIMEOUT);

        // then: the tasks still queued at the halt were dropped unexecuted, each with a final event saying why
        assertThat(receipt.status()).isEqualTo(Status.TIMED_OUT);
        List<UsageEvent> usage = sluice.usage(runId);
        Set<String> executed = Runs.executedLeaves(usage);
        List<UsageEvent> dropped = usage.stream().filter(e -> e.isFinal() && !executed.contains(e.path())).toList();
        assertThat(executed.size()).isLessThan(60);
        assertThat(dropped).isNotEmpty().allSatisfy(e -> {
            assertThat(e.status()).isIn(Status.CANCELLED, Status.TIMED_OUT);
            assertThat(e.usage()).isEqualTo(Usage.ZERO);
        });
        assertThat(sluice.halts(runId)).isNotEmpty();
        assertThat(node(receipt, "w").leaves().getOrDefault(Status.SUCCEEDED, 0L)).isLessThan(60L);
    }

    @Test
    void shouldShareOneRunAmongAllWorkers() {
        // given: enough slow-ish leaves to keep every worker's slots busy
        String runId = sluice.kafka().uniqueRunId("shared");
        List<String> leaves = new ArrayList<>();
        for (int i = 0; i < 48; i++) {
            leaves.add(leaf("l" + i, null, turn(20, 10, 100)));
        }
        Submission s = Runs.submission(runId, """
                {"run_id": "RUN", "workflow": {"id": "w", "leaf_max_tokens": 100, "budget": {"max_parallel": 12}, "nodes": [%s]}}"""
                .formatted(String.join(",", leaves)));

        // when
        Receipt receipt = sluice.run(s, RUN_TIMEOUT);

        // then
        assertThat(receipt.status()).isEqualTo(Status.SUCCEEDED);
        List<UsageEvent> usage = sluice.usage(runId);
        Set<String> workers = usage.stream().map(UsageEvent::workerId).collect(Collectors.toSet());
        assertThat(workers).hasSize(SluiceSystem.WORKERS);
        assertThat(Runs.total(usage)).isEqualTo(new Usage(48 * 20, 48 * 10, 48));
        assertThat(node(receipt, "w").spent()).isEqualTo(Runs.total(usage));
        assertThat(sluice.ledger(runId).get("w").spent()).isEqualTo(Runs.total(usage));
    }
}
