package io.sluice.coordinator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.statistics.Statistics;

import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.Workflow;

/**
 * Recovery, as a property: a ledger restored from the compacted ledger — the latest entry per path of all the
 * decisions published so far — decides exactly as the original on the same remaining inputs. Over the random trees,
 * budgets, interleavings, duplicates, clock jumps, worker failures, deaths and retries of {@link WorkerSim}, in both
 * modes, each run restored at three random calls.
 */
class RunLedgerRestorePropertyTest {

    private static final int MAX_CALLS = 200_000;

    /** The random workflows, half of them with roomier budgets: longer runs, more to restore in their middle. */
    @Provide
    Arbitrary<Workflow> workflows() {
        return Arbitraries.oneOf(RandomWorkflows.workflows(), RandomWorkflows.workflows().map(RandomWorkflows::roomier),
                RandomWorkflows.sharedWorkflows(), RandomWorkflows.sharedWorkflows().map(RandomWorkflows::roomier));
    }

    @Provide
    Arbitrary<LedgerConfig> configs() {
        return RandomWorkflows.configs();
    }

    /** The compacted ledger topic after the given calls: the latest entry of every path. */
    static Map<String, LedgerEntry> compacted(List<Decisions> published) {
        Map<String, LedgerEntry> latest = new LinkedHashMap<>();
        for (Decisions d : published) {
            for (LedgerEntry e : d.entries()) {
                latest.put(e.path(), e);
            }
        }
        return latest;
    }

    /** Where to restore, in thousandths of the run's calls: uniform, so a run's middle is as likely as its start. */
    @Provide
    Arbitrary<List<Integer>> restorePoints() {
        return Arbitraries.integers().between(0, 999).withDistribution(RandomDistribution.uniform()).list().ofSize(3);
    }

    @Property(tries = 800)
    void aLedgerRestoredFromTheCompactedLedgerDecidesExactlyAsTheOriginal(
            @ForAll("workflows") Workflow wf, @ForAll Mode mode, @ForAll long seed, @ForAll("configs") LedgerConfig config,
            @ForAll("restorePoints") List<Integer> perMille) {
        // given: a whole run, every call's inputs and decisions kept
        Submission submission = new Submission("run-p", mode, wf);
        WorkerSim sim = new WorkerSim(RunLedger.create(submission, config, WorkerSim.START), seed,
                path -> RandomWorkflows.need(seed, path), WorkerSim.Options.defaults(), (call, d, s) -> { });
        sim.run(MAX_CALLS);
        int calls = sim.calls.size();
        Statistics.label("calls").collect(calls <= 1 ? "1" : calls <= 10 ? "2-10" : calls <= 100 ? "11-100" : "101+");
        Statistics.label("mode").collect(mode);

        for (int at : perMille) {
            int k = (int) ((long) calls * at / 1000); // at least one call is left to replay
            Map<String, LedgerEntry> entries = compacted(sim.history.subList(0, k));

            // when: a coordinator taking the run over before call k restores it from the ledger
            RunLedger restored = RunLedger.restore(submission, WorkerSim.START, entries.values(), config);

            // then: it shows what the ledger says
            boolean leafReceipts = restored.retainedLeafEntries() > 0 || entries.isEmpty();
            for (LedgerEntry e : entries.values()) {
                boolean forgotten = e.kind().equals("leaf") && e.status().isTerminal() && !leafReceipts;
                assertThat(restored.entry(e.path())).as("restored at call %d: entry of %s", k, e.path())
                        .isEqualTo(forgotten ? null : e);
            }
            assertThat(restored.liveLeafObjects()).as("leaves in flight or between attempts").isEqualTo(entries.values()
                    .stream().filter(e -> e.kind().equals("leaf") && !e.status().isTerminal()).count());

            // then: given the same inputs as the original from call k on, it decides exactly as the original did
            long duplicates = 0;
            for (int i = k; i < calls; i++) {
                WorkerSim.Call call = sim.calls.get(i);
                Decisions d = call.replay(restored);
                assertThat(d).as("call %d of %d (%s) of a ledger restored before call %d", i, calls, call, k)
                        .isEqualTo(sim.history.get(i));
                duplicates += call.duplicate() ? 1 : 0;
            }
            assertThat(restored.isTerminal()).isTrue();
            assertThat(restored.receipt()).isEqualTo(sim.ledger.receipt());
            // A counter of this ledger's own calls, not state of the fold: only the duplicates it was given itself.
            assertThat(restored.duplicatesIgnored() + restored.rejectedEvents()).isEqualTo(duplicates);

            collectStatistics(k, entries.values(), leafReceipts);
        }
        requireCoverage();
    }

