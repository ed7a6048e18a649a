package io.sluice.coordinator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;

import io.sluice.schemas.Grant;
import io.sluice.schemas.Halt;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Status;
import io.sluice.schemas.UsageEvent;

/**
 * Simulated workers for a {@link RunLedger}: takes the tasks it dispatches and "runs" them, each leaf with a need
 * (tokens per step, steps, whether it fails), truncating every step to what is left of the grant like a real
 * worker, and reports one usage event per step and then a final event. Attempts advance in a seeded random
 * interleaving; sometimes an old event is sent again (it must be ignored), sometimes a forged one for an unknown
 * attempt, sometimes time jumps forward and the ledger is ticked. Halted attempts stop (reporting a last partial
 * step on their final event, which must still be charged); attempts past their deadline end timed_out.
 *
 * <p>After every call the {@link Observer} sees the decisions, so invariants are checked at every step.
 */
final class WorkerSim {

    /** What a leaf needs to finish. */
    record Need(long inPerStep, long outPerStep, int steps, boolean fails) {
    }

    /**
     * @param duplicateRate     chance per call of re-sending an old event (or a forged unknown one)
     * @param tickRate          chance per call of letting time jump and ticking the ledger
     * @param maxTickMs         largest time jump
     * @param maxEventDelayMs   largest time between two events
     * @param partialFinalRate  chance that a stopped attempt reports a last partial step on its final event
     */
    record Options(double duplicateRate, double tickRate, long maxTickMs, long maxEventDelayMs, double partialFinalRate) {

        static Options defaults() {
            return new Options(0.08, 0.04, 500, 25, 0.5);
        }
    }

    /** Sees every call's result, for invariant checks. */
    interface Observer {
        void afterCall(String call, Decisions decisions, WorkerSim sim);
    }

    static final long START = 10_000;

    final RunLedger ledger;
    private final Random random;
    private final Function<String, Need> needs;
    private final Options options;
    private final Observer observer;

    long now = START;
    final List<Attempt> running = new ArrayList<>();
    final Set<String> dispatched = new HashSet<>();
    final List<Halt> halts = new ArrayList<>();
    final List<Decisions> history = new ArrayList<>();
    /** Usage the ledger accepted, per leaf path: {input, output, steps}. */
    final Map<String, long[]> emitted = new HashMap<>();
    /** Grants of every dispatched attempt, by path. */
    final Map<String, Grant> grants = new HashMap<>();
    private final List<UsageEvent> sent = new ArrayList<>();
    long duplicatesSent;
    int receipts;

    WorkerSim(RunLedger ledger, long seed, Function<String, Need> needs, Options options, Observer observer) {
        this.ledger = ledger;
        this.random = new Random(seed);
        this.needs = needs;
        this.options = options;
        this.observer = observer;
    }

    /** One attempt a simulated worker is running. */
    final class Attempt {
        final LeafTask task;
        final Need need;
        /** What is left of the grant: tokens, input, output, steps (Long.MAX_VALUE where unlimited). */
        final long[] left = new long[4];
        long seq;
        int stepsDone;
        Status pendingFinal;

        Attempt(LeafTask task) {
            this.task = task;
            this.need = needs.apply(task.path());
            Grant g = task.grant();
            left[0] = g.maxTokens() == null ? Long.MAX_VALUE : g.maxTokens();
            left[1] = g.maxInputTokens() == null ? Long.MAX_VALUE : g.maxInputTokens();
            left[2] = g.maxOutputTokens() == null ? Long.MAX_VALUE : g.maxOutputTokens();
            left[3] = g.maxSteps() == null ? Long.MAX_VALUE : g.maxSteps();
        }

        UsageEvent next() {
            Halt halt = halts.stream().filter(h -> h.covers(task.path())).findFirst().orElse(null);
            if (halt != null) {
                boolean partial = random.nextDouble() < options.partialFinalRate() && left[3] > 0 && stepsDone < need.steps();
                long[] u = partial ? step(random.nextInt(2) == 0) : new long[3];
                return event(u, true, halt.status(), "stopped: " + halt.reason());
            }
            if (task.deadlineMs() != null && now >= task.deadlineMs()) {
                return event(new long[3], true, Status.TIMED_OUT, "deadline passed");
            }
            if (pendingFinal != null) {
                return event(new long[3], true, pendingFinal, null);
            }
            if (stepsDone == need.steps()) {
                return event(new long[3], true, need.fails() ? Status.FAILED : Status.SUCCEEDED, need.fails() ? "boom" : null);
            }
            if (left[3] == 0) {
                return event(new long[3], true, Status.BUDGET_EXCEEDED, "out of steps");
            }
            long[] u = step(false);
            if (u[0] < need.inPerStep() || u[1] < need.outPerStep()) {
                pendingFinal = Status.BUDGET_EXCEEDED; // truncated to the grant: the worker stops after this step
            }
            return event(u, false, Status.RUNNING, null);
        }

