package io.sluice.cli.bench;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * What every section runs on: the cluster, the coordinator and workers in this JVM, a client that submits and times
 * runs, where progress goes, and the results of the sections that ran before (throughput compares itself with the
 * baseline). Not thread-safe: the bench's main thread holds it.
 */
final class BenchContext {

    private final BenchConfig config;
    private final BenchCluster cluster;
    private final InProcessSluice sluice;
    private final BenchRuns runs;
    private final PrintWriter progress;
    private final Map<SectionName, SectionResult> results = new EnumMap<>(SectionName.class);

    BenchContext(BenchConfig config, BenchCluster cluster, InProcessSluice sluice, BenchRuns runs, PrintWriter progress) {
        this.config = config;
        this.cluster = cluster;
        this.sluice = sluice;
        this.runs = runs;
        this.progress = progress;
    }

    BenchConfig config() {
        return config;
    }

    BenchCluster cluster() {
        return cluster;
    }

    String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    InProcessSluice sluice() {
        return sluice;
    }

    BenchRuns runs() {
        return runs;
    }

    Duration runTimeout() {
        return config.runTimeout();
    }

    /**
     * Runs exactly {@code workers} in-process workers of {@code concurrency} slots with the in-process coordinator, and
     * warms newly started ones up with a small no-op run (a new share-group member takes a moment to get records).
     */
    void ensureWarmStack(int workers, int concurrency) {
        sluice.ensureCoordinator();
        int started = sluice.ensureWorkers(workers, concurrency);
        if (started > 0) {
            int leaves = Math.max(20, 4 * workers * concurrency);
            log("  warming up %d new worker(s) with %d no-op leaves…", started, leaves);
            runs.warmUp(leaves, runTimeout()).requireSucceeded(leaves);
        }
    }

    /** A progress line ({@link String#format}). */
    void log(String format, Object... args) {
        progress.println(String.format(format, args));
        progress.flush();
    }

    void recordResult(SectionName name, SectionResult result) {
        results.put(name, result);
    }

    <T extends SectionResult> Optional<T> result(SectionName name, Class<T> type) {
        SectionResult r = results.get(name);
        return type.isInstance(r) ? Optional.of(type.cast(r)) : Optional.empty();
    }
}
