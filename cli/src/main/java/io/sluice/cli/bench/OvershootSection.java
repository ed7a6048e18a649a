package io.sluice.cli.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Mode;

/**
 * Spend against the limit when a run overruns: the overrunning workflow ({@link BenchWorkflows#overrunning}: 600-token
 * leaves, 16 at once, against {@value BenchWorkflows#OVERSHOOT_LIMIT} tokens) once in strict and once in optimistic
 * mode on the in-process coordinator and workers. The figure is the workflow's spent ÷ {@code max_tokens} from the
 * receipt (the ledger's final entry for the run), with its {@code overshoot} field: strict must stay at or below 1.0,
 * optimistic goes over by what the leaves in flight at the crossing go on to spend.
 */
final class OvershootSection implements BenchSection {

    /**
     * @param leaves      leaves of the workflow (enough to overrun: each spends 600 of 10 000)
     * @param workers     in-process workers
     * @param concurrency slots of each
     */
    record Params(int leaves, int workers, int concurrency) {
        static final int DEFAULT_LEAVES = 60;

        Params {
            OptionChecks.range("--overshoot-leaves", leaves, 20, 100_000);
        }
    }

    record ModeResult(String mode, String runId, String status, long limit, long spent, double ratio, long overshoot,
                      Map<String, Long> leaves, double seconds) {
    }

    record Result(ModeResult strict, ModeResult optimistic) implements SectionResult {

        @Override
        public List<Figure> figures() {
            List<Figure> f = new ArrayList<>();
            for (ModeResult m : List.of(strict, optimistic)) {
                f.add(Figure.of(m.mode() + ": spend ÷ limit", BenchTable.ratio(m.ratio()), "",
                        String.format("%,d / %,d tokens, overshoot %,d, %s, leaves %s", m.spent(), m.limit(), m.overshoot(),
                                m.status(), m.leaves())));
            }
            return f;
        }
    }

    @Override
    public SectionName name() {
        return SectionName.OVERSHOOT;
    }

    @Override
    public SectionResult run(BenchContext ctx) {
        Params params = ctx.config().overshoot();
        ctx.ensureWarmStack(params.workers(), params.concurrency());
        ModeResult strict = once(ctx, Mode.STRICT, params.leaves());
        ModeResult optimistic = once(ctx, Mode.OPTIMISTIC, params.leaves());
        return new Result(strict, optimistic);
    }

    private static ModeResult once(BenchContext ctx, Mode mode, int leaves) {
        ctx.log("  %s: %d leaves of 600 tokens against %,d…", mode.wire(), leaves, BenchWorkflows.OVERSHOOT_LIMIT);
        String runId = BenchRuns.newRunId("over-" + mode.wire());
        BenchRuns.TimedRun run = ctx.runs().run(BenchWorkflows.overrunning(runId, mode, leaves), ctx.runTimeout());
        LedgerEntry root = run.root();
        long limit = root.limits().maxTokens();
        long spent = root.spent() == null ? 0 : root.spent().totalTokens();
        return new ModeResult(mode.wire(), runId, run.receipt().status().wire(), limit, spent, (double) spent / limit,
                root.overshoot(), run.leavesByStatus(), run.seconds());
    }
}
