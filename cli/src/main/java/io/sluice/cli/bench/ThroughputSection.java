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
 * warmed up with a small no-op run (see {@link BenchContext#ensureWarmStack}).
 */
final class ThroughputSection implements BenchSection {

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

    record Result(int leaves, int concurrency, int maxParallel, Double baselineConsumeRecordsPerS,
                  Double baselineShareConsumeRecordsPerS, List<Point> points) implements SectionResult {

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
        for (int w : params.workers()) {
            ctx.log("  %d worker(s) × %d slots: %,d no-op leaves…", w, params.concurrency(), params.leaves());
            ctx.ensureWarmStack(w, params.concurrency());
            String runId = BenchRuns.newRunId("tp" + w);
            BenchRuns.TimedRun run = ctx.runs().run(BenchWorkflows.noop(runId, params.leaves(), params.maxParallel()),
                    ctx.runTimeout());
            run.requireSucceeded(params.leaves());
            double rate = params.leaves() / run.seconds();
            points.add(new Point(w, runId, run.seconds(), rate, consume == null ? null : rate / consume,
                    share == null ? null : rate / share, run.receipt().status().wire()));
            ctx.log("    %.0f leaves/s", rate);
        }
        return new Result(params.leaves(), params.concurrency(), params.maxParallel(), consume, share, points);
    }
}
