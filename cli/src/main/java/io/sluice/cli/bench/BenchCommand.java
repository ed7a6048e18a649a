package io.sluice.cli.bench;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice bench}: measures, in one process run and on one broker, the figures that say what Sluice costs and how
 * fast it stops — raw Kafka (baseline), leaves/s through the system and its ratio to raw Kafka (throughput), halt
 * latency (halt), spend against the limit in both modes (overshoot), a very wide run (scale), the budget fold (fold)
 * and an idle worker's CPU (idle). Each section is a class of this package whose Javadoc says what it measures and how.
 *
 * <p>Prints a table (with {@code --json}, the JSON report on stdout and progress on stderr) and records the JSON under
 * {@code bench/results/} unless {@code --no-record}. Exit 0 once it ran, whatever a section's outcome (each error is in
 * the report); 1 when the report could not be recorded; 2 with one line for bad options; 3 when the broker cannot be
 * started or reached.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measures Sluice on one broker (embedded by default) and prints the figures side by side.",
                "Scale everything down for a smoke run, e.g. --baseline-records 2000 --leaves 200 --workers 1,2 --trials 1 "
                        + "--scale-leaves 2000 --idle-seconds 2 --idle-concurrency 4 --inflight-concurrency 4."})
public final class BenchCommand implements Callable<Integer> {

    static final int EXIT_OK = 0;
    /** It ran and printed its report, but could not write it under bench/results/. */
    static final int EXIT_NOT_RECORDED = 1;
    static final int EXIT_INVALID = 2;
    static final int EXIT_BROKER = 3;

    @Spec
    CommandSpec spec;

    @Option(names = {"-b", "--bootstrap-servers"}, paramLabel = "HOST:PORT,...",
            description = "Kafka cluster to use (default: $SLUICE_BOOTSTRAP_SERVERS, else an embedded broker)")
    String bootstrapServers;

    @Option(names = "--sections", split = ",", paramLabel = "NAME",
            defaultValue = "baseline,throughput,halt,overshoot,scale,fold,idle,provider",
            description = "Sections to run (default ${DEFAULT-VALUE})")
    List<String> sections = new ArrayList<>();

    @Option(names = "--json", description = "Print the JSON report on stdout (progress goes to stderr)")
    boolean json;

    @Option(names = "--no-record", description = "Do not write the report under bench/results/")
    boolean noRecord;

    @Option(names = "--results-dir", paramLabel = "DIR", description = "Where to record (default: bench/results at the repository's top)")
    Path resultsDir;

    @Option(names = "--run-timeout", defaultValue = BenchConfig.DEFAULT_RUN_TIMEOUT,
            description = "Longest wait for a run's receipt, scale excepted, e.g. 10m or PT10M (default ${DEFAULT-VALUE})")
    String runTimeout;

    @Option(names = "--baseline-records", defaultValue = "" + BaselineSection.Params.DEFAULT_RECORDS,
            description = "baseline: records produced and consumed (default ${DEFAULT-VALUE})")
    String baselineRecords;

    @Option(names = "--latency-samples", defaultValue = "" + BaselineSection.Params.DEFAULT_LATENCY_SAMPLES,
            description = "baseline: produce→consume round trips (default ${DEFAULT-VALUE})")
    String latencySamples;

    @Option(names = "--leaves", defaultValue = "" + ThroughputSection.Params.DEFAULT_LEAVES,
            description = "throughput: no-op leaves per run (default ${DEFAULT-VALUE})")
    String leaves;

    @Option(names = "--workers", split = ",", defaultValue = ThroughputSection.Params.DEFAULT_WORKERS,
            description = "throughput: worker counts to measure; the largest also runs halt, overshoot, scale (default ${DEFAULT-VALUE})")
    List<String> workers = new ArrayList<>();

    @Option(names = "--concurrency", defaultValue = "" + ThroughputSection.Params.DEFAULT_CONCURRENCY,
            description = "Slots of each in-process worker (default ${DEFAULT-VALUE})")
    String concurrency;

    @Option(names = "--max-parallel", defaultValue = "" + ThroughputSection.Params.DEFAULT_MAX_PARALLEL,
            description = "throughput and scale: the workflow's max_parallel (default ${DEFAULT-VALUE})")
    String maxParallel;

    @Option(names = "--trials", defaultValue = "" + HaltSection.Params.DEFAULT_TRIALS,
            description = "halt: trials of each variant (default ${DEFAULT-VALUE})")
    String trials;

    @Option(names = "--halt-step-ms", defaultValue = "" + HaltSection.Params.DEFAULT_STEP_MS,
            description = "halt: duration of a leaf's long turn (default ${DEFAULT-VALUE})")
    String haltStepMs;

    @Option(names = "--no-halt-deadline", description = "halt: skip the deadline (timeout_ms) variant")
    boolean noHaltDeadline;

    @Option(names = "--overshoot-leaves", defaultValue = "" + OvershootSection.Params.DEFAULT_LEAVES,
            description = "overshoot: leaves of 600 tokens against 10 000 (default ${DEFAULT-VALUE})")
    String overshootLeaves;

    @Option(names = "--scale-leaves", defaultValue = "" + ScaleSection.Params.DEFAULT_LEAVES,
            description = "scale: leaves of the wide run (default ${DEFAULT-VALUE})")
    String scaleLeaves;

    @Option(names = "--scale-heap", defaultValue = ScaleSection.Params.DEFAULT_HEAP,
            description = "scale: -Xmx of the coordinator JVM (default ${DEFAULT-VALUE})")
    String scaleHeap;

    @Option(names = "--scale-timeout", defaultValue = ScaleSection.Params.DEFAULT_TIMEOUT,
            description = "scale: longest wait for the wide run, e.g. 30m (default ${DEFAULT-VALUE})")
    String scaleTimeout;

