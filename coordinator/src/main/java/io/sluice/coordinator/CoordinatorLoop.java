package io.sluice.coordinator;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sluice.coordinator.ledger.Decisions;
import io.sluice.coordinator.ledger.RunLedger;
import io.sluice.schemas.Json;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.RunRecord;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.SubmissionValidator;
import io.sluice.schemas.Topics;
import io.sluice.schemas.Usage;
import io.sluice.schemas.UsageEvent;
import io.sluice.schemas.ValidationResult;
import io.sluice.schemas.WireFormatException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's single event loop: poll submissions and usage → fold them into each run's
 * {@link RunLedger} → publish the decisions (tasks, halts, ledger entries, receipts, rejections) and commit
 * the consumed offsets in ONE Kafka transaction. Either all effects of a batch of input records become
 * visible to read-committed readers, or none do.
 *
 * <p>Thread-safety: one thread ({@code sluice-coordinator-loop}) owns the consumer, the producer and every
 * run's state. Other threads only call {@link #stop()}, which sets a flag and wakes the consumer up.
 *
 * <p>Runs are partitioned by run id, and the group's range assignment gives one coordinator the same partition
 * number of submissions and usage. When it is assigned a partition it rebuilds that partition's unfinished runs
 * from the committed ledger ({@link RunRecovery}) and resumes consuming at the committed offsets; when a
 * partition is revoked (between two transactions, since the loop commits before it polls) it simply forgets
 * those runs. A submission that arrives on a partition other than its run id's is forwarded there.
 */
