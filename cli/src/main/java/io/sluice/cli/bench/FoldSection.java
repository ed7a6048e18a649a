package io.sluice.cli.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.sluice.schemas.Budget;
import io.sluice.schemas.Heartbeat;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Leaf;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.Topics;
import io.sluice.schemas.UsageEvent;
import io.sluice.schemas.Workflow;
import io.sluice.worker.WorkerConfig;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Usage events folded per second, two ways:
 * <ul>
 *   <li><b>pure</b>: {@link LedgerFoldBench} — the coordinator's {@code RunLedger} alone, in this thread, plus the JSON
 *       decode rate of one event;</li>
 *   <li><b>kafka</b>: the in-process coordinator with transactions on, fed by the bench instead of workers. With no
 *       worker running, a run of L leaves ({@code max_parallel} L, at most 1000, so all are dispatched at once) is
 *       submitted; the bench takes its L tasks from the workers' share group itself ({@code ACCEPT}), then produces,
 *       as a worker would (keyed by run id, idempotent, in seq order), S step events per leaf (1 + 1 tokens, 1 step)
 *       and a final {@code succeeded} one — M = L × (S + 1) events in all. Like a worker it also writes a heartbeat
 *       naming the run's attempts before the events and every {@link WorkerConfig#DEFAULT_HEARTBEAT_INTERVAL} until
 *       the receipt: a coordinator that hears no worker on a partition for half a lease takes it for an outage and
 *       renews every lease of the run on each call, a slower path that is not the one measured here. The events are
 *       written in one producer transaction, so that the coordinator (read_committed) sees all of them at once when it
 *       commits: the fold is then not paced by the producer. The rate is M ÷ (the receipt's {@code finished_at_ms},
 *       the coordinator's clock when it folded the last one, − the commit's end).</li>
 * </ul>
 */
final class FoldSection implements BenchSection {

    static final int MAX_KAFKA_LEAVES = 1_000;
    static final Duration TASK_TIMEOUT = Duration.ofSeconds(60);
    static final String WORKER_ID = "bench-fold";

    /**
     * @param events      usage events of the pure fold
     * @param kafkaEvents usage events through the coordinator
     */
    record Params(int events, int kafkaEvents) {
        static final int DEFAULT_EVENTS = 1_000_000;
        static final int DEFAULT_KAFKA_EVENTS = 200_000;

        Params {
            OptionChecks.range("--fold-events", events, 100, 100_000_000);
            OptionChecks.range("--fold-kafka-events", kafkaEvents, 100, 10_000_000);
        }
    }

    record Pure(long events, long leaves, int stepsPerLeaf, double seconds, double eventsPerS, int decodeSamples,
                double decodeEventsPerS) {
    }

    /** @param foreignTasks tasks of other runs the bench found in the share group and accepted unrun */
    record Kafka(String runId, long events, int leaves, int stepsPerLeaf, long foreignTasks, double produceSeconds,
                 double foldSeconds, double eventsPerS, String status) {
    }

    record Result(Pure pure, Kafka kafka, String kafkaError) implements SectionResult {

        @Override
        public List<Figure> figures() {
            List<Figure> f = new ArrayList<>();
            f.add(Figure.of("RunLedger fold (pure)", pure.eventsPerS(), "events/s", String.format(
                    "%,d events of %,d strict-mode leaves, in-process, no Kafka", pure.events(), pure.leaves())));
            f.add(Figure.of("usage JSON decode + schema check", pure.decodeEventsPerS(), "events/s",
                    "WireRecords.decode, one thread"));
            if (kafka != null) {
                f.add(Figure.of("coordinator fold via Kafka", kafka.eventsPerS(), "events/s", String.format(
                        "%,d events of %,d leaves visible at once (written in %.2f s), folded in %.2f s, transactional",
                        kafka.events(), kafka.leaves(), kafka.produceSeconds(), kafka.foldSeconds())));
            } else {
                f.add(Figure.of("coordinator fold via Kafka", "error: " + kafkaError, null));
            }
            return f;
        }
    }

