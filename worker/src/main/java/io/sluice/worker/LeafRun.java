package io.sluice.worker;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import io.sluice.schemas.Grant;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Status;
import io.sluice.schemas.Usage;
import io.sluice.schemas.UsageEvent;
import io.sluice.worker.execute.Allowance;
import io.sluice.worker.execute.BudgetExhaustedException;
import io.sluice.worker.execute.LeafCancelledException;
import io.sluice.worker.execute.LeafContext;
import io.sluice.worker.execute.Price;
import io.sluice.worker.execute.StepPermit;

/**
 * The context of one executing attempt: it admits steps against the grant ({@link Allowances}), reports every
 * completed step as a usage event (seq 1, 2, ...) and remembers what was spent, the last partial output and any
 * overspend.
 *
 * <p>Thread-safety: step methods are synchronized (an executor may hand its loop between threads); cancellation
 * methods may be called from any thread.
 */
final class LeafRun implements LeafContext {

    private final LeafTask task;
    /** What the attempt may spend in all. */
    private final Grant grant;
    /** The grant without its wrap-up reserve: what ordinary steps are admitted against. */
    private final Grant mainGrant;
    private final long wrapUpReserve;
    private boolean wrapUpUsed;
    private final String workerId;
    private final UsageSink sink;
    private final Clock clock;
    private final WorkerMetrics metrics;
    private final StopSignal signal;
    private final Instant deadline;
    private final List<CompletableFuture<Void>> writes = new ArrayList<>();

    private Usage used = Usage.ZERO;
    private long seq;
    private Permit open;
    private String overspend;
    private volatile JsonNode recordedOutput;

    LeafRun(LeafTask task, String workerId, UsageSink sink, Clock clock, WorkerMetrics metrics, StopSignal signal) {
        this.task = task;
        this.grant = task.grant() != null ? task.grant() : Grant.UNLIMITED;
        this.wrapUpReserve = grant.wrapUpTokens() == null ? 0 : Math.max(0, grant.wrapUpTokens());
        this.mainGrant = wrapUpReserve > 0 && grant.maxTokens() != null
                ? new Grant(Math.max(0, grant.maxTokens() - wrapUpReserve), grant.maxInputTokens(), grant.maxOutputTokens(),
                        grant.maxSteps(), grant.maxCostMicrousd())
                : grant;
        this.workerId = workerId;
        this.sink = sink;
        this.clock = clock;
        this.metrics = metrics;
        this.signal = signal;
        this.deadline = task.deadlineMs() != null ? Instant.ofEpochMilli(task.deadlineMs()) : null;
    }

    @Override
    public LeafTask task() {
        return task;
    }

    @Override
    public JsonNode input() {
        return task.input() != null ? task.input() : NullNode.getInstance();
    }

    @Override
    public synchronized Allowance remaining() {
        return Allowances.remaining(mainGrant, used, deadline);
    }

    @Override
    public synchronized StepPermit beginStep(long inputTokens, long wantedOutputTokens, Price price) {
        return begin(mainGrant, inputTokens, wantedOutputTokens, price);
    }

    @Override
    public synchronized boolean wrapUpAvailable() {
        return wrapUpReserve > 0 && !wrapUpUsed;
    }

    @Override
    public synchronized StepPermit beginWrapUpStep(long inputTokens, long wantedOutputTokens, Price price) {
        if (!wrapUpAvailable()) {
            throw new BudgetExhaustedException(wrapUpReserve == 0 ? "no wrap_up_tokens reserve"
                    : "the wrap-up reserve was used");
        }
        StepPermit permit = begin(grant, inputTokens, wantedOutputTokens, price);
        wrapUpUsed = true;
        return permit;
    }

    private StepPermit begin(Grant against, long inputTokens, long wantedOutputTokens, Price price) {
        throwIfCancelled();
        if (open != null) {
            throw new IllegalStateException("step " + open.step + " was begun and not completed");
        }
        Allowances.Admission admission = Allowances.admit(against, used, inputTokens, wantedOutputTokens, price);
        if (!admission.admitted()) {
            throw new BudgetExhaustedException(admission.refusal() + (against == mainGrant && wrapUpAvailable()
                    ? " (" + wrapUpReserve + " tokens of the grant kept back for the wrap-up)" : ""));
        }
        open = new Permit((int) used.steps() + 1, inputTokens, admission.maxOutputTokens(), admission.outputLimit(),
                price, System.nanoTime());
        return open;
    }

