package io.sluice.cli.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.sluice.broker.EmbeddedKafkaBroker;
import io.sluice.schemas.Topics;
import org.apache.kafka.common.TopicPartition;

/**
 * One very wide run: {@code --scale-leaves} no-op leaves (one leaf definition with {@code repeat}, {@code max_parallel}
 * as for throughput) through a coordinator in a JVM of its own and the in-process workers: does it complete, how long
 * it takes, and what it costs the coordinator and the ledger.
 * <ul>
 *   <li>The coordinator is {@code sluice coordinator} started as {@code java -Xmx<--scale-heap> -cp <this class path>},
 *       so its heap holds nothing but the coordinator. The in-process coordinator is stopped first (both would share
 *       the coordinators' group and split the run's partitions). A small no-op run goes through it before the
 *       measured one.</li>
 *   <li>Heap: its Prometheus endpoint is scraped every 500 ms for {@code jvm_memory_used_bytes{area="heap"}} (summed
 *       over the pools; it includes garbage not yet collected, so its maximum is an upper bound of what the run
 *       needs); its GC log ({@code -Xlog:gc}) gives the largest heap left right after a collection ({@link GcLog}:
 *       what it really held, at the collections' moments); and the process's peak resident set (VmHWM).</li>
 *   <li>Ledger: a {@link TopicTail} on the run's partition of {@code sluice.ledger} sums key + value bytes of the
 *       run's entries as they are committed (before compaction can remove any); the topic's size on the broker
 *       afterwards ({@code Admin#describeLogDirs}) is given too.</li>
 * </ul>
 */
final class ScaleSection implements BenchSection {

    static final Duration READY_TIMEOUT = Duration.ofMinutes(2);
    static final Duration SAMPLE_EVERY = Duration.ofMillis(500);

    /**
     * @param leaves      leaves of the run
     * @param heap        the coordinator JVM's -Xmx, e.g. 512m
     * @param timeout     longest wait for the receipt
     * @param maxParallel the workflow's {@code max_parallel}
     * @param workers     in-process workers
     * @param concurrency slots of each
     */
    record Params(int leaves, String heap, Duration timeout, int maxParallel, int workers, int concurrency) {
        static final int DEFAULT_LEAVES = 1_000_000;
        static final String DEFAULT_HEAP = "512m";
        static final String DEFAULT_TIMEOUT = "PT60M";

        Params {
            OptionChecks.range("--scale-leaves", leaves, 1, 1_000_000);
            if (heap == null || !heap.matches("[1-9][0-9]*[kKmMgG]?")) {
                throw new IllegalArgumentException("--scale-heap: a -Xmx size such as 512m or 2g, got " + heap);
            }
            OptionChecks.range("--scale-timeout", timeout, Duration.ofSeconds(10), Duration.ofDays(1));
        }
    }

    record Result(int leaves, int maxParallel, boolean completed, String status, double seconds, Double leavesPerS, Map<String, Long> leavesByStatus,
                  String coordinatorXmx, Long heapUsedPeakBytes, Long heapAfterGcPeakBytes, int collections, Long rssPeakBytes,
                  int heapSamples, long ledgerRecords, long ledgerBytes, Long ledgerTopicBytesAfter, String error,
                  String heapMethod) implements SectionResult {

        @Override
        public List<Figure> figures() {
            List<Figure> f = new ArrayList<>();
            f.add(Figure.of("completed", completed ? "yes" : "no" + (error != null ? ": " + error : ""), null,
                    String.format("%,d no-op leaves, max_parallel %d, status %s %s", leaves, maxParallel, status,
                            leavesByStatus)));
            f.add(Figure.of("duration", seconds, "s", leavesPerS == null ? null : BenchTable.number(leavesPerS) + " leaves/s"));
            f.add(Figure.of("coordinator heap used, peak", mib(heapUsedPeakBytes), "MiB",
                    "-Xmx" + coordinatorXmx + ", jvm_memory_used_bytes{area=heap} every 500 ms, " + heapSamples + " samples"));
            f.add(Figure.of("coordinator heap after GC, peak", mib(heapAfterGcPeakBytes), "MiB",
                    "largest heap left after a collection, -Xlog:gc, " + collections + " collections"));
            f.add(Figure.of("coordinator peak RSS", mib(rssPeakBytes), "MiB", "/proc VmHWM"));
            f.add(Figure.of("ledger written for the run", mib(ledgerBytes), "MiB", String.format(
                    "%,d entries, key + value bytes; topic on disk after: %s MiB", ledgerRecords,
                    BenchTable.number(mib(ledgerTopicBytesAfter)))));
            return f;
        }

        private static Double mib(Long bytes) {
            return bytes == null ? null : bytes / (1024.0 * 1024.0);
        }
    }

    @Override
    public SectionName name() {
        return SectionName.SCALE;
    }