    /** What the restored state held, so that the report shows (and coverage checks) what was exercised. */
    private static void collectStatistics(int k, Collection<LedgerEntry> entries, boolean leafReceipts) {
        Statistics.label("restored before begin").collect(k == 0);
        Statistics.label("k").collect(k == 0 ? "0" : k <= 10 ? "1-10" : k <= 100 ? "11-100" : "101+");
        Statistics.label("leaf-level receipts").collect(leafReceipts);
        Statistics.label("attempt in flight").collect(entries.stream().anyMatch(e -> e.status() == Status.RUNNING
                && e.kind().equals("leaf")));
        Statistics.label("retry backing off").collect(entries.stream().anyMatch(e -> e.status() == Status.PENDING
                && (e.fold() == null || e.fold().due() == null)));
        Statistics.label("retry due, waiting").collect(entries.stream().anyMatch(e -> e.status() == Status.PENDING
                && e.fold() != null && Boolean.TRUE.equals(e.fold().due())));
        Statistics.label("node halted, still running").collect(groupFolds(entries).anyMatch(f -> f.haltedFor() != null));
        Statistics.label("node paused").collect(groupFolds(entries).anyMatch(f -> Boolean.TRUE.equals(f.paused())));
        Statistics.label("node blocked").collect(groupFolds(entries).anyMatch(f -> Boolean.TRUE.equals(f.blocked())));
        Statistics.label("estimate learned").collect(groupFolds(entries).anyMatch(f -> f.learned() != null));
        Statistics.label("lost attempt in history").collect(entries.stream().anyMatch(e -> e.kind().equals("leaf")
                && e.fold() != null && e.fold().lostHistory() != null));
    }

    private static Stream<LedgerEntry.Fold> groupFolds(Collection<LedgerEntry> entries) {
        return entries.stream().filter(e -> !e.kind().equals("leaf") && e.fold() != null).map(LedgerEntry::fold);
    }

    private static void requireCoverage() {
        // Seen about 50 / 11 / 50 / 10 / 1.2 / 13 / 10 / 9 / 16 / 3 %: most random runs are short.
        Statistics.label("restored before begin").coverage(c -> c.check(true).percentage(p -> p >= 20));
        Statistics.label("leaf-level receipts").coverage(c -> c.check(false).percentage(p -> p >= 5));
        Statistics.label("attempt in flight").coverage(c -> c.check(true).percentage(p -> p >= 25));
        Statistics.label("retry backing off").coverage(c -> c.check(true).percentage(p -> p >= 4));
        Statistics.label("retry due, waiting").coverage(c -> c.check(true).percentage(p -> p >= 0.3));
        Statistics.label("node halted, still running").coverage(c -> c.check(true).percentage(p -> p >= 5));
        Statistics.label("node paused").coverage(c -> c.check(true).percentage(p -> p >= 4));
        Statistics.label("node blocked").coverage(c -> c.check(true).percentage(p -> p >= 4));
        Statistics.label("estimate learned").coverage(c -> c.check(true).percentage(p -> p >= 7));
        Statistics.label("lost attempt in history").coverage(c -> c.check(true).percentage(p -> p >= 1));
    }
}