    private synchronized void complete(Permit permit, long inputTokens, long outputTokens) {
        if (permit.completed) {
            throw new IllegalStateException("step " + permit.step + " was already completed");
        }
        if (inputTokens < 0 || outputTokens < 0) {
            throw new IllegalArgumentException("step " + permit.step + ": token counts must be >= 0, got input "
                    + inputTokens + ", output " + outputTokens);
        }
        permit.completed = true;
        if (open == permit) {
            open = null;
        }
        // Spend is truth: whatever the step used is reported, even beyond the grant.
        long cost = permit.price == null ? 0 : permit.price.cost(inputTokens, outputTokens);
        used = used.plus(new Usage(inputTokens, outputTokens, 1, cost));
        seq++;
        writes.add(sink.usage(new UsageEvent(task.runId(), task.path(), task.attempt(), workerId, seq, inputTokens,
                outputTokens, 1, false, Status.RUNNING, null, null, null, clock.millis(), cost)));
        metrics.tokens(inputTokens, outputTokens);
        metrics.step(String.valueOf(task.executor()), Duration.ofNanos(System.nanoTime() - permit.beganNanos));
        Optional<String> violation = Allowances.violation(grant, used);
        if (violation.isPresent()) {
            if (overspend == null) {
                overspend = "executor '" + task.executor() + "' reported more than its grant allows: " + violation.get();
            }
            throw new BudgetExhaustedException(overspend);
        }
    }

    @Override
    public void recordOutput(JsonNode partialOutput) {
        recordedOutput = partialOutput;
    }

    @Override
    public boolean isCancelled() {
        checkDeadline();
        return signal.isStopped();
    }

    @Override
    public void throwIfCancelled() {
        if (isCancelled()) {
            throw new LeafCancelledException(signal.get().reason());
        }
    }

    @Override
    public boolean awaitCancellation(Duration duration) throws InterruptedException {
        Objects.requireNonNull(duration, "duration");
        Duration wait = duration;
        if (deadline != null) {
            Duration untilDeadline = Duration.ofMillis(Math.max(0, deadline.toEpochMilli() - clock.millis()));
            if (untilDeadline.compareTo(wait) < 0) {
                wait = untilDeadline;
            }
        }
        if (!isCancelled()) {
            signal.await(wait);
        }
        return isCancelled();
    }

    @Override
    public void onCancel(Runnable action) {
        signal.onStop(Objects.requireNonNull(action, "action"));
    }

    /** Stops the leaf when its deadline has passed (the timer may not have fired yet, or the clock is not real). */
    void checkDeadline() {
        if (deadline != null && !signal.isStopped() && clock.millis() >= deadline.toEpochMilli()) {
            signal.stop(StopSignal.Stop.deadline());
        }
    }

    synchronized Usage used() {
        return used;
    }

    synchronized long seq() {
        return seq;
    }

    synchronized String overspend() {
        return overspend;
    }

    JsonNode recordedOutput() {
        return recordedOutput;
    }

    synchronized List<CompletableFuture<Void>> writes() {
        return List.copyOf(writes);
    }

    /** A begun step. */
    private final class Permit implements StepPermit {
        private final int step;
        private final long inputTokens;
        private final long maxOutputTokens;
        private final String outputLimit;
        private final Price price;
        private final long beganNanos;
        private boolean completed;

        Permit(int step, long inputTokens, long maxOutputTokens, String outputLimit, Price price, long beganNanos) {
            this.step = step;
            this.inputTokens = inputTokens;
            this.maxOutputTokens = maxOutputTokens;
            this.outputLimit = outputLimit;
            this.price = price;
            this.beganNanos = beganNanos;
        }

        @Override
        public int step() {
            return step;
        }

        @Override
        public long inputTokens() {
            return inputTokens;
        }

        @Override
        public long maxOutputTokens() {
            return maxOutputTokens;
        }

        @Override
        public String outputLimit() {
            return outputLimit;
        }

        @Override
        public void complete(long actualInputTokens, long outputTokens) {
            LeafRun.this.complete(this, actualInputTokens, outputTokens);
        }
    }
}
