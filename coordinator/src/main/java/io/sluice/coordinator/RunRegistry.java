package io.sluice.coordinator;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.Supplier;

import io.sluice.coordinator.ledger.Decisions;
import io.sluice.coordinator.ledger.RunLedger;
import io.sluice.schemas.CancelRequest;
import io.sluice.schemas.Halt;
import io.sluice.schemas.Heartbeat;
import io.sluice.schemas.Json;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.RunRecord;
import io.sluice.schemas.Source;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.Topics;
import io.sluice.schemas.Usage;
import io.sluice.schemas.UsageEvent;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runs one coordinator folds, and the ids of every run its partitions ever had: it turns what their ledgers
 * decide into the records of a {@link Batch}.
 *
 * <p><b>One run's failure stays that run's.</b> Every call into a run's {@link RunLedger} — a usage event, a tick, a
 * restore — is guarded: an exception fails that run alone (status {@code failed}, a receipt saying why, a halt of its
 * whole tree so that workers stop its leaves, a dead letter), and the loop and the other runs of the partition go on.
 *
 * <p><b>Run ids are used once.</b> An id is taken once its run was accepted, and stays taken after the run finished —
 * also after it is retired, since a retired run's record keeps its id on {@link Topics#RUNS} forever; a coordinator
 * taking a partition over learns the taken ids from there.
 *
 * <p><b>Finished runs are retired.</b> {@link CoordinatorConfig#finishedRunRetention()} after a run finished, its
 * ledger and control keys are tombstoned and its run record replaced by a retired one ({@link RunRetirement}), a
 * bounded number of keys per transaction; the receipt stays on the results topic for that topic's retention. So the
 * compacted topics a take-over reads hold little more than the runs in flight.
 *
 * <p>Not thread-safe: the loop's thread owns it. The gauges read {@link #activeCount()} and {@link #reservedTokens()},
 * which are published for them.
 */
final class RunRegistry {

    private static final Logger log = LoggerFactory.getLogger(RunRegistry.class);

    private final CoordinatorConfig config;
    private final TransactionalPublisher publisher;
    private final CoordinatorMetrics metrics;
    private final Map<String, ActiveRun> active = new LinkedHashMap<>();
    /** Ids of the runs of each owned partition that finished: never accepted again. */
    private final Map<Integer, Set<String>> finished = new HashMap<>();
    /** Runs restored since the last tick: ticked once, to act on the time that passed. */
    private final List<ActiveRun> restored = new ArrayList<>();
    /** By partition: whether its workers' heartbeats (or beacons) are heard now. */
    private final WorkerSilence silence;
    /** Finished runs to retire, the earliest due first. */
    private final PriorityQueue<RunRetirement> retiring = new PriorityQueue<>(
            Comparator.comparingLong((RunRetirement r) -> r.dueAtMs).thenComparing(r -> r.runId));
    private volatile int activeCount;
    private volatile long reservedTokens;
    /** The earliest workflow deadline of the active runs; {@link Long#MAX_VALUE} when none has one. */
    private volatile long earliestDeadlineMs = Long.MAX_VALUE;

    RunRegistry(CoordinatorConfig config, TransactionalPublisher publisher, CoordinatorMetrics metrics) {
        this.config = config;
        this.publisher = publisher;
        this.metrics = metrics;
        this.silence = new WorkerSilence(config.ledger().lease().toMillis());
    }

    /** A run this coordinator folds; {@code ledger} is null only for a run that failed before it had one. */
    record ActiveRun(RunLedger ledger, Submission submission, Source source, long startedAtMs, int partition) {

        String runId() {
            return submission.runId();
        }

        String rootPath() {
            return submission.workflow().id();
        }

        Usage spent() {
            return ledger.spent();
        }

        long reservedTokens() {
            return ledger.reservedTokens();
        }

        /** When the workflow's {@code timeout_ms} ends it; {@link Long#MAX_VALUE} without one. */
        long deadlineMs() {
            Long timeout = submission.workflow().budget().timeoutMs();
            return timeout == null ? Long.MAX_VALUE : startedAtMs + timeout;
        }
    }

    /** True when a run with this id is active here or ever finished on its partition. */
    boolean isTaken(String runId, int partition) {
        return active.containsKey(runId) || finished.getOrDefault(partition, Set.of()).contains(runId);
    }

    /** Starts a validated submission's run (its id not taken) and publishes its first decisions. */
    void accept(Submission submission, Source source, int partition, long now, Batch batch) {
        RunLedger ledger;
        try {
            ledger = RunLedger.create(submission, config.ledger(), now);
        } catch (RuntimeException e) {
            // Validation admits only what the ledger can build; this is the net under that claim.
            ActiveRun run = new ActiveRun(null, submission, source, now, partition);
            failUnbuilt(run, "cannot start the run: " + e.getMessage(), null, now, batch);
            return;
        }
        ActiveRun run = new ActiveRun(ledger, submission, source, now, partition);
        active.put(submission.runId(), run);
        batch.add(runRecord(run, false, now));
        log.info("run {} accepted ({} mode) from submission {}", submission.runId(), submission.mode().wire(), source);
        fold(run, () -> ledger.begin(now), "starting the run", null, now, batch);
    }

    /** Folds one decoded usage event; one of an unknown run is dead-lettered, a late one of a finished run counted. */
    void onUsage(UsageEvent event, ConsumerRecord<String, byte[]> record, long now, Batch batch) {
        ActiveRun run = active.get(event.runId());
        if (run == null) {
            if (finished.getOrDefault(record.partition(), Set.of()).contains(event.runId())) {
                metrics.duplicates.increment(); // a late event of a finished run: already accounted, or charged as dead
            } else {
                deadLetter(batch, Rejection.of(record, event.runId(), "usage",
                        List.of("run_id: no active run '" + event.runId() + "' on this coordinator"), now));
            }
            return;
        }
        RunLedger ledger = run.ledger();
        long duplicatesBefore = ledger.duplicatesIgnored();
        Decisions d = fold(run, () -> ledger.onUsage(event, now), "folding usage " + coordinates(record), record, now, batch);
        if (d == null) {
            return;
        }
        if (d.rejection() != null) {
            metrics.usageRejected.increment();
            deadLetter(batch, Rejection.of(record, event.runId(), "usage", List.of(d.rejection()), now));
            log.warn("usage {} of run {} refused: {}", coordinates(record), event.runId(), d.rejection());
        }
        metrics.duplicates.increment(ledger.duplicatesIgnored() - duplicatesBefore);
    }

    /**
     * Renews the leases a heartbeat names; one of a run that ended is late and ignored, one of no run dead-lettered.
     * Every heartbeat, a beacon too, tells that its partition hears from workers.
     */
    void onHeartbeat(Heartbeat heartbeat, ConsumerRecord<String, byte[]> record, long now, Batch batch) {
        silence.heard(record.partition(), record.timestamp(), now);
        if (heartbeat.isBeacon()) {
            return;
        }
        ActiveRun run = active.get(heartbeat.runId());
        if (run == null) {
            if (!finished.getOrDefault(record.partition(), Set.of()).contains(heartbeat.runId())) {
                deadLetter(batch, Rejection.of(record, heartbeat.runId(), "heartbeat",
                        List.of("run_id: no active run '" + heartbeat.runId() + "' on this coordinator"), now));
            }
            return;
        }
        fold(run, () -> run.ledger().onHeartbeat(heartbeat, now), "folding a heartbeat " + coordinates(record), record,
                now, batch);
    }

    /**
     * An operator's cancel request: the run's ledger halts the node as a budget halt would; a request it cannot carry
     * out (no such run here, the run or node ended, no such node, the wrong key or partition) is dead-lettered with why.
     */
    void onCancel(CancelRequest request, ConsumerRecord<String, byte[]> record, long now, Batch batch) {
        String runId = request.runId();
        String refusal = null;
        int home = publisher.partitionOf(Topics.CANCELLATIONS, runId);
        if (!runId.equals(record.key())) {
            refusal = "key: '" + record.key() + "' is not the request's run_id '" + runId + "' (key it by run id)";
        } else if (record.partition() != home) {
            refusal = "partition: a cancel of run '" + runId + "' belongs on partition " + home
                    + ", where its run is (Kafka's default partitioner on the run id)";
        } else if (!active.containsKey(runId)) {
            refusal = finished.getOrDefault(record.partition(), Set.of()).contains(runId)
                    ? "run_id: run '" + runId + "' already ended" : "run_id: no active run '" + runId + "'";
        }
        if (refusal == null) {
            ActiveRun run = active.get(runId);
            Decisions d = fold(run, () -> run.ledger().cancel(request.path(), request.describe(), now),
                    "cancelling " + coordinates(record), record, now, batch);
            if (d == null) {
                return; // the run failed: its receipt says why
            }
            refusal = d.rejection();
        }
        if (refusal != null) {
            deadLetter(batch, Rejection.of(record, runId, "cancel", List.of(refusal), now));
            log.warn("cancel {} of run {} by {} refused: {}", coordinates(record), runId, request.requestedBy(), refusal);
        } else {
            log.info("run {}: {} cancelled by {}", runId, request.path() == null ? "the run" : request.path(),
                    request.describe());
        }
    }

    /** Ticks the runs whose deadlines, due retries or unfinished dispatch are due, and the runs just restored. */
    void tick(long now, Batch batch) {
        List<ActiveRun> due = new ArrayList<>(restored);
        restored.clear();
        for (ActiveRun run : active.values()) {
            var next = run.ledger().nextDeadlineMs();
            if (next.isPresent() && next.getAsLong() <= now && !due.contains(run)) {
                due.add(run);
            }
        }
        for (ActiveRun run : due) {
            if (active.get(run.runId()) == run) {
                fold(run, () -> run.ledger().onTick(now), "ticking the run", null, now, batch);
            }
        }
        retire(now, batch);
    }

    /** Retires the finished runs that are due, as far as the transaction's size allows; the rest in the next one. */
    private void retire(long now, Batch batch) {
        while (!retiring.isEmpty() && retiring.peek().dueAtMs <= now) {
            RunRetirement r = retiring.peek();
            while (true) {
                if (batch.bytes() >= config.maxTransactionBytes()) {
                    return;
                }
                RunRetirement.Key key = r.next();
                if (key == null) {
                    break;
                }
                String k = Topics.ledgerKey(r.runId, key.path());
                batch.add(new ProducerRecord<>(Topics.LEDGER, publisher.partitionOf(Topics.LEDGER, r.runId), k, null));
                if (key.group()) {
                    batch.add(new ProducerRecord<>(Topics.CONTROL, publisher.partitionOf(Topics.CONTROL, r.runId), k, null));
                }
            }
            batch.add(new ProducerRecord<>(Topics.RUNS, publisher.partitionOf(Topics.RUNS, r.runId), r.runId,
                    Json.write(RunRecord.retired(r.runId, r.startedAtMs, now))));
            retiring.poll();
            log.debug("run {} retired: its ledger and halts deleted, its id kept", r.runId);
        }
    }

    /** The earliest time a run needs a tick (or a finished run its retirement); Long.MAX_VALUE when none does. */
    long nextWakeUpMs() {
        if (!restored.isEmpty()) {
            return Long.MIN_VALUE;
        }
        long next = retiring.isEmpty() ? Long.MAX_VALUE : retiring.peek().dueAtMs;
        for (ActiveRun run : active.values()) {
            var d = run.ledger().nextDeadlineMs();
            if (d.isPresent()) {
                next = Math.min(next, d.getAsLong());
            }
        }
        return next;
    }

    /**
     * Takes over a partition's runs as recovery read them: finished ids are taken, unfinished runs rebuilt from
     * their ledger entries (and ticked in the next iteration) — or failed when they cannot be — and what could not
     * be read is dead-lettered.
     */
    void adopt(RunRecovery.PartitionState state, long now, Batch batch) {
        silence.reset(state.partition(), now); // a restored run's attempts get fresh leases anyway
        Set<String> ids = finished.computeIfAbsent(state.partition(), p -> new HashSet<>());
        for (RunRecord r : state.finished()) {
            ids.add(r.runId());
            if (!r.isRetired()) {
                retiring.add(new RunRetirement(r.runId(), state.partition(), r.startedAtMs(),
                        r.updatedAtMs() + config.finishedRunRetention().toMillis(), r.submission()));
            }
        }
        for (RunRecovery.Unreadable u : state.unreadable()) {
            log.warn("unreadable record {} skipped in recovery: {}", coordinates(u.record()), u.reason());
            deadLetter(batch, Rejection.of(u.record(), u.runId(), u.kind(), List.of(u.reason()), now));
        }
        for (RunRecovery.Recovered r : state.unfinished()) {
            RunRecord rec = r.run();
            if (active.containsKey(rec.runId())) {
                continue;
            }
            ActiveRun run;
            try {
                RunLedger ledger = RunLedger.restore(rec.submission(), rec.startedAtMs(), r.entries().values(), config.ledger());
                run = new ActiveRun(ledger, rec.submission(), rec.source(), rec.startedAtMs(), state.partition());
            } catch (RuntimeException e) {
                ActiveRun unbuilt = new ActiveRun(null, rec.submission(), rec.source(), rec.startedAtMs(), state.partition());
                failUnbuilt(unbuilt, "cannot restore the run from its " + r.entries().size() + " ledger entries: "
                        + e.getMessage(), null, now, batch);
                continue;
            }
            active.put(rec.runId(), run);
            restored.add(run);
            log.info("run {} restored from the ledger ({} entries) on partition {}", rec.runId(), r.entries().size(),
                    state.partition());
        }
        publishGauges();
    }

    /** Forgets a partition's runs (it was revoked, or is being restored afresh). */
    void forget(int partition) {
        for (Iterator<Map.Entry<String, ActiveRun>> it = active.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, ActiveRun> e = it.next();
            if (e.getValue().partition() == partition) {
                it.remove();
            }
        }
        restored.removeIf(r -> r.partition() == partition);
        finished.remove(partition);
        retiring.removeIf(r -> r.partition == partition);
        silence.forget(partition);
        publishGauges();
    }

    void clear() {
        active.clear();
        restored.clear();
        finished.clear();
        retiring.clear();
        silence.clear();
        publishGauges();
    }

    int activeCount() {
        return activeCount;
    }

    long reservedTokens() {
        return reservedTokens;
    }

    /** How long the most overdue active run is past its workflow's deadline at {@code nowMs}, in seconds; 0 if none. */
    double overdueSeconds(long nowMs) {
        long deadline = earliestDeadlineMs;
        return deadline == Long.MAX_VALUE || nowMs <= deadline ? 0 : (nowMs - deadline) / 1000.0;
    }

    /** Called after every commit: the gauges show what is committed. */
    void publishGauges() {
        activeCount = active.size();
        reservedTokens = active.values().stream().filter(r -> r.ledger() != null).mapToLong(ActiveRun::reservedTokens).sum();
        earliestDeadlineMs = active.values().stream().mapToLong(ActiveRun::deadlineMs).min().orElse(Long.MAX_VALUE);
    }

    // ------------------------------------------------------------------------------------------------ internals

    /** Calls into a run's ledger; an exception fails the run alone. Null when it failed. */
    private Decisions fold(ActiveRun run, Supplier<Decisions> call, String what, ConsumerRecord<String, byte[]> cause,
                           long now, Batch batch) {
        Decisions d;
        Usage before = run.spent();
        try {
            if (silence.silent(run.partition(), now)) {
                // No worker at all was heard on this partition lately: the broker, or this coordinator, was away.
                // Its silence is not the workers' death: no lease lapses for it.
                run.ledger().extendLeases(now);
            }
            d = call.get();
        } catch (RuntimeException e) {
            log.error("run {} failed {}", run.runId(), what, e);
            fail(run, "internal error " + what + ": " + e, cause, now, batch);
            return null;
        }
        apply(run, d, now, batch);
        // Everything charged in the call: usage reported, and lost attempts' grants (a tick that gave them up)
        Usage charged = run.spent().minus(before);
        metrics.tokensIn.increment(charged.inputTokens());
        metrics.tokensOut.increment(charged.outputTokens());
        metrics.costSpent.increment(charged.costMicrousd());
        return d;
    }

    private void apply(ActiveRun run, Decisions d, long now, Batch batch) {
        String runId = run.runId();
        metrics.abandoned.increment(d.abandoned());
        for (var task : d.tasks()) {
            batch.add(new ProducerRecord<>(Topics.TASKS, Topics.ledgerKey(runId, task.path()), Json.write(task)));
            metrics.dispatched.increment();
        }
        for (Halt halt : d.halts()) {
            batch.add(controlRecord(runId, halt));
            metrics.halts(halt.cause() != null ? halt.cause() : halt.status()).increment();
            if (halt.attempt() == null) {
                log.info("run {} halted {}: {}", runId, halt.path(), halt.reason());
            } else {
                log.info("run {} gave up {} attempt {}: {}", runId, halt.path(), halt.attempt(), halt.reason());
            }
        }
        for (LedgerEntry entry : d.entries()) {
            batch.add(new ProducerRecord<>(Topics.LEDGER, publisher.partitionOf(Topics.LEDGER, runId), entry.key(),
                    Json.write(entry)));
        }
        Receipt receipt = d.receipt();
        if (receipt != null) {
            finish(run, receipt.withSource(run.source()), now, batch);
            if (!receipt.nodes().isEmpty()) {
                LedgerEntry root = receipt.nodes().get(0);
                if (root.limits() != null && root.limits().maxTokens() != null && root.limits().maxTokens() > 0) {
                    metrics.utilisation((double) root.spent().totalTokens() / root.limits().maxTokens());
                }
            }
        }
    }

    private void finish(ActiveRun run, Receipt receipt, long now, Batch batch) {
        String runId = run.runId();
        batch.add(new ProducerRecord<>(Topics.RESULTS, publisher.partitionOf(Topics.RESULTS, runId), runId, Json.write(receipt)));
        batch.add(runRecord(run, true, now));
        active.remove(runId);
        restored.removeIf(r -> r.runId().equals(runId));
        finished.computeIfAbsent(run.partition(), p -> new HashSet<>()).add(runId);
        retiring.add(new RunRetirement(runId, run.partition(), run.startedAtMs(),
                now + config.finishedRunRetention().toMillis(), run.submission()));
        metrics.runs(receipt.status()).increment();
        long overshoot = receipt.nodes().stream().mapToLong(LedgerEntry::overshoot).max().orElse(0);
        if (overshoot > 0) {
            metrics.overshoot(receipt.mode()).increment(overshoot);
            if (receipt.mode() == Mode.STRICT) {
                log.warn("run {} spent {} tokens beyond a strict budget: a provider billed beyond the cap it was sent, "
                        + "or a defect", runId, overshoot);
            }
        }
        Usage spent = receipt.nodes().isEmpty() ? Usage.ZERO : receipt.nodes().get(0).spent();
        log.info("run {} finished: {} ({}); spent {} tokens ({} in, {} out), {} steps{}", runId, receipt.status().wire(),
                receipt.reason(), spent.totalTokens(), spent.inputTokens(), spent.outputTokens(), spent.steps(),
                spent.costMicrousd() == 0 ? "" : ", " + spent.costMicrousd() + " µUSD");
    }

    /** Fails a run whose ledger threw: its receipt shows the nodes as far as the ledger can still tell. */
    private void fail(ActiveRun run, String reason, ConsumerRecord<String, byte[]> cause, long now, Batch batch) {
        List<LedgerEntry> nodes;
        try {
            nodes = run.ledger().receipt().nodes();
        } catch (RuntimeException e) {
            nodes = List.of();
        }
        failWith(run, reason, nodes, cause, now, batch);
    }

    private void failUnbuilt(ActiveRun run, String reason, ConsumerRecord<String, byte[]> cause, long now, Batch batch) {
        failWith(run, reason, List.of(), cause, now, batch);
    }

    private void failWith(ActiveRun run, String reason, List<LedgerEntry> nodes, ConsumerRecord<String, byte[]> cause,
                          long now, Batch batch) {
        String runId = run.runId();
        String text = "run failed in the coordinator: " + reason;
        // Its workers must stop: a halt of the whole tree, as a budget halt would.
        batch.add(controlRecord(runId, new Halt(runId, run.rootPath(), Status.CANCELLED, Status.CANCELLED, text, now)));
        metrics.halts(Status.CANCELLED).increment();
        Rejection dead = cause != null ? Rejection.of(cause, runId, "run", List.of(text), now)
                : new Rejection(Topics.RUNS, run.partition(), -1, runId, runId, "run", List.of(text), null, now);
        deadLetter(batch, dead);
        Receipt receipt = new Receipt(runId, run.source(), run.submission().mode(), Status.FAILED, text, run.startedAtMs(),
                now, nodes);
        finish(run, receipt, now, batch);
    }

    private ProducerRecord<String, byte[]> controlRecord(String runId, Halt halt) {
        return new ProducerRecord<>(Topics.CONTROL, publisher.partitionOf(Topics.CONTROL, runId), halt.key(), Json.write(halt));
    }

    private ProducerRecord<String, byte[]> runRecord(ActiveRun run, boolean isFinished, long now) {
        String runId = run.runId();
        RunRecord record = new RunRecord(runId, run.submission(), run.source(), run.startedAtMs(), isFinished, now);
        return new ProducerRecord<>(Topics.RUNS, publisher.partitionOf(Topics.RUNS, runId), runId, Json.write(record));
    }

    void deadLetter(Batch batch, Rejection rejection) {
        metrics.deadLetters(rejection.kind() == null ? "unknown" : rejection.kind()).increment();
        batch.add(new ProducerRecord<>(Topics.DLQ, Topics.deadLetterKey(rejection), Json.write(rejection)));
    }

    static String coordinates(ConsumerRecord<?, ?> record) {
        return record.topic() + "-" + record.partition() + "@" + record.offset();
    }
}
