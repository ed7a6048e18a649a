package io.sluice.cli.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.sluice.broker.EmbeddedKafkaBroker;
import io.sluice.schemas.Json;
import io.sluice.schemas.Topics;
import io.sluice.schemas.UsageEvent;
import io.sluice.worker.WorkerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * What a worker costs when it waits, and how many leaves one worker really holds at once.
 * <ul>
 *   <li><b>idle CPU</b>: for each {@code --idle-concurrency} N, {@code sluice worker --concurrency N} in a JVM of its own
 *       (no task for it: the in-process workers are stopped and nothing is submitted), waited for until it prints that
 *       it runs, left to settle (twice the window, at most {@link #MAX_SETTLE}), then its CPU time (utime + stime of every
 *       thread, {@code /proc/<pid>/stat}; the JIT compiler threads' share from {@code /proc/<pid>/task}) over
 *       {@code --idle-seconds} ÷ that wall time = % of one core. A concurrency the worker refuses (its config's range)
 *       is reported "refused: …"; one whose process dies, "failed: …". (Each serves its Prometheus endpoint on
 *       127.0.0.1, scraped only by the in-flight measurement.)</li>
 *   <li><b>in flight</b>: one such worker at {@code --inflight-concurrency} N runs 2N leaves that each hold a slot for
 *       {@code --inflight-leaf-ms} ({@link BenchWorkflows#timed}: a 1-token step at once marks the start on
 *       {@code sluice.usage}, the final event the end), {@code max_parallel} N, through the in-process coordinator. The
 *       peak is the largest number of attempts between their first and final events at one instant, from the events'
 *       record timestamps; the worker's {@code sluice_worker_inflight} gauge, scraped every 100 ms, is given too.
 *       When N is one of the idle concurrencies, the idle worker of that concurrency runs it after its idle window.</li>
 * </ul>
 */
final class IdleSection implements BenchSection {

    static final Duration READY_TIMEOUT = Duration.ofMinutes(2);
    /**
     * A fresh JVM compiles for a while after it starts: 10 s after its start an idle worker at concurrency 256 used
     * 3.9 % of a core, 40 s after it 1.15 % (JIT 0.35 %). The window begins after twice its length, at most
     * {@link #MAX_SETTLE}, so that it measures waiting, not start-up; what the JIT threads still take is shown.
     */
    static final Duration MAX_SETTLE = Duration.ofSeconds(40);
    /** Seconds of settling before a window of the given seconds. */
    static long settleSeconds(double windowSeconds) {
        return Math.min(MAX_SETTLE.toSeconds(), Math.round(2 * windowSeconds));
    }

    /**
     * @param window              CPU measuring window of each idle worker
     * @param concurrencies       concurrencies of the idle workers
     * @param inflightConcurrency concurrency of the in-flight worker
     * @param inflightLeaf        how long each of its leaves holds a slot
     */
    record Params(Duration window, List<Integer> concurrencies, int inflightConcurrency, Duration inflightLeaf) {
        static final int DEFAULT_IDLE_SECONDS = 20;
        static final String DEFAULT_CONCURRENCIES = "16,256,1000";
        static final int DEFAULT_INFLIGHT_CONCURRENCY = 1_000;
        static final long DEFAULT_INFLIGHT_LEAF_MS = 1_000;

        Params {
            OptionChecks.range("--idle-seconds", window, Duration.ofSeconds(1), Duration.ofHours(1));
            concurrencies = OptionChecks.each("--idle-concurrency", concurrencies, 1, 1_000_000);
            OptionChecks.range("--inflight-concurrency", inflightConcurrency, 1, 100_000);
            OptionChecks.range("--inflight-leaf-ms", inflightLeaf, Duration.ofMillis(10), Duration.ofMinutes(10));
        }
    }

    /** One idle worker; {@code outcome} is "ok", "refused: …" or "failed: …". */
    /** @param jitPercentOfOneCore the part of {@code cpuPercentOfOneCore} spent by the JIT compiler threads */
    record IdleEntry(int concurrency, String outcome, Double cpuPercentOfOneCore, Double jitPercentOfOneCore, Double seconds,
                     Long threads, Long rssBytes) {

        static IdleEntry failed(int concurrency, String outcome) {
            return new IdleEntry(concurrency, outcome, null, null, null, null, null);
        }
    }

    record InFlight(int concurrency, String outcome, Integer leaves, Long leafMs, Integer peakFromEvents,
                    Integer peakFromGauge, Double seconds, String runId) {
    }

    record Result(List<IdleEntry> idle, InFlight inFlight) implements SectionResult {

        @Override
        public List<Figure> figures() {
            List<Figure> f = new ArrayList<>();
            for (IdleEntry e : idle) {
                if ("ok".equals(e.outcome())) {
                    f.add(Figure.of("idle worker @ concurrency " + e.concurrency(), e.cpuPercentOfOneCore(), "% of a core",
                            String.format("over %.0f s, from %.0f s after start; JIT %s; %d threads, RSS %s MiB", e.seconds(),
                                    (double) settleSeconds(e.seconds()), e.jitPercentOfOneCore() == null ? "n/a"
                                            : String.format("%.2f %%", e.jitPercentOfOneCore()), e.threads(),
                                    e.rssBytes() == null ? "n/a" : BenchTable.number(e.rssBytes() / 1048576.0))));
                } else {
                    f.add(Figure.of("idle worker @ concurrency " + e.concurrency(), e.outcome(), null));
                }
            }
            if ("ok".equals(inFlight.outcome())) {
                f.add(Figure.of("leaves in flight, one worker @ " + inFlight.concurrency(), inFlight.peakFromEvents(), "peak",
                        String.format("%d leaves of %d ms; gauge peak %s; %.1f s", inFlight.leaves(), inFlight.leafMs(),
                                inFlight.peakFromGauge() == null ? "n/a" : inFlight.peakFromGauge(), inFlight.seconds())));
            } else {
                f.add(Figure.of("leaves in flight, one worker @ " + inFlight.concurrency(), inFlight.outcome(), null));
            }
            return f;
        }
    }

    @Override
    public SectionName name() {
        return SectionName.IDLE;
    }

    @Override
    public SectionResult run(BenchContext ctx) throws Exception {
        Params params = ctx.config().idle();
        ctx.sluice().stopWorkers(); // an idle worker must have nothing to take, and the in-flight one every task
        List<IdleEntry> idle = new ArrayList<>();
        InFlight inFlight = null;
        for (int n : params.concurrencies()) {
            ctx.log("  idle worker at concurrency %d…", n);
            String refused = refusal(ctx.bootstrapServers(), n);
            if (refused != null) {
                idle.add(IdleEntry.failed(n, refused));
                continue;
            }
            int metricsPort = EmbeddedKafkaBroker.freePort();
            try (JvmProcess worker = startWorker(ctx, n, metricsPort)) {
                IdleEntry entry = idle(params, worker, n);
                idle.add(entry);
                // The idle worker of the in-flight concurrency goes on to the in-flight run: one JVM start fewer.
                if (inFlight == null && n == params.inflightConcurrency() && "ok".equals(entry.outcome())) {
                    inFlight = inFlight(ctx, params, worker, metricsPort);
                }
            }
        }
        if (inFlight == null) {
            inFlight = inFlightAlone(ctx, params);
        }
        return new Result(idle, inFlight);
    }

    private static IdleEntry idle(Params params, JvmProcess worker, int concurrency) throws InterruptedException {
        try {
            worker.awaitReady(READY_TIMEOUT);
        } catch (IllegalStateException e) {
            return IdleEntry.failed(concurrency, "failed: " + e.getMessage());
        }
        TimeUnit.SECONDS.sleep(settleSeconds(params.window().toSeconds()));
        OptionalLong cpu0 = worker.cpuNanos();
        OptionalLong jit0 = worker.jitCpuNanos();
        long wall0 = System.nanoTime();
        TimeUnit.MILLISECONDS.sleep(params.window().toMillis());
        OptionalLong cpu1 = worker.cpuNanos();
        OptionalLong jit1 = worker.jitCpuNanos();
        long wall = System.nanoTime() - wall0;
        if (!worker.isAlive()) {
            return IdleEntry.failed(concurrency, "failed: the worker exited while measured" + worker.lastOutput());
        }
        if (cpu0.isEmpty() || cpu1.isEmpty()) {
            return IdleEntry.failed(concurrency, "failed: no CPU accounting for the process on this OS");
        }
        double percent = 100.0 * (cpu1.getAsLong() - cpu0.getAsLong()) / wall;
        OptionalLong threads = worker.statusCount("Threads");
        OptionalLong rss = worker.statusBytes("VmRSS");
        Double jit = jit0.isPresent() && jit1.isPresent() ? 100.0 * (jit1.getAsLong() - jit0.getAsLong()) / wall : null;
        return new IdleEntry(concurrency, "ok", percent, jit, wall / 1e9, threads.isPresent() ? threads.getAsLong() : null,
                rss.isPresent() ? rss.getAsLong() : null);
    }

    /** The in-flight measurement on a worker of its own, when no idle worker had its concurrency. */
    private static InFlight inFlightAlone(BenchContext ctx, Params params) throws InterruptedException {
        int n = params.inflightConcurrency();
        String refused = refusal(ctx.bootstrapServers(), n);
        if (refused != null) {
            return new InFlight(n, refused, null, params.inflightLeaf().toMillis(), null, null, null, null);
        }
        int metricsPort = EmbeddedKafkaBroker.freePort();
        try (JvmProcess worker = startWorker(ctx, n, metricsPort)) {
            try {
                worker.awaitReady(READY_TIMEOUT);
            } catch (IllegalStateException e) {
                return new InFlight(n, "failed: " + e.getMessage(), null, params.inflightLeaf().toMillis(), null, null, null,
                        null);
            }
            return inFlight(ctx, params, worker, metricsPort);
        }
    }

    private static InFlight inFlight(BenchContext ctx, Params params, JvmProcess worker, int metricsPort) {
        int n = params.inflightConcurrency();
        long leafMs = params.inflightLeaf().toMillis();
        ctx.log("  one worker at concurrency %d, %d leaves of %d ms…", n, 2 * n, leafMs);
        ctx.sluice().ensureCoordinator();
        String runId = BenchRuns.newRunId("inflight");
        int leaves = 2 * n;
        TopicPartition usage = ctx.cluster().partitionOf(Topics.USAGE, runId);
        long from = PartitionReader.endOffset(ctx.bootstrapServers(), usage);
        PrometheusScrape scrape = new PrometheusScrape(metricsPort);
        AtomicLong gaugePeak = new AtomicLong(-1);
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-bench-inflight");
            t.setDaemon(true);
            return t;
        });
        BenchRuns.TimedRun run;
        try {
            sampler.scheduleAtFixedRate(() -> {
                try {
                    OptionalDouble v = PrometheusScrape.sum(scrape.scrape(), "sluice_worker_inflight", Map.of());
                    v.ifPresent(x -> gaugePeak.accumulateAndGet((long) x, Math::max));
                } catch (Exception e) {
                    // a missed sample; the peak from the events does not depend on it
                }
            }, 0, 100, TimeUnit.MILLISECONDS);
            run = ctx.runs().run(BenchWorkflows.timed(runId, leaves, n, leafMs), ctx.runTimeout());
        } finally {
            sampler.shutdownNow();
        }
        if (!worker.isAlive()) {
            return new InFlight(n, "failed: the worker exited" + worker.lastOutput(), leaves, leafMs, null, null, null, runId);
        }
        run.requireSucceeded(leaves);
        List<ConsumerRecord<String, byte[]>> records = PartitionReader.read(ctx.bootstrapServers(), usage, from, runId::equals);
        List<UsageEvent> events = new ArrayList<>();
        List<Long> stamps = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : records) {
            events.add(Json.read(r.value(), UsageEvent.class));
            stamps.add(r.timestamp());
        }
        return new InFlight(n, "ok", leaves, leafMs, peakInFlight(events, stamps),
                gaugePeak.get() < 0 ? null : (int) gaugePeak.get(), run.seconds(), runId);
    }

    /**
     * The most attempts in flight at one instant: each attempt spans from its first event's timestamp to its final
     * event's; at equal times an end is counted before a start (touching spans do not overlap).
     */
    static int peakInFlight(List<UsageEvent> events, List<Long> timestamps) {
        Map<String, long[]> spans = new HashMap<>(); // attempt → {first, final}
        for (int i = 0; i < events.size(); i++) {
            UsageEvent e = events.get(i);
            long ts = timestamps.get(i);
            long[] span = spans.computeIfAbsent(e.path() + "#" + e.attempt(), k -> new long[] {Long.MAX_VALUE, Long.MIN_VALUE});
            span[0] = Math.min(span[0], ts);
            if (e.isFinal()) {
                span[1] = Math.max(span[1], ts);
            }
        }
        List<long[]> edges = new ArrayList<>(); // {time, +1 start / -1 end}
        for (long[] s : spans.values()) {
            if (s[1] == Long.MIN_VALUE) {
                continue; // no final event: not a whole span
            }
            edges.add(new long[] {s[0], 1});
            edges.add(new long[] {s[1], -1});
        }
        edges.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        int now = 0;
        int peak = 0;
        for (long[] edge : edges) {
            now += (int) edge[1];
            peak = Math.max(peak, now);
        }
        return peak;
    }

    /** "refused: …" when the worker's configuration does not accept the concurrency, else null. */
    static String refusal(String bootstrap, int concurrency) {
        try {
            WorkerConfig.of(bootstrap, "bench-check").withConcurrency(concurrency);
            return null;
        } catch (IllegalArgumentException e) {
            return "refused: " + e.getMessage();
        }
    }

    private static JvmProcess startWorker(BenchContext ctx, int concurrency, int metricsPort) {
        return JvmProcess.start("worker-" + concurrency, List.of(), List.of("worker", "--bootstrap-servers",
                ctx.bootstrapServers(), "--worker-id", "bench-idle-" + concurrency, "--concurrency",
                Integer.toString(concurrency), "--metrics-port", Integer.toString(metricsPort), "--metrics-bind", "127.0.0.1"),
                "running against");
    }
}
