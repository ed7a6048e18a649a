package io.sluice.cli.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import io.sluice.schemas.Json;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.Topics;
import io.sluice.schemas.UsageEvent;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * How fast a halt takes effect. Each trial runs the slow workflow ({@link BenchWorkflows#slow}: a 1-token step at
 * once, then two turns of {@code --halt-step-ms} and 200 tokens) on the in-process coordinator and workers, with C =
 * workers × slots leaves running, 2C more dispatched and waiting on {@code sluice.tasks} ({@code max_parallel} 3C) and
 * 3C never dispatched (6C leaves):
 * <ul>
 *   <li><b>budget</b> (optimistic mode): the limit is C + C/2 × 200 tokens, so the run is exhausted by usage about
 *       when half of the running leaves reported their first 200-token turn;</li>
 *   <li><b>deadline</b> (strict mode, no token limit): the workflow's {@code timeout_ms} is 1.5 steps, in the middle
 *       of the running leaves' first long turn.</li>
 * </ul>
 * While the run goes, a {@link TopicTail} follows the run's partition of {@code sluice.control} and notes when the
 * halt record became visible to read_committed readers; after its receipt, its usage events are read from
 * {@code sluice.usage} with their record timestamps and {@link HaltAnalysis} measures every figure from the trigger.
 * p50 and p99 are across trials (nearest rank: with few trials p99 is the worst).
 */
final class HaltSection implements BenchSection {

    /** The workflow's id, and so the path of the halt and the key of its control record. */
    static final String WORKFLOW = "halt";
    static final Duration CATCH_UP = Duration.ofSeconds(30);

    /**
     * @param trials      trials of each variant
     * @param step        latency of each long turn of a leaf
     * @param workers     in-process workers
     * @param concurrency slots of each
     * @param deadline    whether to run the deadline variant too
     */
    record Params(int trials, Duration step, int workers, int concurrency, boolean deadline) {
        static final int DEFAULT_TRIALS = 5;
        static final long DEFAULT_STEP_MS = 2_000;

        Params {
            OptionChecks.range("--trials", trials, 1, 1_000);
            OptionChecks.range("--halt-step-ms", step, Duration.ofMillis(100), Duration.ofMinutes(5));
        }

        int capacity() {
            return workers * concurrency;
        }

        long budgetLimit() {
            return capacity() + (long) Math.max(1, capacity() / 2) * BenchWorkflows.HALT_TURN_TOKENS;
        }
    }

    /** One variant across its trials. */
    record Variant(String trigger, Percentiles haltWrittenMs, Percentiles haltDurableMs, Percentiles lastQueuedRefusedMs,
                   Percentiles lastInFlightStoppedMs, Percentiles tokensAfterTrigger, Percentiles tokensAfterHalt,
                   List<HaltAnalysis.Trial> trials, List<String> errors) {

        static Variant of(String trigger, List<HaltAnalysis.Trial> trials, List<String> errors) {
            return new Variant(trigger, of(trials, HaltAnalysis.Trial::haltWrittenMs), of(trials, HaltAnalysis.Trial::haltDurableMs),
                    of(trials, HaltAnalysis.Trial::lastQueuedRefusedMs), of(trials, HaltAnalysis.Trial::lastInFlightStoppedMs),
                    of(trials, HaltAnalysis.Trial::tokensAfterTrigger), of(trials, HaltAnalysis.Trial::tokensAfterHalt),
                    trials, errors);
        }

        private static Percentiles of(List<HaltAnalysis.Trial> trials, Function<HaltAnalysis.Trial, ? extends Number> f) {
            return Percentiles.of(trials.stream().map(f).toList());
        }
    }

    record Result(int trials, int workers, int concurrency, long stepMs, int leaves, int maxParallel, long limit,
                  Long timeoutMs, Variant budget, Variant deadline) implements SectionResult {

        @Override
        public List<Figure> figures() {
            List<Figure> f = new ArrayList<>();
            add(f, "budget", budget, "from the exhausting usage event; limit " + limit + " tokens, " + workers * concurrency
                    + " leaves running, " + 2 * workers * concurrency + " queued");
            if (deadline != null) {
                add(f, "deadline", deadline, "from start + timeout_ms " + timeoutMs);
            }
            return f;
        }

        private static void add(List<Figure> f, String name, Variant v, String note) {
            String n = v.trials().size() + " trial(s)" + (v.errors().isEmpty() ? "" : ", " + v.errors().size() + " failed: "
                    + v.errors().get(0));
            f.add(Figure.of(name + ": halt durable on control", v.haltDurableMs().describe(), "ms p50/p99", note + "; " + n));
            f.add(Figure.of(name + ": halt record written", v.haltWrittenMs().describe(), "ms p50/p99", "its record timestamp"));
            f.add(Figure.of(name + ": last queued task refused", v.lastQueuedRefusedMs().describe(), "ms p50/p99",
                    "final halted event of a never-started attempt"));
            f.add(Figure.of(name + ": last in-flight leaf stopped", v.lastInFlightStoppedMs().describe(), "ms p50/p99",
                    "its final cancelled/timed_out event"));
            f.add(Figure.of(name + ": tokens after the trigger", v.tokensAfterTrigger().describe(), "tokens p50/p99",
                    "tokens after the halt record: " + v.tokensAfterHalt().describe()));
        }
    }

    @Override
    public SectionName name() {
        return SectionName.HALT;
    }

    @Override
    public SectionResult run(BenchContext ctx) throws Exception {
        Params params = ctx.config().halt();
        ctx.ensureWarmStack(params.workers(), params.concurrency());
        int c = params.capacity();
        int leaves = 6 * c;
        int maxParallel = 3 * c;
        long stepMs = params.step().toMillis();
        long timeoutMs = stepMs * 3 / 2;

        List<HaltAnalysis.Trial> budget = new ArrayList<>();
        List<String> budgetErrors = new ArrayList<>();
        List<HaltAnalysis.Trial> deadline = new ArrayList<>();
        List<String> deadlineErrors = new ArrayList<>();
        for (int t = 1; t <= params.trials(); t++) {
            ctx.log("  trial %d/%d: budget…", t, params.trials());
            try {
                budget.add(trial(ctx, false, leaves, maxParallel, params.budgetLimit(), timeoutMs, stepMs));
            } catch (RuntimeException e) {
                budgetErrors.add(e.getMessage());
            }
            if (params.deadline()) {
                ctx.log("  trial %d/%d: deadline…", t, params.trials());
                try {
                    deadline.add(trial(ctx, true, leaves, maxParallel, params.budgetLimit(), timeoutMs, stepMs));
                } catch (RuntimeException e) {
                    deadlineErrors.add(e.getMessage());
                }
            }
        }
        if (budget.isEmpty() && deadline.isEmpty()) {
            throw new IllegalStateException("every trial failed: " + budgetErrors.get(0));
        }
        return new Result(params.trials(), params.workers(), params.concurrency(), stepMs, leaves, maxParallel,
                params.budgetLimit(), params.deadline() ? timeoutMs : null, Variant.of("exhausting usage event", budget, budgetErrors),
                params.deadline() ? Variant.of("start + timeout_ms", deadline, deadlineErrors) : null);
    }

    private HaltAnalysis.Trial trial(BenchContext ctx, boolean byDeadline, int leaves, int maxParallel, long limit,
                                     long timeoutMs, long stepMs) throws InterruptedException {
        String bootstrap = ctx.bootstrapServers();
        String runId = BenchRuns.newRunId(byDeadline ? "deadline" : "halt");
        Submission submission = byDeadline
                ? BenchWorkflows.slow(runId, Mode.STRICT, leaves, maxParallel, null, timeoutMs, stepMs)
                : BenchWorkflows.slow(runId, Mode.OPTIMISTIC, leaves, maxParallel, limit, null, stepMs);
        TopicPartition usage = ctx.cluster().partitionOf(Topics.USAGE, runId);
        TopicPartition control = ctx.cluster().partitionOf(Topics.CONTROL, runId);
        long usageFrom = PartitionReader.endOffset(bootstrap, usage);
        String haltKey = Topics.ledgerKey(runId, WORKFLOW);
        AtomicReference<long[]> halt = new AtomicReference<>(); // {record timestamp, read at}
        BenchRuns.TimedRun run;
        try (TopicTail tail = TopicTail.start(bootstrap, List.of(control), "control", (r, readAt) -> {
            if (r.key() != null && r.value() != null && haltKey.equals(new String(r.key(), java.nio.charset.StandardCharsets.UTF_8))) {
                halt.compareAndSet(null, new long[] {r.timestamp(), readAt});
            }
        })) {
            run = ctx.runs().run(submission, ctx.runTimeout());
            tail.catchUp(bootstrap, CATCH_UP);
        }
        Status expected = byDeadline ? Status.TIMED_OUT : Status.BUDGET_EXCEEDED;
        if (run.receipt().status() != expected) {
            throw new IllegalStateException("run " + runId + " ended " + run.receipt().status().wire() + ", expected "
                    + expected.wire() + " (leaves " + run.leavesByStatus() + ")");
        }
        List<HaltAnalysis.UsageRecord> events = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : PartitionReader.read(bootstrap, usage, usageFrom, runId::equals)) {
            events.add(new HaltAnalysis.UsageRecord(Json.read(r.value(), UsageEvent.class), r.timestamp(), r.offset()));
        }
        long[] h = halt.get();
        Long haltRecordMs = h == null ? null : h[0];
        Long haltReadMs = h == null ? null : h[1];
        return byDeadline
                ? HaltAnalysis.deadline(runId, events, run.receipt().startedAtMs() + timeoutMs, haltRecordMs, haltReadMs)
                : HaltAnalysis.budget(runId, events, limit, haltRecordMs, haltReadMs);
    }
}