    @Override
    public SectionName name() {
        return SectionName.FOLD;
    }

    @Override
    public SectionResult run(BenchContext ctx) throws Exception {
        Params params = ctx.config().fold();
        ctx.log("  RunLedger alone: %,d events…", params.events());
        LedgerFoldBench.Measurement m = LedgerFoldBench.run(params.events());
        int decodeSamples = Math.min(params.events(), 50_000);
        double decode = LedgerFoldBench.decodeRate(decodeSamples);
        Pure pure = new Pure(m.events(), m.leaves(), m.stepsPerLeaf(), m.seconds(), m.eventsPerS(), decodeSamples, decode);
        Kafka kafka = null;
        String error = null;
        try {
            kafka = viaKafka(ctx, params.kafkaEvents());
        } catch (RuntimeException e) {
            error = e.getMessage();
        }
        return new Result(pure, kafka, error);
    }

    private static Kafka viaKafka(BenchContext ctx, int events) throws InterruptedException {
        // No worker may take these tasks: the bench plays the worker.
        ctx.sluice().stopWorkers();
        ctx.sluice().ensureCoordinator();
        int leaves = Math.min(MAX_KAFKA_LEAVES, Math.max(1, events / 20));
        int steps = Math.max(1, events / leaves - 1);
        long total = (long) leaves * (steps + 1);
        String runId = BenchRuns.newRunId("fold");
        ctx.log("  through the coordinator: %,d events of %,d leaves…", total, leaves);
        Leaf leaf = new Leaf("leaf", null, "simulated", null, leaves, null);
        Submission submission = new Submission(runId, Mode.STRICT, new Workflow("fold",
                new Budget(null, null, null, null, null, leaves), null, List.of(leaf)));
        try (BenchRuns.PendingRun pending = ctx.runs().start(submission)) {
            AtomicLong foreign = new AtomicLong();
            List<LeafTask> tasks = takeTasks(ctx.bootstrapServers(), runId, leaves, foreign);
            BenchRuns.TimedRun run;
            long visibleAt;
            double produceSeconds;
            Heartbeats beats = Heartbeats.start(ctx.bootstrapServers(), runId, tasks);
            try {
                long firstSend = System.currentTimeMillis();
                visibleAt = produce(ctx.bootstrapServers(), runId, tasks, steps);
                produceSeconds = (visibleAt - firstSend) / 1000.0;
                // Bounded well below the run timeout: a coordinator that refused the events would never end the run.
                run = pending.await(Duration.ofSeconds(60 + total / 500));
            } finally {
                beats.close();
            }
            run.requireSucceeded(leaves);
            double foldSeconds = Math.max(0.001, (run.receipt().finishedAtMs() - visibleAt) / 1000.0);
            return new Kafka(runId, total, leaves, steps, foreign.get(), produceSeconds, foldSeconds, total / foldSeconds,
                    run.receipt().status().wire());
        }
    }

    /**
     * A worker's heartbeats for the run: one at once, then one every {@link WorkerConfig#DEFAULT_HEARTBEAT_INTERVAL}
     * on a thread of its own ({@code sluice-bench-heartbeat}), each naming every attempt, until closed.
     */
    private static final class Heartbeats implements AutoCloseable {
        private final KafkaProducer<String, byte[]> producer;
        private final java.util.concurrent.ScheduledExecutorService timer;

        private Heartbeats(KafkaProducer<String, byte[]> producer, java.util.concurrent.ScheduledExecutorService timer) {
            this.producer = producer;
            this.timer = timer;
        }

