package io.sluice.coordinator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;

import io.sluice.schemas.Grant;
import io.sluice.schemas.Halt;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Mode;
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
 * <p>Workers also go wrong: an executor fails now and then (a transient failure, unlike a need that always
 * fails), a worker shuts down and reports its attempt cancelled, and a worker dies mid-attempt — the steps it had
 * already done are partly delivered before the lost notice that another worker sends later, partly after it (late
 * events of a worker that was only slow, to be ignored), partly never. When nothing is in flight (only retries
 * backing off), time jumps to the ledger's {@link RunLedger#nextDeadlineMs()}.
 *
 * <p>It keeps what the ledger must have charged: per leaf path, the usage of its attempts that the ledger accepted,
 * plus for each lost attempt what strict mode charges beyond that ({@link #expectedLostExtra}).
 *
 * <p>After every call the {@link Observer} sees the decisions, so invariants are checked at every step.
 */
final class WorkerSim {

    /** What a leaf needs to finish. */
    record Need(long inPerStep, long outPerStep, int steps, boolean fails) {
    }

    /**
     * @param duplicateRate     chance per call of re-sending an old event (or a forged unknown one, or a late one)
     * @param tickRate          chance per call of letting time jump and ticking the ledger
     * @param maxTickMs         largest time jump
     * @param maxEventDelayMs   largest time between two events
     * @param partialFinalRate  chance that a stopped attempt reports a last partial step on its final event
     * @param deathRate         chance per event of a running attempt that its worker dies instead
     * @param failRate          chance per step that the executor fails (transiently)
     * @param shutdownRate      chance per step that the worker shuts down, reporting the attempt cancelled
     */
    record Options(double duplicateRate, double tickRate, long maxTickMs, long maxEventDelayMs, double partialFinalRate,
                   double deathRate, double failRate, double shutdownRate) {

        static Options defaults() {
            return new Options(0.08, 0.04, 500, 25, 0.5, 0.05, 0.04, 0.015);
        }

        /** Workers that never fail, die or shut down on their own. */
        static Options reliable() {
            return new Options(0.08, 0.04, 500, 25, 0.5, 0, 0, 0);
        }
    }

    /**
     * One call of the ledger as it was made, so that the same inputs can be given to another ledger: {@code begin},
     * a tick ({@code event} null) or a usage event, which the ledger must ignore when {@code duplicate}.
     */
    record Call(boolean begin, UsageEvent event, long nowMs, boolean duplicate) {

        /** Makes this call on {@code ledger}; a begin becomes the first tick of a ledger restored from nothing. */
        Decisions replay(RunLedger ledger) {
            return event == null ? ledger.onTick(nowMs) : ledger.onUsage(event, nowMs);
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
    /** Attempts the ledger has in flight: running ones, and dead ones whose lost notice is not sent yet. */
    final List<Attempt> running = new ArrayList<>();
    /** "path#attempt" of every dispatched attempt. */
    final Set<String> dispatched = new HashSet<>();
    /** Attempts dispatched per leaf path. */
    final Map<String, Integer> attempts = new HashMap<>();
    final List<Halt> halts = new ArrayList<>();
    final List<Decisions> history = new ArrayList<>();
    /** Every call made, in order; {@code calls.get(i)} gave {@code history.get(i)}. */
    final List<Call> calls = new ArrayList<>();
    /** Usage the ledger accepted, per leaf path over all its attempts: {input, output, steps}. */
    final Map<String, long[]> emitted = new HashMap<>();
    /** What the ledger must have charged per leaf path: accepted usage plus the extra charge of lost attempts. */
    final Map<String, long[]> charged = new HashMap<>();
    /** Grants of the last dispatched attempt, by path. */
    final Map<String, Grant> grants = new HashMap<>();
    /** The status of the last final event sent per path (lost included). */
    final Map<String, Status> lastFinal = new HashMap<>();
    /** When the last final event of a path was sent, and for which attempt. */
    final Map<String, long[]> lastFinalAt = new HashMap<>();
    private final List<UsageEvent> sent = new ArrayList<>();
    /** Events of lost attempts still to come, or lost notices sent a second time: all must be ignored. */
    private final List<UsageEvent> late = new ArrayList<>();
    long duplicatesSent;
    int receipts;
    int lostSent;
    int lateSent;
    int transientFailures;
    int shutdowns;

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
        /** Usage of this attempt the ledger accepted: input, output, steps. */
        final long[] accepted = new long[3];
        long seq;
        int stepsDone;
        Status pendingFinal;
        String pendingError;
        /** Its worker died: it sends nothing more itself; the held-back events and a lost notice are to come. */
        boolean dead;
        final List<UsageEvent> heldBack = new ArrayList<>();

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
                return event(new long[3], true, pendingFinal, pendingError);
            }
            if (stepsDone == need.steps()) {
                return event(new long[3], true, need.fails() ? Status.FAILED : Status.SUCCEEDED, need.fails() ? "boom" : null);
            }
            if (left[3] == 0) {
                return event(new long[3], true, Status.BUDGET_EXCEEDED, "out of steps");
            }
            double r = random.nextDouble();
            if (r < options.failRate()) {
                transientFailures++;
                return event(new long[3], true, Status.FAILED, "executor crashed");
            }
            if (r < options.failRate() + options.shutdownRate()) {
                shutdowns++;
                return event(new long[3], true, Status.CANCELLED, "worker shutting down");
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

        /** The worker dies: up to two more steps are done whose events are not delivered yet. */
        void die() {
            dead = true;
            int more = random.nextInt(3);
            for (int i = 0; i < more; i++) {
                UsageEvent e = next();
                if (e.isFinal()) {
                    break; // it died before sending its final event
                }
                heldBack.add(e);
            }
        }

        /** The notice of another worker that received this attempt again and did not run it (seq 0, as it writes it). */
        UsageEvent lostNotice() {
            return new UsageEvent(task.runId(), task.path(), task.attempt(), "sim-redelivery", 0, 0, 0, 0, true,
                    Status.LOST, "redelivered after its worker died", null, now);
        }
    }

    /**
     * What the ledger charges a lost attempt beyond the {@code reported} usage (input, output, steps) it accepted:
     * nothing in optimistic mode; in strict mode, in every dimension its grant limits, what is left of the grant —
     * the tokens remainder as limited input/output first, the rest as the unlimited one of the two.
     */
    static long[] expectedLostExtra(Mode mode, Grant grant, long[] reported) {
        if (mode == Mode.OPTIMISTIC) {
            return new long[3];
        }
        Long leftT = left(grant.maxTokens(), reported[0] + reported[1]);
        Long leftI = left(grant.maxInputTokens(), reported[0]);
        Long leftO = left(grant.maxOutputTokens(), reported[1]);
        Long leftS = left(grant.maxSteps(), reported[2]);
        long in = leftI == null ? 0 : leftT == null ? leftI : Math.min(leftI, leftT);
        long out = leftO == null ? 0 : leftT == null ? leftO : Math.min(leftO, leftT - in);
        if (leftT != null) {
            long rest = leftT - in - out;
            if (leftI == null) {
                in += rest;
            } else if (leftO == null) {
                out += rest;
            }
        }
        return new long[] {in, out, leftS == null ? 0 : leftS};
    }

    private static Long left(Long grant, long used) {
        return grant == null ? null : Math.max(0, grant - used);
    }

    /** Runs the ledger to its end; fails if it does not end within {@code maxCalls} calls. */
    void run(int maxCalls) {
        calls.add(new Call(true, null, now, false));
        absorb("begin", ledger.begin(now));
        int made = 0;
        while (!ledger.isTerminal()) {
            assertThat(++made).as("calls before the run ended").isLessThanOrEqualTo(maxCalls);
            if (running.isEmpty()) {
                // Nothing in flight: only a retry backing off, or a deadline, can move the run on.
                OptionalLong next = ledger.nextDeadlineMs();
                assertThat(next).as("run %s is not terminal (%s) but nothing is in flight or due: stuck",
                        ledger.runId(), ledger.status()).isPresent();
                now = Math.max(now, next.getAsLong());
                calls.add(new Call(false, null, now, false));
                absorb("tick (idle)", ledger.onTick(now));
                continue;
            }
            double r = random.nextDouble();
            if (r < options.tickRate()) {
                now += random.nextInt((int) options.maxTickMs() + 1);
                calls.add(new Call(false, null, now, false));
                absorb("tick", ledger.onTick(now));
            } else if (r < options.tickRate() + options.duplicateRate() && !sent.isEmpty()) {
                sendDuplicate();
            } else {
                Attempt a = running.get(random.nextInt(running.size()));
                now += random.nextInt((int) options.maxEventDelayMs() + 1);
                if (a.dead) {
                    if (!a.heldBack.isEmpty() && random.nextBoolean()) {
                        deliver(a, a.heldBack.remove(0)); // delivered before the lost notice: charged as usual
                    } else {
                        sendLost(a);
                    }
                } else if (random.nextDouble() < options.deathRate()) {
                    a.die();
                } else {
                    deliver(a, a.next());
                }
            }
        }
    }

    private void deliver(Attempt a, UsageEvent e) {
        deliver(a, e, new long[3]);
    }

    /** Sends a fresh event of {@code a}, which must be accepted; {@code extra}: what a lost notice makes it owe. */
    private void deliver(Attempt a, UsageEvent e, long[] extra) {
        if (e.isFinal()) {
            running.remove(a);
            lastFinal.put(e.path(), e.status());
            lastFinalAt.put(e.path(), new long[] {now, e.attempt()});
        }
        long ignoredBefore = ledger.duplicatesIgnored();
        calls.add(new Call(false, e, now, false));
        Decisions d = ledger.onUsage(e, now);
        assertThat(ledger.duplicatesIgnored()).as("fresh event ignored: %s", e).isEqualTo(ignoredBefore);
        sent.add(e);
        long[] u = {e.inputTokens(), e.outputTokens(), e.steps()};
        long[] total = emitted.computeIfAbsent(e.path(), p -> new long[3]);
        long[] owed = charged.computeIfAbsent(e.path(), p -> new long[3]);
        for (int i = 0; i < 3; i++) {
            a.accepted[i] += u[i];
            total[i] += u[i];
            owed[i] += u[i] + extra[i];
        }
        absorb("usage " + e.path() + "#" + e.attempt() + " seq " + e.seq() + (e.isFinal() ? " final " + e.status().wire() : ""), d);
    }

    private void sendLost(Attempt a) {
        UsageEvent notice = a.lostNotice();
        long[] extra = expectedLostExtra(ledger.mode(), a.task.grant(), a.accepted);
        lostSent++;
        deliver(a, notice, extra);
        // The dead worker was perhaps only slow: some of its held-back events still arrive, now too late.
        for (UsageEvent e : a.heldBack) {
            if (random.nextBoolean()) {
                late.add(e);
            }
        }
        a.heldBack.clear();
        if (random.nextInt(4) == 0) {
            late.add(notice); // a second notice for the same attempt
        }
    }

    private void sendDuplicate() {
        UsageEvent e;
        if (!late.isEmpty() && random.nextBoolean()) {
            e = late.remove(random.nextInt(late.size()));
            lateSent++;
        } else {
            UsageEvent old = sent.get(random.nextInt(sent.size()));
            e = switch (random.nextInt(6)) {
                case 0 -> new UsageEvent(old.runId(), old.path(), old.attempt() + 1000, old.workerId(), old.seq() + 1, 5, 5,
                        1, old.isFinal(), old.status(), null, null, now);                 // an attempt never dispatched
                case 1 -> new UsageEvent(old.runId(), old.path() + "x", old.attempt(), old.workerId(), 1, 5, 5, 1, false,
                        Status.RUNNING, null, null, now);                                 // an unknown path
                case 2 -> new UsageEvent(old.runId(), old.path(), old.attempt(), old.workerId(), old.seq() + 1000, 5, 5,
                        1, false, Status.RUNNING, null, null, now);                       // a forged seq far ahead
                case 3 -> new UsageEvent(old.runId(), old.path(), old.attempt(), "sim-intruder", old.seq() + 1, 5, 5,
                        1, true, Status.SUCCEEDED, null, null, now);                      // another worker's
                default -> old;                                                           // redelivered
            };
        }
        duplicatesSent++;
        long ignoredBefore = ledger.duplicatesIgnored();
        long refusedBefore = ledger.rejectedEvents();
        var due = ledger.nextDeadlineMs();
        boolean timeActs = due.isPresent() && due.getAsLong() <= now;
        calls.add(new Call(false, e, now, true));
        Decisions d = ledger.onUsage(e, now);
        if (!timeActs) { // else the call applies deadlines or goes on with the dispatch the last one's limit cut short
            assertThat(d.isEmpty()).as("decisions for duplicate %s", e).isTrue();
        }
        assertThat(ledger.duplicatesIgnored() - ignoredBefore + ledger.rejectedEvents() - refusedBefore)
                .as("ignored or refused: %s", e).isEqualTo(1);
        assertThat(d.rejection() == null).as("refused exactly when counted so: %s", e)
                .isEqualTo(ledger.rejectedEvents() == refusedBefore);
        absorb("duplicate " + e.path() + "#" + e.attempt() + " seq " + e.seq(), d);
    }

    private void absorb(String call, Decisions d) {
        for (LeafTask t : d.tasks()) {
            assertThat(dispatched.add(t.path() + "#" + t.attempt())).as("%s attempt %d dispatched twice", t.path(),
                    t.attempt()).isTrue();
            int before = attempts.getOrDefault(t.path(), 0);
            assertThat(t.attempt()).as("attempt number of %s", t.path()).isEqualTo(before + 1);
            attempts.put(t.path(), t.attempt());
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

    /** Attempts in flight (as the ledger sees them: dead ones too until their lost notice) below a node path. */
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
