package io.sluice.cli.bench;

import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the chosen sections in {@link SectionName#executionOrder()} on one cluster and collects their outcomes in report
 * order. A section that throws is reported as an error line and the bench goes on: the in-process coordinator and
 * workers are then stopped, so that the next section starts them afresh rather than inherit a broken state.
 */
final class BenchRunner {

    private final List<BenchSection> sections;

    BenchRunner(List<BenchSection> sections) {
        this.sections = List.copyOf(sections);
    }

    /** Every section Sluice's bench has. */
    static BenchRunner standard() {
        return new BenchRunner(List.of(new BaselineSection(), new ThroughputSection(), new HaltSection(),
                new OvershootSection(), new ScaleSection(), new FoldSection(), new IdleSection(), new ProviderSection()));
    }

    BenchReport run(BenchConfig config, BenchCluster cluster, java.io.PrintWriter progress) {
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        Map<SectionName, BenchReport.SectionOutcome> outcomes = new EnumMap<>(SectionName.class);
        try (InProcessSluice sluice = new InProcessSluice(cluster.bootstrapServers());
             BenchRuns runs = new BenchRuns(cluster.bootstrapServers())) {
            BenchContext ctx = new BenchContext(config, cluster, sluice, runs, progress);
            for (SectionName name : SectionName.executionOrder()) {
                if (!config.runs(name)) {
                    continue;
                }
                BenchSection section = find(name);
                ctx.log("%s…", name.wire());
                long s0 = System.nanoTime();
                try {
                    SectionResult result = section.run(ctx);
                    ctx.recordResult(name, result);
                    outcomes.put(name, BenchReport.SectionOutcome.ok(seconds(s0), result));
                } catch (Exception | LinkageError | AssertionError e) {
                    if (e instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                    }
                    String error = oneLine(e);
                    ctx.log("%s: ERROR %s", name.wire(), error);
                    outcomes.put(name, BenchReport.SectionOutcome.failed(seconds(s0), error));
                    sluice.reset();
                    if (Thread.currentThread().isInterrupted()) {
                        break;
                    }
                }
            }
        }
        Map<String, BenchReport.SectionOutcome> ordered = new LinkedHashMap<>();
        outcomes.forEach((name, outcome) -> ordered.put(name.wire(), outcome));
        BenchMeta meta = BenchMeta.collect(started, seconds(t0), cluster.embedded(), cluster.bootstrapServers());
        return new BenchReport(BenchReport.FORMAT, meta, config, ordered);
    }

    private BenchSection find(SectionName name) {
        return sections.stream().filter(s -> s.name() == name).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no section " + name.wire()));
    }

    /** The exception's class and message, on one line. */
    static String oneLine(Throwable e) {
        String message = e.getMessage() == null ? "" : ": " + e.getMessage();
        String text = e.getClass().getSimpleName() + message;
        return text.replaceAll("\\s*\\R\\s*", " ");
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