        static Heartbeats start(String bootstrap, String runId, List<LeafTask> tasks) {
            List<Heartbeat.Attempt> attempts = tasks.stream().map(t -> new Heartbeat.Attempt(t.path(), t.attempt())).toList();
            KafkaProducer<String, byte[]> producer = new KafkaProducer<>(BaselineSection.producerProps(bootstrap, 1),
                    new StringSerializer(), new ByteArraySerializer());
            java.util.concurrent.ScheduledExecutorService timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "sluice-bench-heartbeat");
                t.setDaemon(true);
                return t;
            });
            long every = WorkerConfig.DEFAULT_HEARTBEAT_INTERVAL.toMillis();
            Runnable beat = () -> producer.send(new ProducerRecord<>(Topics.HEARTBEATS, runId,
                    Json.write(new Heartbeat(runId, WORKER_ID, attempts, System.currentTimeMillis()))));
            try {
                producer.send(new ProducerRecord<>(Topics.HEARTBEATS, runId,
                        Json.write(new Heartbeat(runId, WORKER_ID, attempts, System.currentTimeMillis())))).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (java.util.concurrent.ExecutionException e) {
                producer.close();
                timer.shutdownNow();
                throw new IllegalStateException("cannot write a heartbeat: " + e.getCause().getMessage(), e.getCause());
            }
            timer.scheduleAtFixedRate(beat, every, every, java.util.concurrent.TimeUnit.MILLISECONDS);
            return new Heartbeats(producer, timer);
        }

        @Override
        public void close() {
            timer.shutdownNow();
            producer.close(Duration.ofSeconds(5));
        }
    }

    /** Takes the run's tasks from the workers' share group as a worker would, accepting each. */
    private static List<LeafTask> takeTasks(String bootstrap, String runId, int leaves, AtomicLong foreign) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, WorkerConfig.DEFAULT_GROUP_ID);
        p.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "sluice-bench-fold-tasks");
        List<LeafTask> tasks = new ArrayList<>();
        try (KafkaShareConsumer<byte[], byte[]> consumer = new KafkaShareConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(Topics.TASKS));
            long deadline = System.nanoTime() + TASK_TIMEOUT.toNanos();
            while (tasks.size() < leaves) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("took " + tasks.size() + " of the run's " + leaves + " tasks within "
                            + TASK_TIMEOUT.toSeconds() + " s");
                }
                ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(100));
                for (ConsumerRecord<byte[], byte[]> r : batch) {
                    LeafTask task = Json.read(r.value(), LeafTask.class);
                    if (runId.equals(task.runId())) {
                        tasks.add(task);
                    } else {
                        foreign.incrementAndGet();
                    }
                    consumer.acknowledge(r, AcknowledgeType.ACCEPT);
                }
                if (!batch.isEmpty()) {
                    consumer.commitSync();
                }
            }
        }
        return tasks;
    }

    /**
     * Writes every leaf's events, step by step across the leaves, in one transaction; returns when its commit ended
     * (epoch millis): from then on the coordinator sees them all.
     */
    private static long produce(String bootstrap, String runId, List<LeafTask> tasks, int steps) {
        AtomicReference<Exception> failure = new AtomicReference<>();
        Map<String, Object> props = BaselineSection.producerProps(bootstrap, 5);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "sluice-bench-" + runId);
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "300000");
        long visibleAt;
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                new ByteArraySerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int s = 1; s <= steps + 1; s++) {
                boolean last = s == steps + 1;
                for (LeafTask t : tasks) {
                    UsageEvent e = last
                            ? new UsageEvent(runId, t.path(), t.attempt(), WORKER_ID, s, 0, 0, 0, true, Status.SUCCEEDED, null,
                                    null, System.currentTimeMillis())
                            : new UsageEvent(runId, t.path(), t.attempt(), WORKER_ID, s, 1, 1, 1, false, Status.RUNNING, null,
                                    null, System.currentTimeMillis());
                    producer.send(new ProducerRecord<>(Topics.USAGE, runId, Json.write(e)), (md, ex) -> {
                        if (ex != null) {
                            failure.compareAndSet(null, ex);
                        }
                    });
                }
            }
            producer.flush();
            if (failure.get() != null) {
                throw new IllegalStateException("cannot write usage events: " + failure.get().getMessage(), failure.get());
            }
            producer.commitTransaction();
            visibleAt = System.currentTimeMillis();
        }
        return visibleAt;
    }
}
