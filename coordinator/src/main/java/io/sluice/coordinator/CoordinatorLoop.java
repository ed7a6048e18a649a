package io.sluice.coordinator;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.schemas.CancelRequest;
import io.sluice.schemas.Heartbeat;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.SubmissionValidator;
import io.sluice.schemas.Topics;
import io.sluice.schemas.UsageEvent;
import io.sluice.schemas.WireFormatException;
import io.sluice.schemas.WireRecords;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's single event loop: poll submissions and usage → fold them into their runs ({@link Intake},
 * {@link RunRegistry}) → publish what the folds decided and commit the consumed offsets in one Kafka transaction
 * ({@link TransactionalPublisher}). Either all effects of the input records of a transaction become visible to
 * read-committed readers, or none do.
 *
 * <p><b>No record stops the loop.</b> Each input record is decoded defensively; one that is not what its topic holds
 * (a tombstone, {@code null}, not JSON, out of range) is dead-lettered with its coordinates and the reason, and its
 * offset committed with the rest. A run whose fold throws fails alone ({@link RunRegistry}).
 *
 * <p><b>Transactions stay bounded.</b> A transaction is committed as soon as what it carries passes
 * {@link CoordinatorConfig#maxTransactionBytes()} (the input records handled so far, with their offsets), and one
 * ledger call dispatches at most {@code maxDispatchPerCall} leaves, the rest in later iterations. Every transaction,
 * also one that consumed nothing, commits offsets with the group's metadata: a coordinator the group has evicted
 * cannot commit (see {@link TransactionalPublisher}).
 *
 * <p><b>Take-over outside the rebalance.</b> A newly assigned partition is paused in the rebalance callback and
 * restored by the loop afterwards, one partition per iteration: its committed offsets are read first (which waits for
 * a previous owner's open transaction to end), then its runs from the committed ledger ({@link RunRecovery}); then it
 * is resumed. A revoked partition's runs are forgotten (the loop commits before it polls, so nothing of them is
 * pending). The group's {@link RunPartitionAssignor} gives one member the same partition numbers of submissions and
 * usage, and moves, cooperatively, only the numbers that must move.
 *
 * <p>Thread-safety: one thread ({@code sluice-coordinator-loop}) creates, owns and closes the consumers, the producer
 * and every run's state. Other threads only call {@link #stop()}, which sets a flag and wakes the consumer up.
 */
final class CoordinatorLoop implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(CoordinatorLoop.class);
    /** Transactions in a row that failed and were rolled back, after which the loop gives up. */
    private static final int MAX_PUBLISH_FAILURES = 10;
    private static final Duration COMMITTED_TIMEOUT = Duration.ofSeconds(30);
    private static final long MAX_BACKOFF_MS = 5_000;
    /** The input topics: partition p of each is about the runs of partition p. */
    static final List<String> INPUTS = List.of(Topics.SUBMISSIONS, Topics.USAGE, Topics.HEARTBEATS, Topics.CANCELLATIONS);

    private final CoordinatorConfig config;
    private final Supplier<Consumer<String, byte[]>> consumerFactory;
    private final Supplier<Consumer<String, byte[]>> restoreConsumerFactory;
    private final Clock clock;
    private final CoordinatorMetrics metrics;
    private final TransactionalPublisher publisher;
    private final RunRegistry runs;
    private final Intake intake;

    private Consumer<String, byte[]> consumer;
    private RunRecovery recovery;
    /** Owned partitions of the input topics and the offset after the last record handled (or committed) on each. */
    private final Map<TopicPartition, Long> positions = new HashMap<>();
    /** Partition numbers assigned and paused, waiting for their runs to be restored, in order of assignment. */
    private final Deque<Integer> toRestore = new ArrayDeque<>();
    private volatile int restoring;
    private int publishFailures;
    private volatile boolean running = true;

    CoordinatorLoop(CoordinatorConfig config, Supplier<Consumer<String, byte[]>> consumerFactory,
                    Supplier<Consumer<String, byte[]>> restoreConsumerFactory,
                    Supplier<Producer<String, byte[]>> producerFactory, Clock clock, MeterRegistry registry) {
        this.config = config;
        this.consumerFactory = consumerFactory;
        this.restoreConsumerFactory = restoreConsumerFactory;
        this.clock = clock;
        this.publisher = new TransactionalPublisher(producerFactory);
        this.metrics = new CoordinatorMetrics(registry, config.instanceId());
        this.runs = new RunRegistry(config, publisher, metrics);
        metrics.gauges(runs::activeCount, runs::reservedTokens, () -> restoring, () -> runs.overdueSeconds(clock.millis()));
        this.intake = new Intake(new SubmissionValidator(config.limits()), runs, publisher, metrics);
    }

    @Override
    public void run() {
        Consumer<String, byte[]> restoreConsumer = null;
        try {
            consumer = consumerFactory.get();
            restoreConsumer = restoreConsumerFactory.get();
            recovery = new RunRecovery(restoreConsumer);
            publisher.open();
            consumer.subscribe(INPUTS, new RebalanceListener());
            while (running) {
                iterate();
            }
        } finally {
            runs.clear();
            publisher.close();
            closeQuietly(restoreConsumer);
            closeQuietly(consumer);
            metrics.close();
        }
    }

    private void iterate() {
        Batch batch = new Batch();
        long startNanos = System.nanoTime();
        try {
            restoreNext(batch);
            ConsumerRecords<String, byte[]> records;
            try {
                records = consumer.poll(nextPollTimeout());
            } catch (WakeupException e) {
                return; // stop() was called, or a spurious wakeup: the loop condition decides
            }
            long now = clock.millis();
            for (ConsumerRecord<String, byte[]> record : records) {
                handle(record, now, batch);
                if (batch.bytes() >= config.maxTransactionBytes()) {
                    commit(batch);
                    batch = new Batch();
                }
            }
            runs.tick(now, batch);
            if (!batch.isEmpty()) {
                commit(batch);
                metrics.loopTook(System.nanoTime() - startNanos);
            }
        } catch (KafkaException e) {
            if (TransactionalPublisher.isFatal(e) || ++publishFailures > MAX_PUBLISH_FAILURES) {
                throw e;
            }
            // The fold already moved past inputs whose effects were just rolled back: throw that state away and
            // rebuild it from what was committed, as a new owner would.
            log.warn("transaction failed ({}); rolling back to the committed ledger and offsets", e.toString());
            rollBack();
        }
    }

    /** Handles one input record; whatever the record holds, this does not throw. */
    private void handle(ConsumerRecord<String, byte[]> record, long now, Batch batch) {
        batch.consumed(record);
        positions.put(new TopicPartition(record.topic(), record.partition()), record.offset() + 1);
        if (Topics.SUBMISSIONS.equals(record.topic())) {
            intake.onSubmission(record, now, batch);
            return;
        }
        if (Topics.HEARTBEATS.equals(record.topic())) {
            Heartbeat heartbeat = decode(record, Heartbeat.class, "heartbeat", now, batch);
            if (heartbeat != null) {
                runs.onHeartbeat(heartbeat, record, now, batch);
            }
            return;
        }
        if (Topics.CANCELLATIONS.equals(record.topic())) {
            CancelRequest request = decode(record, CancelRequest.class, "cancel", now, batch);
            if (request != null) {
                runs.onCancel(request, record, now, batch);
            }
            return;
        }
        UsageEvent event = decode(record, UsageEvent.class, "usage", now, batch);
        if (event != null) {
            runs.onUsage(event, record, now, batch);
        }
    }

    /** The record, or null when it is not one: then it is dead-lettered with the reason. */
    private <T> T decode(ConsumerRecord<String, byte[]> record, Class<T> type, String kind, long now, Batch batch) {
        try {
            return WireRecords.decode(record.value(), type);
        } catch (WireFormatException e) {
            runs.deadLetter(batch, Rejection.of(record, Topics.isRunId(record.key()) ? record.key() : null, kind,
                    List.of(e.getMessage()), now));
            log.warn("{} record {} dead-lettered: {}", kind, RunRegistry.coordinates(record), e.getMessage());
            return null;
        }
    }

    private void commit(Batch batch) {
        // Offsets of every owned partition, not only those this batch consumed: a transaction that consumed nothing
        // still carries the group's metadata, so that a coordinator evicted from the group cannot commit it.
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        positions.forEach((tp, next) -> offsets.put(tp, new OffsetAndMetadata(next)));
        offsets.putAll(batch.consumed());
        publisher.publish(batch, offsets, consumer.groupMetadata());
        publishFailures = 0;
        runs.publishGauges();
    }

    /**
     * Restores the next paused partition: reads its committed offsets (waiting for a previous owner's open
     * transaction to end), then its runs; resumes it. A failed read leaves it paused, to be tried again.
     */
    private void restoreNext(Batch batch) {
        Integer partition = toRestore.peekFirst();
        if (partition == null) {
            return;
        }
        List<TopicPartition> inputs = INPUTS.stream().map(t -> new TopicPartition(t, partition)).toList();
        RunRecovery.PartitionState state;
        Map<TopicPartition, OffsetAndMetadata> committed;
        try {
            committed = consumer.committed(new HashSet<>(inputs), COMMITTED_TIMEOUT);
            state = recovery.read(partition);
        } catch (KafkaException | IllegalStateException e) {
            if (e instanceof KafkaException k && TransactionalPublisher.isFatal(k)) {
                throw k;
            }
            log.warn("cannot restore partition {} yet ({}); retrying", partition, e.toString());
            toRestore.addLast(toRestore.pollFirst());
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
            return;
        }
        toRestore.pollFirst();
        restoring = toRestore.size();
        for (TopicPartition tp : inputs) {
            OffsetAndMetadata offset = committed == null ? null : committed.get(tp);
            if (offset != null) {
                positions.put(tp, offset.offset());
            }
        }
        runs.adopt(state, clock.millis(), batch);
        Set<TopicPartition> assigned = consumer.assignment();
        consumer.resume(inputs.stream().filter(assigned::contains).toList());
        log.info("partition {} restored: {} unfinished runs, {} finished, {} unreadable records", partition,
                state.unfinished().size(), state.finished().size(), state.unreadable().size());
    }

    /**
     * Aborts the open transaction (a new producer with the same transactional id fences the old one and aborts what
     * it left open), forgets every run, seeks the input back to the committed offsets and queues every assigned
     * partition for restore. Retried with backoff while the cluster is away.
     */
    private void rollBack() {
        long backoffMs = 100;
        while (running) {
            try {
                publisher.open();
                runs.clear();
                positions.clear();
                toRestore.clear();
                Set<TopicPartition> assigned = consumer.assignment();
                Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(assigned, COMMITTED_TIMEOUT);
                for (TopicPartition tp : assigned) {
                    OffsetAndMetadata offset = committed.get(tp);
                    if (offset == null) {
                        consumer.seekToBeginning(List.of(tp));
                    } else {
                        consumer.seek(tp, offset.offset());
                    }
                }
                pauseForRestore(assigned);
                log.info("rolled back to the committed state of {}", assigned);
                return;
            } catch (KafkaException e) {
                if (TransactionalPublisher.isFatal(e)) {
                    throw e;
                }
                log.warn("roll-back failed ({}), retrying in {} ms", e.toString(), backoffMs);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(backoffMs));
                backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
            }
        }
    }

    private void pauseForRestore(Collection<TopicPartition> partitions) {
        consumer.pause(partitions);
        for (TopicPartition tp : partitions) {
            if (!toRestore.contains(tp.partition())) {
                toRestore.addLast(tp.partition());
            }
        }
        restoring = toRestore.size();
    }

    void stop() {
        running = false;
        Consumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    private Duration nextPollTimeout() {
        if (!toRestore.isEmpty()) {
            return Duration.ZERO;
        }
        long timeout = config.pollTimeout().toMillis();
        long next = runs.nextWakeUpMs();
        if (next != Long.MAX_VALUE) {
            timeout = Math.min(timeout, Math.max(0, next - clock.millis()));
        }
        return Duration.ofMillis(timeout);
    }

    private static void closeQuietly(Consumer<String, byte[]> c) {
        if (c == null) {
            return;
        }
        try {
            c.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
        } catch (KafkaException e) {
            log.debug("closing a consumer", e);
        }
    }

    private final class RebalanceListener implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            forget(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            forget(partitions);
        }

        private void forget(Collection<TopicPartition> partitions) {
            Set<Integer> numbers = new HashSet<>();
            for (TopicPartition tp : partitions) {
                positions.remove(tp);
                numbers.add(tp.partition());
            }
            for (int p : numbers) {
                log.info("partition {} revoked: its runs are no longer folded here", p);
                runs.forget(p);
                toRestore.remove(p);
            }
            restoring = toRestore.size();
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (!partitions.isEmpty()) {
                log.info("coordinator assigned {}; restoring their runs before consuming them", partitions);
            }
            pauseForRestore(partitions);
        }
    }
}