final class CoordinatorLoop implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(CoordinatorLoop.class);
    /** Remembered ids of finished runs, so late usage is recognised rather than dead-lettered. */
    private static final int FINISHED_RUNS_REMEMBERED = 10_000;
    private static final int PAYLOAD_EXCERPT_CHARS = 4096;
    /** Rolled-back transactions in a row after which the loop gives up (the same input fails every time). */
    private static final int MAX_PUBLISH_FAILURES = 5;
    private static final Duration ROLLBACK_TIMEOUT = Duration.ofSeconds(30);

    private final CoordinatorConfig config;
    private final Consumer<String, byte[]> consumer;
    private final RunRecovery recovery;
    private final Supplier<Producer<String, byte[]>> producerFactory;
    private Producer<String, byte[]> producer;
    /** Transactions in a row that failed and were rolled back; reset by a commit. */
    private int publishFailures;
    private final SubmissionValidator validator;
    private final Clock clock;
    private final Map<String, ActiveRun> runs = new LinkedHashMap<>();
    private final Map<String, Boolean> finishedRuns = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > FINISHED_RUNS_REMEMBERED;
        }
    };
    private final Map<String, Integer> partitionCounts = new HashMap<>();
    private final AtomicLong reservedTokens = new AtomicLong();

    private final MeterRegistry registry;
    /** Every meter this loop registered, so that closing removes exactly these and no one else's. */
    private final Set<Meter> meters = ConcurrentHashMap.newKeySet();
    private final Counter dispatched;
    private final Counter tokensIn;
    private final Counter tokensOut;
    private final Counter duplicates;
    private final Counter deadLetters;
    private final Counter rejected;
    private final Timer loopTimer;

    private volatile boolean running = true;

    /** Runs restored on partition assignment: folded once (a tick) in the next iteration, to act on time passed. */
    private final List<ActiveRun> restored = new ArrayList<>();

    CoordinatorLoop(CoordinatorConfig config, Consumer<String, byte[]> consumer, Consumer<String, byte[]> restoreConsumer,
                    Supplier<Producer<String, byte[]>> producerFactory, Clock clock, MeterRegistry registry) {
        this.config = config;
        this.consumer = consumer;
        this.recovery = new RunRecovery(restoreConsumer);
        this.producerFactory = producerFactory;
        this.clock = clock;
        this.registry = registry;
        this.validator = new SubmissionValidator(config.limits());
        this.dispatched = counter(CoordinatorMeters.LEAVES_DISPATCHED);
        this.tokensIn = counter(CoordinatorMeters.TOKENS_SPENT, "direction", "input");
        this.tokensOut = counter(CoordinatorMeters.TOKENS_SPENT, "direction", "output");
        this.duplicates = counter(CoordinatorMeters.USAGE_DUPLICATES);
        this.deadLetters = counter(CoordinatorMeters.DEAD_LETTERS);
        this.rejected = counter(CoordinatorMeters.SUBMISSIONS_REJECTED);
        this.loopTimer = track(Timer.builder(CoordinatorMeters.LOOP.meterName()).description(CoordinatorMeters.LOOP.description())
                .publishPercentileHistogram().register(registry));
        track(Gauge.builder(CoordinatorMeters.RUNS_ACTIVE.meterName(), runs, Map::size)
                .description(CoordinatorMeters.RUNS_ACTIVE.description()).register(registry));
        track(Gauge.builder(CoordinatorMeters.TOKENS_RESERVED.meterName(), reservedTokens, AtomicLong::get)
                .description(CoordinatorMeters.TOKENS_RESERVED.description()).register(registry));
    }

    private Counter counter(CoordinatorMeters meter, String... tags) {
        return track(Counter.builder(meter.meterName()).description(meter.description()).tags(tags).register(registry));
    }

    private <M extends Meter> M track(M meter) {
        meters.add(meter);
        return meter;
    }

    /** Removes every meter this loop registered. */
    void removeMeters() {
        meters.forEach(registry::remove);
        meters.clear();
    }

    @Override
    public void run() {
        producer = producerFactory.get();
        producer.initTransactions();
        consumer.subscribe(List.of(Topics.SUBMISSIONS, Topics.USAGE), new RebalanceListener());
        try {
            while (running) {
                ConsumerRecords<String, byte[]> records;
                try {
                    records = consumer.poll(nextPollTimeout());
                } catch (WakeupException e) {
                    continue; // stop() was called, or a spurious wakeup: the loop condition decides
                }
                long startNanos = System.nanoTime();
                long now = clock.millis();
                Outbox out = new Outbox();
                for (ConsumerRecord<String, byte[]> record : records) {
                    if (Topics.SUBMISSIONS.equals(record.topic())) {
                        onSubmission(record, now, out);
                    } else {
                        onUsage(record, now, out);
                    }
                }
                for (ActiveRun active : restored) {
                    if (runs.get(active.ledger().runId()) == active) {
                        apply(active, active.ledger().onTick(now), out);
                    }
                }
                restored.clear();
                tickDeadlines(now, out);
                if (!records.isEmpty() || !out.isEmpty()) {
                    try {
                        publish(records, out);
                        publishFailures = 0;
                    } catch (KafkaException e) {
                        if (isFatal(e) || ++publishFailures > MAX_PUBLISH_FAILURES) {
                            throw e;
                        }
                        // The fold already moved past inputs whose effects were just rolled back: throw that
                        // state away and rebuild it from what was committed (as a new owner would).
                        log.warn("transaction failed ({}); rolling back to the committed ledger and offsets", e.toString());
                        rollBack();
                        continue;
                    }
                    loopTimer.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
                }
            }
        } finally {
            runs.clear();
            closeProducer(Duration.ofSeconds(5));
        }
    }

    /**
     * Errors after which this coordinator must stop: another instance took its transactional id (a zombie must
     * not go on), or it is not allowed to act. Anything else (a broker restart aborting the transaction, a
     * rebalance fencing stale offsets, timeouts) is rolled back and retried.
     */
    private static boolean isFatal(KafkaException e) {
        return e instanceof ProducerFencedException || e instanceof InvalidProducerEpochException
                || e instanceof AuthorizationException || e instanceof UnsupportedVersionException;
    }

    /**
     * Aborts the open transaction (a new producer with the same transactional id fences the old one and aborts
     * what it left open), forgets every run, seeks the input back to the committed offsets and restores the
     * assigned partitions' runs from the committed ledger. Retried with backoff while the cluster is away.
     */
    private void rollBack() {
        long backoffMs = 100;
        while (running) {
            try {
                closeProducer(Duration.ZERO);
                producer = producerFactory.get();
                producer.initTransactions();
                runs.clear();
                restored.clear();
                finishedRuns.clear();
                Set<TopicPartition> assigned = consumer.assignment();
                Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(assigned, ROLLBACK_TIMEOUT);
                for (TopicPartition tp : assigned) {
                    OffsetAndMetadata offset = committed.get(tp);
                    if (offset == null) {
                        consumer.seekToBeginning(List.of(tp));
                    } else {
                        consumer.seek(tp, offset.offset());
                    }
                }
                for (TopicPartition tp : assigned) {
                    if (Topics.SUBMISSIONS.equals(tp.topic())) {
                        restore(tp.partition());
                    }
                }
                log.info("rolled back to the committed state of {}", assigned);
                return;
            } catch (ProducerFencedException | InvalidProducerEpochException e) {
                throw e;
            } catch (KafkaException e) {
                log.warn("roll-back failed ({}), retrying in {} ms", e.toString(), backoffMs);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(backoffMs));
                backoffMs = Math.min(backoffMs * 2, 5_000);
            }
        }
    }

    private void closeProducer(Duration timeout) {
        if (producer == null) {
            return;
        }
        try {
            producer.close(timeout);
        } catch (KafkaException e) {
            log.debug("closing the producer", e);
        }
        producer = null;
    }

    void stop() {
        running = false;
        consumer.wakeup();
    }

    private Duration nextPollTimeout() {
        long timeout = config.pollTimeout().toMillis();
        long now = clock.millis();
        for (ActiveRun active : runs.values()) {
            var next = active.ledger().nextDeadlineMs();
            if (next.isPresent()) {
                timeout = Math.min(timeout, Math.max(0, next.getAsLong() - now));
            }
        }
        return Duration.ofMillis(timeout);
    }

    private void onSubmission(ConsumerRecord<String, byte[]> record, long now, Outbox out) {
        ValidationResult result = validator.validate(record.value() == null ? new byte[0] : record.value());
        if (!result.isValid()) {
            reject(record, record.key(), result.errors(), now, out);
            return;
        }
        Submission submission = result.submission();
        if (submission.runId() == null) {
            // Derived from the record's position, so replaying the same record yields the same run id.
            submission = submission.withRunId("run-" + record.partition() + "-" + record.offset());
        }
        String runId = submission.runId();
        int home = partition(Topics.SUBMISSIONS, runId);
        if (record.partition() != home) {
            // Everything about a run must live on the partition of its run id (usage, ledger and runs are
            // partitioned so), or another coordinator would fold its usage. Forward it there, once.
            out.add(new ProducerRecord<>(Topics.SUBMISSIONS, home, runId, Json.write(submission)));
            log.info("run {} submitted on partition {}: forwarded to its partition {}", runId, record.partition(), home);
            return;
        }
        if (runs.containsKey(runId) || finishedRuns.containsKey(runId)) {
            reject(record, runId, List.of("run_id: a run with id '" + runId + "' was already submitted"), now, out);
            return;
        }
        RunLedger run = RunLedger.create(submission, config.ledger(), now);
        ActiveRun active = new ActiveRun(run, submission, now, record.partition());
        runs.put(runId, active);
        out.add(runRecord(active, false, now));
        log.info("run {} accepted ({} mode)", runId, submission.mode().wire());
        apply(active, run.begin(now), out);
    }

    private ProducerRecord<String, byte[]> runRecord(ActiveRun active, boolean finished, long now) {
        String runId = active.ledger().runId();
        RunRecord record = new RunRecord(runId, active.submission(), active.startedAtMs(), finished, now);
        return new ProducerRecord<>(Topics.RUNS, partition(Topics.RUNS, runId), runId, Json.write(record));
    }

    /** Takes over the unfinished runs of a newly assigned partition, as of its committed ledger. */
    private void restore(int partition) {
        RunRecovery.PartitionState state = recovery.read(partition);
        state.finished().forEach(id -> finishedRuns.put(id, Boolean.TRUE));
        for (RunRecovery.Recovered r : state.unfinished()) {
            if (runs.containsKey(r.run().runId())) {
                continue;
            }
            RunLedger ledger = RunLedger.restore(r.run().submission(), r.run().startedAtMs(), r.entries().values(), config.ledger());
            ActiveRun active = new ActiveRun(ledger, r.run().submission(), r.run().startedAtMs(), partition);
            runs.put(r.run().runId(), active);
            restored.add(active);
            log.info("run {} restored from the ledger ({} entries) on partition {}", r.run().runId(), r.entries().size(), partition);
        }
    }

    private void onUsage(ConsumerRecord<String, byte[]> record, long now, Outbox out) {
        UsageEvent event;
        try {
            event = Json.read(record.value(), UsageEvent.class);
        } catch (WireFormatException e) {
            deadLetter(record, record.key(), "usage", List.of(e.getMessage()), now, out);
            return;
        }
        ActiveRun active = runs.get(event.runId());
        if (active == null) {
            if (finishedRuns.containsKey(event.runId())) {
                duplicates.increment(); // a late event of a finished run: already accounted, or charged as dead
            } else {
                deadLetter(record, event.runId(), "usage", List.of("run_id: no active run '" + event.runId() + "' on this coordinator"), now, out);
            }
            return;
        }
        RunLedger run = active.ledger();
        long duplicatesBefore = run.duplicatesIgnored();
        Usage before = active.spent();
        Decisions decisions = run.onUsage(event, now);
        Usage delta = active.spent().minus(before);
        tokensIn.increment(delta.inputTokens());
        tokensOut.increment(delta.outputTokens());
        duplicates.increment(run.duplicatesIgnored() - duplicatesBefore);
        apply(active, decisions, out);
    }

    private void tickDeadlines(long now, Outbox out) {
        List<ActiveRun> due = new ArrayList<>();
        for (ActiveRun active : runs.values()) {
            var next = active.ledger().nextDeadlineMs();
            if (next.isPresent() && next.getAsLong() <= now) {
                due.add(active);
            }
        }
        for (ActiveRun active : due) {
            apply(active, active.ledger().onTick(now), out);
        }
    }

    private void apply(ActiveRun active, Decisions decisions, Outbox out) {
        String runId = active.ledger().runId();
        decisions.tasks().forEach(task -> {
            out.add(new ProducerRecord<>(Topics.TASKS, runId + "|" + task.path(), Json.write(task)));
            dispatched.increment();
        });
        decisions.halts().forEach(halt -> {
            out.add(new ProducerRecord<>(Topics.CONTROL, partition(Topics.CONTROL, runId), halt.key(), Json.write(halt)));
            counter(CoordinatorMeters.HALTS, "cause", halt.status().wire()).increment();
        });
        for (LedgerEntry entry : decisions.entries()) {
            out.add(new ProducerRecord<>(Topics.LEDGER, partition(Topics.LEDGER, runId), entry.key(), Json.write(entry)));
        }
        Receipt receipt = decisions.receipt();
        if (receipt != null) {
            out.add(new ProducerRecord<>(Topics.RESULTS, partition(Topics.RESULTS, runId), runId, Json.write(receipt)));
            out.add(runRecord(active, true, receipt.finishedAtMs()));
            finish(runId, receipt);
        }
    }

    private void finish(String runId, Receipt receipt) {
        runs.remove(runId);
        finishedRuns.put(runId, Boolean.TRUE);
        counter(CoordinatorMeters.RUNS, "status", receipt.status().wire()).increment();
        if (!receipt.nodes().isEmpty()) {
            LedgerEntry root = receipt.nodes().get(0);
            if (root.limits() != null && root.limits().maxTokens() != null && root.limits().maxTokens() > 0) {
                track(DistributionSummary.builder(CoordinatorMeters.BUDGET_UTILISATION.meterName())
                        .description(CoordinatorMeters.BUDGET_UTILISATION.description()).register(registry))
                        .record((double) root.spent().totalTokens() / root.limits().maxTokens());
            }
        }
        log.info("run {} finished: {} ({})", runId, receipt.status().wire(), receipt.reason());
    }

    private void reject(ConsumerRecord<String, byte[]> record, String runId, List<String> errors, long now, Outbox out) {
        rejected.increment();
        deadLetter(record, runId, "submission", errors, now, out);
        if (runId != null && !runId.isBlank() && !runs.containsKey(runId)) {
            Receipt receipt = new Receipt(runId, null, Status.REJECTED, String.join("; ", errors), now, now, List.of());
            out.add(new ProducerRecord<>(Topics.RESULTS, partition(Topics.RESULTS, runId), runId, Json.write(receipt)));
        }
        log.warn("submission at {}-{}@{} rejected: {}", record.topic(), record.partition(), record.offset(), errors);
    }

    private void deadLetter(ConsumerRecord<String, byte[]> record, String runId, String kind, List<String> errors,
                            long now, Outbox out) {
        deadLetters.increment();
        String payload = record.value() == null ? null : new String(record.value(), StandardCharsets.UTF_8);
        if (payload != null && payload.length() > PAYLOAD_EXCERPT_CHARS) {
            payload = payload.substring(0, PAYLOAD_EXCERPT_CHARS) + "…(" + record.value().length + " bytes)";
        }
        Rejection rejection = new Rejection(record.topic(), record.partition(), record.offset(), runId, kind, errors, payload, now);
        out.add(new ProducerRecord<>(Topics.DLQ, runId, Json.write(rejection)));
    }

    private int partition(String topic, String runId) {
        int n = partitionCounts.computeIfAbsent(topic, t -> producer.partitionsFor(t).size());
        return Topics.partitionFor(runId, n);
    }

    private void publish(ConsumerRecords<String, byte[]> records, Outbox out) {
        producer.beginTransaction();
        for (ProducerRecord<String, byte[]> record : out.records) {
            producer.send(record);
        }
        if (!records.isEmpty()) {
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            for (TopicPartition tp : records.partitions()) {
                List<ConsumerRecord<String, byte[]>> part = records.records(tp);
                offsets.put(tp, new OffsetAndMetadata(part.get(part.size() - 1).offset() + 1));
            }
            producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
        }
        // If this throws, the loop rolls its state back to what is committed (see run()).
        producer.commitTransaction();
        reservedTokens.set(runs.values().stream().mapToLong(ActiveRun::reservedTokens).sum());
    }

    /** A run this coordinator folds, with what the loop needs to know about it. */
    private record ActiveRun(RunLedger ledger, Submission submission, long startedAtMs, int partition) {

        String rootPath() {
            return submission.workflow().id();
        }

        Usage spent() {
            LedgerEntry root = ledger.entry(rootPath());
            return root == null || root.spent() == null ? Usage.ZERO : root.spent();
        }

        long reservedTokens() {
            LedgerEntry root = ledger.entry(rootPath());
            return root == null || root.reserved() == null ? 0 : root.reserved().tokens();
        }
    }

    /** What one loop iteration will publish, in order. */
    private static final class Outbox {
        final List<ProducerRecord<String, byte[]>> records = new ArrayList<>();

        void add(ProducerRecord<String, byte[]> record) {
            records.add(record);
        }

        boolean isEmpty() {
            return records.isEmpty();
        }
    }

    private final class RebalanceListener implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            for (TopicPartition tp : partitions) {
                if (!Topics.SUBMISSIONS.equals(tp.topic())) {
                    continue;
                }
                for (Iterator<Map.Entry<String, ActiveRun>> it = runs.entrySet().iterator(); it.hasNext(); ) {
                    Map.Entry<String, ActiveRun> e = it.next();
                    if (e.getValue().partition() == tp.partition()) {
                        log.warn("partition {} revoked: run {} is no longer folded here", tp, e.getKey());
                        it.remove();
                    }
                }
            }
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            log.info("coordinator assigned {}", partitions);
            for (TopicPartition tp : partitions) {
                if (Topics.SUBMISSIONS.equals(tp.topic())) {
                    restore(tp.partition());
                }
            }
        }
    }
}
