package io.sluice.cli.bench;

import java.util.ArrayList;
import java.util.List;

import io.sluice.worker.WorkerConfig;

/**
 * Leaves through the whole system: one run of {@code leaves} no-op leaves (one leaf definition with {@code repeat},
 * {@code max_parallel} as given) through the in-process coordinator and W in-process workers, for each W of
 * {@code --workers}, each W with a fresh run id. Timed from the submission being written to its receipt being read;
 * the rate is leaves ÷ that time, and its ratio to the baseline's consume rates (same broker, same process) says how
 * much of raw Kafka the system turns into finished leaves. Before each measured run, workers started for it are
 * warmed up with a small no-op run (see {@link BenchContext#ensureWarmStack}), and before the first {@link #WARM_UP_RUNS}
 * runs of the measured size go through, unmeasured but reported, so that the figures are the steady state's.
 */
final class ThroughputSection implements BenchSection {

    /**
     * Runs of the measured size before the measured ones: broker, coordinator and workers share one fresh JVM, whose
     * JIT compiled for tens of seconds (over one core) into the first runs — 3,172, then 4,345, then 5,402 leaves/s.
     */
    static final int WARM_UP_RUNS = 2;

    /**
     * @param leaves      no-op leaves per measured run
     * @param workers     worker counts to measure, in order
     * @param concurrency slots of each worker
     * @param maxParallel the workflow's {@code max_parallel}
     */
    record Params(int leaves, List<Integer> workers, int concurrency, int maxParallel) {
        static final int DEFAULT_LEAVES = 10_000;
        static final String DEFAULT_WORKERS = "2,4";
        /** What a deployed worker runs unless told otherwise. */
        static final int DEFAULT_CONCURRENCY = WorkerConfig.DEFAULT_CONCURRENCY;
        static final int DEFAULT_MAX_PARALLEL = 1_000;

        Params {
            OptionChecks.range("--leaves", leaves, 1, 1_000_000);
            workers = OptionChecks.each("--workers", workers, 1, 64);
            OptionChecks.range("--concurrency", concurrency, 1, 100_000);
            OptionChecks.range("--max-parallel", maxParallel, 1, 100_000);
        }

        int largestWorkers() {
            return workers.stream().mapToInt(Integer::intValue).max().orElseThrow();
        }
    }

    /**
     * @param ratioToConsume      leaves/s ÷ the baseline's plain consume rate (records/s); null without a baseline
     * @param ratioToShareConsume leaves/s ÷ the baseline's share-consume rate
     */
    record Point(int workers, String runId, double seconds, double leavesPerS, Double ratioToConsume,
                 Double ratioToShareConsume, String status) {
    }

    /** @param warmUpLeavesPerS the rates of the warm-up runs before the measured ones, in order */
    record Result(int leaves, int concurrency, int maxParallel, Double baselineConsumeRecordsPerS,
                  Double baselineShareConsumeRecordsPerS, List<Double> warmUpLeavesPerS, List<Point> points)
            implements SectionResult {

        @Override
        public List<Figure> figures() {
            List<Figure> f = new ArrayList<>();
            for (Point p : points) {
                String ratio = p.ratioToConsume() == null ? "no baseline to compare"
                        : "ratio to consume " + BenchTable.ratio(p.ratioToConsume())
                        + (p.ratioToShareConsume() == null ? "" : ", to share consume " + BenchTable.ratio(p.ratioToShareConsume()));
                f.add(Figure.of(p.workers() + " worker(s) × " + concurrency, p.leavesPerS(), "leaves/s",
                        String.format("%,d leaves in %.2f s; %s", leaves, p.seconds(), ratio)));
            }
            if (!warmUpLeavesPerS.isEmpty()) {
                f.add(Figure.of("warm-up runs before", warmUpLeavesPerS.stream().map(r -> String.format("%,.0f", r))
                        .collect(java.util.stream.Collectors.joining(" / ")), "leaves/s",
                        "same leaves and first worker count, while the JVM still compiles (JIT took a core for seconds)"));
            }
            return f;
        }
    }

    @Override
    public SectionName name() {
        return SectionName.THROUGHPUT;
    }

    @Override
    public SectionResult run(BenchContext ctx) {
        Params params = ctx.config().throughput();
        BaselineSection.Result baseline = ctx.result(SectionName.BASELINE, BaselineSection.Result.class).orElse(null);
        Double consume = baseline == null ? null : baseline.consumeRecordsPerS();
        Double share = baseline == null ? null : baseline.shareConsumeRecordsPerS();
        List<Point> points = new ArrayList<>();
        List<Double> warmUps = new ArrayList<>();
        int first = params.workers().get(0);
        ctx.ensureWarmStack(first, params.concurrency());
        for (int i = 1; i <= WARM_UP_RUNS; i++) {
            ctx.log("  warm-up %d of %d: %d worker(s) × %d slots, %,d no-op leaves, not measured…", i, WARM_UP_RUNS, first,
                    params.concurrency(), params.leaves());
            BenchRuns.TimedRun warm = noopRun(ctx, params, BenchRuns.newRunId("tp-warm"));
            warmUps.add(params.leaves() / warm.seconds());
            ctx.log("    %.0f leaves/s", warmUps.get(warmUps.size() - 1));
        }
        for (int w : params.workers()) {
            ctx.log("  %d worker(s) × %d slots: %,d no-op leaves…", w, params.concurrency(), params.leaves());
            ctx.ensureWarmStack(w, params.concurrency());
            String runId = BenchRuns.newRunId("tp" + w);
            BenchRuns.TimedRun run = noopRun(ctx, params, runId);
            double rate = params.leaves() / run.seconds();
            points.add(new Point(w, runId, run.seconds(), rate, consume == null ? null : rate / consume,
                    share == null ? null : rate / share, run.receipt().status().wire()));
            ctx.log("    %.0f leaves/s", rate);
        }
        return new Result(params.leaves(), params.concurrency(), params.maxParallel(), consume, share, warmUps, points);
    }

    /** One run of the section's no-op workflow, required to succeed. */
    private static BenchRuns.TimedRun noopRun(BenchContext ctx, Params params, String runId) {
        BenchRuns.TimedRun run = ctx.runs().run(BenchWorkflows.noop(runId, params.leaves(), params.maxParallel()),
                ctx.runTimeout());
        run.requireSucceeded(params.leaves());
        return run;
    }
}