        /** One step truncated to what is left of the grant (half a step when {@code half}). */
        private long[] step(boolean half) {
            long wantIn = half ? need.inPerStep() / 2 : need.inPerStep();
            long wantOut = half ? need.outPerStep() / 2 : need.outPerStep();
            long in = Math.min(wantIn, Math.min(left[1], left[0]));
            long out = Math.min(wantOut, Math.min(left[2], left[0] - in));
            left[0] -= in + out;
            left[1] -= in;
            left[2] -= out;
            left[3] -= 1;
            stepsDone++;
            return new long[] {in, out, 1};
        }

        private UsageEvent event(long[] u, boolean isFinal, Status status, String error) {
            return new UsageEvent(task.runId(), task.path(), task.attempt(), "sim-" + (task.path().hashCode() & 7), ++seq,
                    u[0], u[1], u[2], isFinal, status, error, null, now);
        }
    }

    /** Runs the ledger to its end; fails if it does not end within {@code maxCalls} calls. */
    void run(int maxCalls) {
        absorb("begin", ledger.begin(now));
        int calls = 0;
        while (!ledger.isTerminal()) {
            assertThat(++calls).as("calls before the run ended").isLessThanOrEqualTo(maxCalls);
            assertThat(running).as("run %s is not terminal (%s) but nothing is in flight: stuck", ledger.runId(),
                    ledger.status()).isNotEmpty();
            double r = random.nextDouble();
            if (r < options.tickRate()) {
                now += random.nextInt((int) options.maxTickMs() + 1);
                absorb("tick", ledger.onTick(now));
            } else if (r < options.tickRate() + options.duplicateRate() && !sent.isEmpty()) {
                sendDuplicate();
            } else {
                Attempt a = running.get(random.nextInt(running.size()));
                now += random.nextInt((int) options.maxEventDelayMs() + 1);
                UsageEvent e = a.next();
                if (e.isFinal()) {
                    running.remove(a);
                }
                long ignoredBefore = ledger.duplicatesIgnored();
                Decisions d = ledger.onUsage(e, now);
                assertThat(ledger.duplicatesIgnored()).as("fresh event ignored: %s", e).isEqualTo(ignoredBefore);
                sent.add(e);
                long[] total = emitted.computeIfAbsent(e.path(), p -> new long[3]);
                total[0] += e.inputTokens();
                total[1] += e.outputTokens();
                total[2] += e.steps();
                absorb("usage " + e.path() + " #" + e.seq() + (e.isFinal() ? " final " + e.status().wire() : ""), d);
            }
        }
    }

    private void sendDuplicate() {
        UsageEvent old = sent.get(random.nextInt(sent.size()));
        UsageEvent e = switch (random.nextInt(4)) {
            case 0 -> new UsageEvent(old.runId(), old.path(), old.attempt() + 1, old.workerId(), old.seq() + 1, 5, 5, 1,
                    old.isFinal(), old.status(), null, null, now);                         // an attempt never dispatched
            case 1 -> new UsageEvent(old.runId(), old.path() + "x", old.attempt(), old.workerId(), 1, 5, 5, 1, false,
                    Status.RUNNING, null, null, now);                                     // an unknown path
            default -> old;                                                               // redelivered
        };
        duplicatesSent++;
        long ignoredBefore = ledger.duplicatesIgnored();
        Decisions d = ledger.onUsage(e, now);
        assertThat(d.isEmpty()).as("decisions for duplicate %s", e).isTrue();
        assertThat(ledger.duplicatesIgnored()).isEqualTo(ignoredBefore + 1);
        absorb("duplicate " + e.path() + " #" + e.seq(), d);
    }

    private void absorb(String call, Decisions d) {
        for (LeafTask t : d.tasks()) {
            assertThat(dispatched.add(t.path())).as("%s dispatched twice", t.path()).isTrue();
            grants.put(t.path(), t.grant());
            running.add(new Attempt(t));
        }
        halts.addAll(d.halts());
        if (d.receipt() != null) {
            receipts++;
        }
        history.add(d);
        observer.afterCall(call, d, this);
    }

    /** Attempts in flight below (or at) a node path. */
    int runningBelow(String path) {
        int n = 0;
        String prefix = path + "/";
        for (Attempt a : running) {
            if (a.task.path().startsWith(prefix)) {
                n++;
            }
        }
        return n;
    }
}
