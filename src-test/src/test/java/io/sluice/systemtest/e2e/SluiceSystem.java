package io.sluice.systemtest.e2e;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.client.RunWatch;
import io.sluice.client.SluiceClient;
import io.sluice.coordinator.Coordinator;
import io.sluice.coordinator.CoordinatorConfig;
import io.sluice.schemas.Halt;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Submission;
import io.sluice.schemas.UsageEvent;
import io.sluice.systemtest.kafka.KafkaCluster;
import io.sluice.systemtest.kafka.RunTopics;
import io.sluice.worker.Worker;
import io.sluice.worker.WorkerConfig;
import io.sluice.worker.execute.ExecutorRegistry;

/**
 * A whole Sluice on the test JVM's shared broker: one coordinator and {@value #WORKERS} workers (each running
 * {@value #CONCURRENCY} leaves at once, with the built-in executors and the {@link ConcurrencyProbeExecutor}),
 * shared by every end-to-end test class. Tests use unique run ids and read back what the system really wrote
 * to Kafka: receipts, ledger entries, usage events, tasks and halts.
 */
public final class SluiceSystem implements AutoCloseable {

    public static final int WORKERS = 3;
    public static final int CONCURRENCY = 4;

    private final KafkaCluster kafka;
    private final RunTopics topics;
    private final SimpleMeterRegistry registry;
    private final ExecutorRegistry executors = ExecutorRegistry.discover().with(new ConcurrencyProbeExecutor());
    private Coordinator coordinator;
    private final List<Worker> workers = new ArrayList<>();

    private SluiceSystem(KafkaCluster kafka, Coordinator coordinator, SimpleMeterRegistry registry) {
        this.kafka = kafka;
        this.topics = new RunTopics(kafka.bootstrapServers());
        this.coordinator = coordinator;
        this.registry = registry;
    }

    static SluiceSystem start(KafkaCluster kafka) {
        kafka.ensureSluiceTopics();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try {
            Worker.configureShareGroup(kafka.admin(), WorkerConfig.of(kafka.bootstrapServers(), "config"), Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        SluiceSystem system = new SluiceSystem(kafka, newCoordinator(kafka, registry), registry);
        for (int i = 1; i <= WORKERS; i++) {
            system.addWorker("it-worker-" + i);
        }
        system.warmUp();
        return system;
    }

    private static Coordinator newCoordinator(KafkaCluster kafka, SimpleMeterRegistry registry) {
        return new Coordinator(CoordinatorConfig.of(kafka.bootstrapServers(), "it-" + kafka.uniqueRunId("c")), registry).start();
    }

    /** Starts one more worker, part of this system from now on (closed with it). */
    public Worker addWorker(String workerId) {
        WorkerConfig config = WorkerConfig.of(kafka.bootstrapServers(), workerId).withConcurrency(CONCURRENCY);
        Worker worker = new Worker(config, executors, registry);
        worker.start();
        workers.add(worker);
        return worker;
    }

    /** Stops and drops a worker added by a test, so that the system has its usual shape for the tests after it. */
    public void removeWorker(Worker worker) {
        workers.remove(worker);
        worker.close();
    }

    /**
     * Restarts the coordinator as an operator would roll it: a new one joins the group, then the old one leaves; the
     * new one takes over every partition and restores its runs from the ledger.
     */
    public Coordinator replaceCoordinator() {
        Coordinator next = newCoordinator(kafka, registry);
        Coordinator old = coordinator;
        coordinator = next;
        old.close();
        return next;
    }

    public Coordinator coordinator() {
        return coordinator;
    }

    public List<Worker> workers() {
        return List.copyOf(workers);
    }

    /**
     * A new share-group member gets its first records only after some seconds: run small probe runs until every
     * worker has executed something, so tests that count workers do not depend on join timing.
     */
    private void warmUp() {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            String runId = kafka.uniqueRunId("warm-up");
            StringBuilder leaves = new StringBuilder();
            for (int i = 0; i < WORKERS * CONCURRENCY * 2; i++) {
                leaves.append(i == 0 ? "" : ",").append("{\"kind\":\"leaf\",\"id\":\"l").append(i)
                        .append("\",\"executor\":\"probe\",\"input\":{\"hold_ms\":150}}");
            }
            run(Runs.submission(runId, "{\"run_id\":\"RUN\",\"workflow\":{\"id\":\"w\",\"nodes\":[" + leaves + "]}}"),
                    Duration.ofSeconds(60));
            if (usage(runId).stream().map(UsageEvent::workerId).distinct().count() == WORKERS) {
                return;
            }
        }
        throw new IllegalStateException("not every worker received tasks within 60 s");
    }

    public KafkaCluster kafka() {
        return kafka;
    }

    /** Submits and waits for the receipt. */
    public Receipt run(Submission submission, Duration timeout) {
        try (SluiceClient client = new SluiceClient(kafka.bootstrapServers(), Map.of());
             RunWatch watch = client.watch(submission.runId())) {
            watch.expect(client.submit(submission));
            return watch.await(timeout, e -> { });
        }
    }

    /** Every usage event of the run that is on the usage topic now. */
    public List<UsageEvent> usage(String runId) {
        return topics.usage(runId);
    }

    /** Every task the coordinator published for the run. */
    public List<LeafTask> tasks(String runId) {
        return topics.tasks(runId);
    }

    public List<Halt> halts(String runId) {
        return topics.halts(runId);
    }

    /** The latest ledger entry per node of the run, as a reader of the compacted topic sees it. */
    public Map<String, LedgerEntry> ledger(String runId) {
        return topics.ledger(runId);
    }

    @Override
    public void close() {
        workers.forEach(Worker::close);
        coordinator.close();
    }
}