    @Option(names = "--fold-events", defaultValue = "" + FoldSection.Params.DEFAULT_EVENTS,
            description = "fold: usage events folded by RunLedger alone (default ${DEFAULT-VALUE})")
    String foldEvents;

    @Option(names = "--fold-kafka-events", defaultValue = "" + FoldSection.Params.DEFAULT_KAFKA_EVENTS,
            description = "fold: usage events through the coordinator (default ${DEFAULT-VALUE})")
    String foldKafkaEvents;

    @Option(names = "--idle-seconds", defaultValue = "" + IdleSection.Params.DEFAULT_IDLE_SECONDS,
            description = "idle: CPU measuring window of each idle worker (default ${DEFAULT-VALUE})")
    String idleSeconds;

    @Option(names = "--idle-concurrency", split = ",", defaultValue = IdleSection.Params.DEFAULT_CONCURRENCIES,
            description = "idle: concurrencies of the idle workers (default ${DEFAULT-VALUE})")
    List<String> idleConcurrency = new ArrayList<>();

    @Option(names = "--inflight-concurrency", defaultValue = "" + IdleSection.Params.DEFAULT_INFLIGHT_CONCURRENCY,
            description = "idle: concurrency of the worker whose leaves in flight are counted (default ${DEFAULT-VALUE})")
    String inflightConcurrency;

    @Option(names = "--inflight-leaf-ms", defaultValue = "" + IdleSection.Params.DEFAULT_INFLIGHT_LEAF_MS,
            description = "idle: how long each of its leaves holds a slot (default ${DEFAULT-VALUE})")
    String inflightLeafMs;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter progress = json ? err : out;
        BenchConfig config;
        try {
            config = config();
        } catch (IllegalArgumentException e) {
            err.println("sluice bench: " + e.getMessage());
            return EXIT_INVALID;
        }
        progress.println(config.bootstrapServers() == null ? "Starting an embedded Kafka broker…"
                : "Using the Kafka cluster at " + config.bootstrapServers() + "…");
        progress.flush();
        BenchReport report;
        try (BenchCluster cluster = startCluster(config, err)) {
            if (cluster == null) {
                return EXIT_BROKER;
            }
            report = BenchRunner.standard().run(config, cluster, progress);
        }
        String document = BenchJson.write(report);
        if (json) {
            out.println(document);
        } else {
            out.println();
            BenchTable.print(report, out);
        }
        out.flush();
        if (!noRecord) {
            try {
                Path file = ResultRecorder.record(report, document, resultsDir != null ? resultsDir : ResultRecorder.defaultDirectory());
                progress.println("recorded " + file);
                progress.flush();
            } catch (java.io.IOException e) {
                err.println("sluice bench: cannot record the report: " + e.getMessage());
                return EXIT_NOT_RECORDED;
            }
        }
        return EXIT_OK;
    }

    private static BenchCluster startCluster(BenchConfig config, PrintWriter err) throws InterruptedException {
        try {
            return BenchCluster.start(config.bootstrapServers());
        } catch (RuntimeException e) {
            err.println("sluice bench: broker error: " + BenchRunner.oneLine(e));
            return null;
        }
    }

    /**
     * The options as a validated configuration. Values are parsed here rather than by picocli so that every bad one
     * gets a one-line error naming its option.
     *
     * @throws IllegalArgumentException naming the option, for the first bad value
     */
    BenchConfig config() {
        List<SectionName> chosen = new ArrayList<>();
        for (String s : sections) {
            if (!s.isBlank()) {
                chosen.add(SectionName.fromWire(s));
            }
        }
        int slots = OptionChecks.integer("--concurrency", concurrency);
        int parallel = OptionChecks.integer("--max-parallel", maxParallel);
        ThroughputSection.Params throughput = new ThroughputSection.Params(OptionChecks.integer("--leaves", leaves),
                OptionChecks.integers("--workers", workers), slots, parallel);
        int shapeWorkers = throughput.largestWorkers();
        return new BenchConfig(bootstrap(), chosen, OptionChecks.duration("--run-timeout", runTimeout),
                new BaselineSection.Params(OptionChecks.integer("--baseline-records", baselineRecords),
                        OptionChecks.integer("--latency-samples", latencySamples)),
                throughput,
                new HaltSection.Params(OptionChecks.integer("--trials", trials),
                        Duration.ofMillis(OptionChecks.integer("--halt-step-ms", haltStepMs)), shapeWorkers, slots,
                        !noHaltDeadline),
                new OvershootSection.Params(OptionChecks.integer("--overshoot-leaves", overshootLeaves), shapeWorkers, slots),
                new ScaleSection.Params(OptionChecks.integer("--scale-leaves", scaleLeaves), scaleHeap,
                        OptionChecks.duration("--scale-timeout", scaleTimeout), parallel, shapeWorkers, slots),
                new FoldSection.Params(OptionChecks.integer("--fold-events", foldEvents),
                        OptionChecks.integer("--fold-kafka-events", foldKafkaEvents)),
                new IdleSection.Params(Duration.ofSeconds(OptionChecks.integer("--idle-seconds", idleSeconds)),
                        OptionChecks.integers("--idle-concurrency", idleConcurrency),
                        OptionChecks.integer("--inflight-concurrency", inflightConcurrency),
                        Duration.ofMillis(OptionChecks.integer("--inflight-leaf-ms", inflightLeafMs))),
                new ProviderSection.Params(shapeWorkers, slots));
    }

    private String bootstrap() {
        if (bootstrapServers != null && !bootstrapServers.isBlank()) {
            return bootstrapServers;
        }
        String env = System.getenv("SLUICE_BOOTSTRAP_SERVERS");
        return env == null || env.isBlank() ? null : env;
    }

}
