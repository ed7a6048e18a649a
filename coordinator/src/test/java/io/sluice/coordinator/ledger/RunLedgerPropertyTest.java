package io.sluice.coordinator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;

import io.sluice.schemas.Branch;
import io.sluice.schemas.Budget;
import io.sluice.schemas.Leaf;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Node;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.Workflow;

/**
 * Property tests of the budget engine over random trees, budgets, needs, interleavings, duplicates and clock jumps.
 * Every call is checked by {@link LedgerInvariants}; the end of every run once more.
 */
class RunLedgerPropertyTest {

    private static final int MAX_CALLS = 200_000;

    @Provide
    Arbitrary<Workflow> workflows() {
        return RandomWorkflows.workflows();
    }

    @Provide
    Arbitrary<LedgerConfig> configs() {
        return Combinators.combine(
                        Arbitraries.doubles().between(1.0, 3.0),
                        Arbitraries.doubles().between(0.01, 1.0),
                        Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(LedgerConfig.DEFAULT_RECEIPT_LEAF_LIMIT)),
                                Tuple.of(1, Arbitraries.integers().between(0, 60))))
                .as(LedgerConfig::new);
    }

    private static WorkerSim simulate(Workflow wf, Mode mode, long seed, WorkerSim.Observer observer) {
        return simulate(wf, mode, seed, LedgerConfig.defaults(), observer);
    }

    private static WorkerSim simulate(Workflow wf, Mode mode, long seed, LedgerConfig config, WorkerSim.Observer observer) {
        RunLedger ledger = RunLedger.create(new Submission("run-p", mode, wf), config, WorkerSim.START);
        WorkerSim sim = new WorkerSim(ledger, seed, path -> RandomWorkflows.need(seed, path), WorkerSim.Options.defaults(),
                observer);
        sim.run(MAX_CALLS);
        return sim;
    }

    private static WorkerSim checked(Workflow wf, Mode mode, long seed) {
        return checked(wf, mode, seed, LedgerConfig.defaults());
    }

    private static WorkerSim checked(Workflow wf, Mode mode, long seed, LedgerConfig config) {
        LedgerInvariants invariants = new LedgerInvariants(wf, mode, config.receiptLeafLimit());
        WorkerSim sim = simulate(wf, mode, seed, config, invariants);
        invariants.checkEnd(sim);
        return sim;
    }

    /** Records what a run went through, so that the report shows (and coverage checks) what was exercised. */
    private static void collectStatistics(WorkerSim sim) {
        Map<Status, Long> leaves = sim.ledger.entry("w").leaves();
        long total = leaves.values().stream().mapToLong(Long::longValue).sum();
        Statistics.label("leaves").collect(total == 0 ? "0" : total <= 10 ? "1-10" : total <= 50 ? "11-50" : "51+");
        Statistics.label("halted for budget").collect(sim.halts.stream().anyMatch(h -> h.status() == Status.CANCELLED));
        Statistics.label("timed out").collect(sim.halts.stream().anyMatch(h -> h.status() == Status.TIMED_OUT));
        Statistics.label("leaf budget_exceeded").collect(leaves.containsKey(Status.BUDGET_EXCEEDED));
        Statistics.label("duplicates sent").collect(sim.duplicatesSent > 0);
    }

    private static void requireCoverage() {
        Statistics.label("halted for budget").coverage(c -> c.check(true).percentage(p -> p >= 10));
        Statistics.label("timed out").coverage(c -> c.check(true).percentage(p -> p >= 3));
        Statistics.label("leaf budget_exceeded").coverage(c -> c.check(true).percentage(p -> p >= 20));
        Statistics.label("leaves").coverage(c -> c.check("51+").percentage(p -> p >= 10));
    }

    @Property(tries = 600)
    void strictModeNeverLetsSpendAndReservationsExceedAnyLimit(@ForAll("workflows") Workflow wf, @ForAll long seed,
                                                               @ForAll("configs") LedgerConfig config) {
        collectStatistics(checked(wf, Mode.STRICT, seed, config));
        requireCoverage();
    }

    @Property(tries = 400)
    void optimisticModeReportsExactlyItsOvershoot(@ForAll("workflows") Workflow wf, @ForAll long seed,
                                                  @ForAll("configs") LedgerConfig config) {
        WorkerSim sim = checked(wf, Mode.OPTIMISTIC, seed, config);
        collectStatistics(sim);
        Statistics.label("overshoot").collect(sim.ledger.entry("w").overshoot() > 0
                || sim.ledger.receipt().nodes().stream().anyMatch(e -> e.overshoot() > 0));
        requireCoverage();
        Statistics.label("overshoot").coverage(c -> c.check(true).percentage(p -> p >= 10));
    }

    @Property(tries = 200)
    void sameInputsGiveSameDecisions(@ForAll("workflows") Workflow wf, @ForAll Mode mode, @ForAll long seed) {
        WorkerSim first = simulate(wf, mode, seed, (call, d, sim) -> { });
        WorkerSim second = simulate(wf, mode, seed, (call, d, sim) -> { });
        assertThat(second.history).isEqualTo(first.history);
        assertThat(second.ledger.receipt()).isEqualTo(first.ledger.receipt());
    }

    @Property(tries = 200)
    void strictModeWithoutBudgetsEndsEveryLeafAsItsWorkerDid(@ForAll("workflows") Workflow wf, @ForAll long seed) {
        // given: the same trees with every token and step limit (and every timeout) removed
        Workflow unlimited = new Workflow(wf.id(), onlyParallel(wf.budget()), null, wf.nodes().stream().map(RunLedgerPropertyTest::unlimited).toList());

        // when
        WorkerSim sim = checked(unlimited, Mode.STRICT, seed);

        // then: nothing is refused, cancelled or halted: each leaf ends as its need says
        assertThat(sim.halts).isEmpty();
        for (LedgerEntry e : sim.ledger.receipt().nodes()) {
            if (e.kind().equals("leaf")) {
                Status expected = RandomWorkflows.need(seed, e.path()).fails() ? Status.FAILED : Status.SUCCEEDED;
                assertThat(e.status()).as("%s", e).isEqualTo(expected);
            }
        }
    }

    private static Budget onlyParallel(Budget b) {
        return new Budget(null, null, null, null, null, b.maxParallel());
    }

    private static Node unlimited(Node n) {
        if (n instanceof Branch b) {
            return new Branch(b.id(), onlyParallel(b.budget()), null, b.nodes().stream().map(RunLedgerPropertyTest::unlimited).toList());
        }
        Leaf l = (Leaf) n;
        return new Leaf(l.id(), Budget.NONE, l.executor(), l.input(), l.repeat(), l.maxAttempts());
    }
}
