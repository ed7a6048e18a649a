package io.sluice.systemtest.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.broker.EmbeddedKafkaBroker;
import io.sluice.client.RunWatch;
import io.sluice.client.SluiceClient;
import io.sluice.coordinator.Coordinator;
import io.sluice.coordinator.CoordinatorConfig;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.SubmissionValidator;
import io.sluice.schemas.TopicAdmin;
import io.sluice.schemas.Topics;
import io.sluice.schemas.UsageEvent;
import io.sluice.systemtest.kafka.RunTopics;
import io.sluice.worker.Worker;
import io.sluice.worker.WorkerConfig;
import io.sluice.worker.execute.ExecutorRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs survive their coordinator: a coordinator that stops mid-run is replaced by another that rebuilds the
 * run from the committed ledger and finishes it with exactly the totals a run without the hand-over has.
 *
 * <p>Uses its own in-process broker (not the shared one): these tests add and remove coordinators of the
 * group, which would move the shared system's runs around. Crashes of whole processes (SIGKILL) are the
 * fault-injection suite's; here the coordinator is closed, which hands its partitions over between two
 * transactions.
 */
class CoordinatorHandOverIT {

    /** 40 identical leaves of exactly 300 tokens under a 9000-token cap: exactly 30 can succeed, whatever the timing. */
    private static final int LEAVES = 40;
    private static final long CAP = 9_000;

    private EmbeddedKafkaBroker broker;
    private final List<Worker> workers = new ArrayList<>();
    private final List<Coordinator> coordinators = new ArrayList<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private int runSeq;

    @BeforeEach
    void startCluster() throws InterruptedException {
        broker = EmbeddedKafkaBroker.start();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            TopicAdmin.ensure(admin, Topics.all(), (short) 1, Duration.ofSeconds(30));
            Worker.configureShareGroup(admin, WorkerConfig.of(broker.bootstrapServers(), "setup"), Duration.ofSeconds(30));
        }
        for (int i = 1; i <= 2; i++) {
            Worker worker = new Worker(WorkerConfig.of(broker.bootstrapServers(), "hand-over-worker-" + i).withConcurrency(4),
                    ExecutorRegistry.discover(), registry);
            worker.start();
            workers.add(worker);
        }
    }

    @AfterEach
    void stopCluster() {
        workers.forEach(Worker::close);
        coordinators.forEach(Coordinator::close);
        if (broker != null) {
            broker.close();
        }
    }

    private Coordinator startCoordinator(String instance) {
        Coordinator c = new Coordinator(CoordinatorConfig.of(broker.bootstrapServers(), instance), registry).start();
        coordinators.add(c);
        return c;
    }

    private Submission submission(String runId) {
        StringBuilder leaves = new StringBuilder();
        for (int i = 0; i < LEAVES; i++) {
            leaves.append(i == 0 ? "" : ",").append("{\"kind\":\"leaf\",\"id\":\"l").append(i)
                    .append("\",\"executor\":\"simulated\",\"input\":{\"turns\":[")
                    .append("{\"input_tokens\":60,\"output_tokens\":40,\"latency_ms\":60},".repeat(2))
                    .append("{\"input_tokens\":60,\"output_tokens\":40,\"latency_ms\":60}]}}");
        }
        String json = "{\"run_id\":\"" + runId + "\",\"workflow\":{\"id\":\"w\",\"leaf_max_tokens\":300,"
                + "\"budget\":{\"max_tokens\":" + CAP + ",\"max_parallel\":6},\"nodes\":[" + leaves + "]}}";
        return new SubmissionValidator().parse(json.getBytes(StandardCharsets.UTF_8));
    }

    private String runId(String prefix) {
        return prefix + "-" + System.nanoTime() + "-" + (++runSeq);
    }

    private void assertFinishedExactly(Receipt receipt) {
        LedgerEntry root = receipt.nodes().get(0);
        assertThat(root.spent().totalTokens()).as("spent of %s", receipt.runId()).isEqualTo(CAP);
        assertThat(root.reserved().tokens()).isZero();
        assertThat(root.leaves().get(Status.SUCCEEDED)).isEqualTo(30L);
        assertThat(root.leaves().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(LEAVES);
        assertThat(receipt.nodes()).filteredOn(e -> "leaf".equals(e.kind())).hasSize(LEAVES)
                .allSatisfy(e -> assertThat(e.status().isTerminal()).isTrue());
        assertThat(receipt.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        // the ledger agrees with the usage really reported (no lost attempts here: no worker died)
        long reported = usage(receipt.runId()).stream().mapToLong(e -> e.usage().totalTokens()).sum();
        assertThat(reported).isEqualTo(CAP);
    }

    @Test
    void shouldFinishARunWhoseCoordinatorStoppedMidRunOnTheCoordinatorThatTookOver() {
        // given: coordinator a is folding a run
        startCoordinator("a");
        String runId = runId("hand-over");
        try (SluiceClient client = new SluiceClient(broker.bootstrapServers(), Map.of());
             RunWatch watch = client.watch(runId)) {
            watch.expect(client.submit(submission(runId)));
            await("ten leaves finished under coordinator a").atMost(Duration.ofSeconds(60))
                    .until(() -> usage(runId).stream().filter(UsageEvent::isFinal).count() >= 10);

            // when: a stops and b starts
            coordinators.get(0).close();
            startCoordinator("b");
            Receipt receipt = watch.await(Duration.ofSeconds(90), e -> { });

            // then
            assertFinishedExactly(receipt);
        }
    }

    @Test
    void shouldMoveRunsBetweenTwoCoordinatorsWithoutLosingOrDoubleCountingAnything() {
        // given: two coordinators share the partitions, and three runs are in flight
        startCoordinator("a");
        startCoordinator("b");
        List<String> ids = List.of(runId("shared-1"), runId("shared-2"), runId("shared-3"));
        try (SluiceClient client = new SluiceClient(broker.bootstrapServers(), Map.of())) {
            List<RunWatch> watches = new ArrayList<>();
            try {
                for (String id : ids) {
                    RunWatch watch = client.watch(id);
                    watches.add(watch);
                    watch.expect(client.submit(submission(id)));
                }
                await("every run under way").atMost(Duration.ofSeconds(60)).until(() -> ids.stream()
                        .allMatch(id -> usage(id).stream().filter(UsageEvent::isFinal).count() >= 5));

                // when: a leaves; b takes over a's partitions and their runs
                coordinators.get(0).close();

                // then
                for (RunWatch watch : watches) {
                    assertFinishedExactly(watch.await(Duration.ofSeconds(90), e -> { }));
                }
            } finally {
                watches.forEach(RunWatch::close);
            }
        }
    }

    /** The run's usage events, one per (path, attempt, seq): what the coordinator counts. */
    private List<UsageEvent> usage(String runId) {
        Map<String, UsageEvent> unique = new HashMap<>();
        new RunTopics(broker.bootstrapServers()).usage(runId)
                .forEach(e -> unique.putIfAbsent(e.path() + "#" + e.attempt() + "#" + e.seq(), e));
        return new ArrayList<>(unique.values());
    }
}