    @Override
    public SectionResult run(BenchContext ctx) throws Exception {
        Params params = ctx.config().scale();
        String bootstrap = ctx.bootstrapServers();
        ctx.sluice().stopCoordinator();
        ctx.sluice().ensureWorkers(params.workers(), params.concurrency());
        int metricsPort = EmbeddedKafkaBroker.freePort();
        ctx.log("  starting a coordinator JVM (-Xmx%s)…", params.heap());
        Path gcLog = Files.createTempFile("sluice-bench-coordinator-gc-", ".log");
        try (JvmProcess coordinator = JvmProcess.start("coordinator", List.of("-Xmx" + params.heap(),
                "-Xlog:gc:file=" + gcLog), List.of("coordinator",
                "--bootstrap-servers", bootstrap, "--instance-id", "bench-scale", "--metrics-port", Integer.toString(metricsPort),
                "--metrics-bind", "127.0.0.1"), "running against")) {
            coordinator.awaitReady(READY_TIMEOUT);
            int warm = Math.max(20, 4 * params.workers() * params.concurrency());
            ctx.runs().warmUp(warm, ctx.runTimeout()).requireSucceeded(warm);

            String runId = BenchRuns.newRunId("scale");
            TopicPartition ledger = ctx.cluster().partitionOf(Topics.LEDGER, runId);
            byte[] prefix = Topics.ledgerKey(runId, "").getBytes(StandardCharsets.UTF_8);
            AtomicLong ledgerRecords = new AtomicLong();
            AtomicLong ledgerBytes = new AtomicLong();
            HeapSampler heap = new HeapSampler(new PrometheusScrape(metricsPort));
            ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "sluice-bench-heap");
                t.setDaemon(true);
                return t;
            });
            ctx.log("  %,d no-op leaves…", params.leaves());
            BenchRuns.TimedRun run = null;
            String error = null;
            long started = System.nanoTime();
            try (TopicTail tail = TopicTail.start(bootstrap, List.of(ledger), "ledger", (r, readAt) -> {
                if (r.key() != null && startsWith(r.key(), prefix)) {
                    ledgerRecords.incrementAndGet();
                    ledgerBytes.addAndGet(r.key().length + (r.value() == null ? 0 : r.value().length));
                }
            })) {
                sampler.scheduleAtFixedRate(heap::sample, 0, SAMPLE_EVERY.toMillis(), TimeUnit.MILLISECONDS);
                try {
                    run = ctx.runs().run(BenchWorkflows.noop(runId, params.leaves(), params.maxParallel()), params.timeout());
                } catch (IllegalStateException e) {
                    error = e.getMessage();
                }
                sampler.shutdown();
                sampler.awaitTermination(10, TimeUnit.SECONDS);
                heap.sample();
                if (!coordinator.isAlive()) {
                    error = (error == null ? "" : error + "; ") + "the coordinator JVM exited" + coordinator.lastOutput();
                }
                tail.catchUp(bootstrap, Duration.ofMinutes(2));
            } finally {
                sampler.shutdownNow();
            }
            double seconds = run != null ? run.seconds() : (System.nanoTime() - started) / 1e9;
            boolean completed = run != null && run.receipt().status() == io.sluice.schemas.Status.SUCCEEDED
                    && run.leaves(io.sluice.schemas.Status.SUCCEEDED) == params.leaves();
            Long onDisk = null;
            try {
                onDisk = ctx.cluster().topicBytesOnDisk(Topics.LEDGER);
            } catch (RuntimeException e) {
                // reported as n/a
            }
            OptionalLong rss = coordinator.statusBytes("VmHWM");
            List<String> gc = GcLog.read(gcLog);
            OptionalLong afterGc = GcLog.peakAfterCollection(gc);
            return new Result(params.leaves(), params.maxParallel(), completed, run == null ? "no receipt" : run.receipt().status().wire(), seconds,
                    run == null ? null : params.leaves() / seconds, run == null ? Map.of() : run.leavesByStatus(),
                    params.heap(), heap.usedPeak(), afterGc.isPresent() ? afterGc.getAsLong() : null, GcLog.collections(gc),
                    rss.isPresent() ? rss.getAsLong() : null, heap.samples(),
                    ledgerRecords.get(), ledgerBytes.get(), onDisk, error,
                    "separate JVM; max of Prometheus jvm_memory_used_bytes{area=heap} every 500 ms; max heap after a"
                            + " collection from its -Xlog:gc" + (heap.error() != null ? " (" + heap.error() + ")" : ""));
        } finally {
            Files.deleteIfExists(gcLog);
        }
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        if (key.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (key[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** Keeps the maxima of the scraped heap figures; called from the sampler thread, read after it stopped. */
    private static final class HeapSampler {
        private final PrometheusScrape scrape;
        private final AtomicLong usedPeak = new AtomicLong(-1);
        private final AtomicLong samples = new AtomicLong();
        private final AtomicReference<String> error = new AtomicReference<>();

        HeapSampler(PrometheusScrape scrape) {
            this.scrape = scrape;
        }

        void sample() {
            try {
                String text = scrape.scrape();
                OptionalDouble used = PrometheusScrape.sum(text, "jvm_memory_used_bytes", Map.of("area", "heap"));
                used.ifPresent(v -> usedPeak.accumulateAndGet((long) v, Math::max));
                samples.incrementAndGet();
            } catch (Exception e) {
                error.compareAndSet(null, "heap scrape: " + e.getMessage());
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        Long usedPeak() {
            return usedPeak.get() < 0 ? null : usedPeak.get();
        }

        int samples() {
            return (int) samples.get();
        }

        String error() {
            return samples.get() == 0 ? error.get() : null;
        }
    }
}
