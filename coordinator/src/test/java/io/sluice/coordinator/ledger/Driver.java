package io.sluice.coordinator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.sluice.schemas.Halt;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.UsageEvent;

/**
 * Drives a {@link RunLedger} by hand, one event at a time, keeping the per-attempt sequence numbers and what the
 * ledger dispatched and halted. For example-based tests; the random harness is {@link WorkerSim}.
 */
final class Driver {

    static final long START = 1_000;

    final RunLedger ledger;
    private final Submission submission;
    private final LedgerConfig config;
    long now = START;
    /** Tasks in flight (dispatched, no final event sent yet), by path, in dispatch order. */
    final Map<String, LeafTask> running = new LinkedHashMap<>();
    final List<LeafTask> dispatched = new ArrayList<>();
    final List<Halt> halts = new ArrayList<>();
    final List<Decisions> history = new ArrayList<>();
    private final Map<String, Long> seqs = new HashMap<>();
    private int maxRunning;

    private Driver(RunLedger ledger, Submission submission, LedgerConfig config) {
        this.ledger = ledger;
        this.submission = submission;
        this.config = config;
    }

    /** A driver with the default settings but no leases (see the lease tests for those). */
    static Driver of(Submission s) {
        return of(s, LedgerConfig.defaults().withLease(java.time.Duration.ZERO));
    }

    static Driver of(Submission s, LedgerConfig config) {
        return new Driver(RunLedger.create(s, config, START), s, config);
    }

    /** The latest entry of every path published so far: the compacted ledger topic. */
    Map<String, LedgerEntry> compacted() {
        return RunLedgerRestorePropertyTest.compacted(history);
    }

    /**
     * Another coordinator taking the run over now: a driver of a ledger restored from the compacted ledger, with the
     * same tasks in flight, halts seen, sequence numbers and clock. The two can then be given the same inputs.
     */
    Driver takeOver() {
        Driver other = new Driver(RunLedger.restore(submission, START, compacted().values(), config), submission, config);
        other.now = now;
        other.running.putAll(running);
        other.dispatched.addAll(dispatched);
        other.halts.addAll(halts);
        other.seqs.putAll(seqs);
        other.maxRunning = maxRunning;
        return other;
    }

    Decisions begin() {
        return record(ledger.begin(now));
    }

    /** An operator's cancel of {@code path} (null: the run), by {@code by}. */
    Decisions cancel(String path, String by) {
        return record(ledger.cancel(path, by, now));
    }

    /** One non-final usage event of the path's running attempt. */
    Decisions usage(String path, long in, long out, long steps) {
        return send(path, in, out, steps, false, Status.RUNNING, null);
    }

    /** A final event without usage. */
    Decisions finish(String path, Status status) {
        return send(path, 0, 0, 0, true, status, null);
    }

    /**
     * Works like a real worker with one step of {@code need} input tokens: reports min(need, grant) then ends
     * succeeded, or budget_exceeded when the grant was smaller than the need.
     */
    Decisions work(String path, long need) {
        LeafTask t = task(path);
        Long grant = t.grant().maxTokens();
        long used = grant == null ? need : Math.min(need, grant);
        usage(path, used, 0, 1);
        return finish(path, used < need ? Status.BUDGET_EXCEEDED : Status.SUCCEEDED);
    }

    /** The lost notice of another worker for the path's running attempt, with sequence number {@code seq}. */
    Decisions lost(String path, long seq) {
        LeafTask t = task(path);
        running.remove(path);
        return record(ledger.onUsage(new UsageEvent(t.runId(), path, t.attempt(), "worker-2", seq, 0, 0, 0, true,
                Status.LOST, null, null, now), now));
    }

    /** A final event with an error, without usage. */
    Decisions fail(String path, Status status, String error) {
        return send(path, 0, 0, 0, true, status, error);
    }

    Decisions send(String path, long in, long out, long steps, boolean isFinal, Status status, String error) {
        LeafTask t = task(path);
        long seq = seqs.merge(path + "#" + t.attempt(), 1L, Long::sum);
        UsageEvent e = new UsageEvent(t.runId(), path, t.attempt(), "worker-1", seq, in, out, steps, isFinal, status,
                error, null, now);
        if (isFinal) {
            running.remove(path);
        }
        return record(ledger.onUsage(e, now));
    }

    /** A step of {@code in} input tokens priced at {@code costMicrousd}. */
    Decisions priced(String path, long in, long costMicrousd) {
        LeafTask t = task(path);
        long seq = seqs.merge(path + "#" + t.attempt(), 1L, Long::sum);
        return record(ledger.onUsage(new UsageEvent(t.runId(), path, t.attempt(), "worker-1", seq, in, 0, 1, false,
                Status.RUNNING, null, null, null, now, costMicrousd), now));
    }

    /** Sends an arbitrary event as is (for dedupe tests). */
    Decisions raw(UsageEvent e) {
        return record(ledger.onUsage(e, now));
    }

    Decisions tick(long atMs) {
        now = atMs;
        return record(ledger.onTick(now));
    }

    LeafTask task(String path) {
        LeafTask t = running.get(path);
        assertThat(t).as("task in flight for %s (running: %s)", path, running.keySet()).isNotNull();
        return t;
    }

    LedgerEntry entry(String path) {
        LedgerEntry e = ledger.entry(path);
        assertThat(e).as("entry of %s", path).isNotNull();
        return e;
    }

    List<String> runningPaths() {
        return List.copyOf(running.keySet());
    }

    int maxRunning() {
        return maxRunning;
    }

    Decisions last() {
        return history.get(history.size() - 1);
    }

    private Decisions record(Decisions d) {
        for (LeafTask t : d.tasks()) {
            assertThat(running).as("dispatched twice: %s", t.path()).doesNotContainKey(t.path());
            running.put(t.path(), t);
            dispatched.add(t);
        }
        maxRunning = Math.max(maxRunning, running.size());
        halts.addAll(d.halts());
        history.add(d);
        return d;
    }
}
