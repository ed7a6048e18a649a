package io.sluice.systemtest.e2e;

import static io.sluice.systemtest.e2e.Runs.leaf;
import static io.sluice.systemtest.e2e.Runs.node;
import static io.sluice.systemtest.e2e.Runs.turn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.sluice.coordinator.Coordinator;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.Topics;
import io.sluice.schemas.UsageEvent;
import io.sluice.systemtest.kafka.RunTopics;
import io.sluice.worker.Worker;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One poison record of each kind — the JSON literal {@code null}, a tombstone, bytes that are no JSON, and a record of
 * the topic's type with a value out of range — on every Sluice topic, during a live run. Then: every process alive,
 * the live run and a new run succeed, a restarted coordinator and a new worker start and work, halts are still
 * followed, and the dead-letter topic holds one dead letter per probe with its reason.
 *
 * <p>A tombstone on a compacted topic (ledger, runs, control, results) is how Sluice itself deletes a key, so it is
 * not poison there: it is applied, not dead-lettered. Nothing reads the dead-letter topic; the results topic is read
 * by producers' watchers, which skip what they cannot read.
 */
@ExtendWith(SluiceExtension.class)
class PoisonIT {

    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(90);

    private final SluiceSystem sluice;

    PoisonIT(SluiceSystem sluice) {
        this.sluice = sluice;
    }

    /** A probe written to a topic: where it landed, and whether a dead letter must follow. */
    private record Probe(String topic, int partition, long offset, String kind, boolean deadLettered) {
    }

    @Test
    void shouldSurviveOnePoisonRecordOfEachKindOnEveryTopic() throws Exception {
        // given: a live run whose leaf holds long enough for everything below to happen while it runs
        String live = sluice.kafka().uniqueRunId("poison-live");
        Submission liveRun = Runs.submission(live, """
                {"run_id": "RUN", "workflow": {"id": "w", "nodes": [
                  {"kind": "leaf", "id": "hold", "executor": "probe", "input": {"hold_ms": 12000}}]}}""");
        CompletableFuture<Receipt> liveReceipt = CompletableFuture.supplyAsync(() -> sluice.run(liveRun, RUN_TIMEOUT));
        await("the live run under way").atMost(Duration.ofSeconds(30))
                .until(() -> !sluice.tasks(live).isEmpty());

        // when: the probes
        List<Probe> probes = new ArrayList<>();
        try (KafkaProducer<String, byte[]> producer = producer()) {
            String ghost = "poison-" + live;
            probes.addAll(fourKinds(producer, Topics.SUBMISSIONS, ghost, """
                    {"run_id": "%s", "workflow": {"id": "w", "budget": {"max_tokens": -5}, "nodes": []}}""".formatted(ghost),
                    true));
            probes.addAll(fourKinds(producer, Topics.USAGE, live, """
                    {"run_id": "%s", "path": "w/hold", "attempt": 1, "worker_id": "forger", "seq": 1,
                     "input_tokens": 9223372036854775807, "output_tokens": 0, "steps": 1, "final": false,
                     "status": "running", "timestamp_ms": 0}""".formatted(live), true));
            probes.addAll(fourKinds(producer, Topics.TASKS, ghost + "|w/a", """
                    {"run_id": "%s", "path": "w/a", "attempt": 0, "grant": {}, "executor": "probe",
                     "dispatched_at_ms": 0}""".formatted(ghost), true));
            int home = Topics.partitionFor(live, Topics.DEFAULT_RUN_PARTITIONS);
            probes.addAll(fourKinds(producer, Topics.CONTROL, home, live + "|w/nowhere", """
                    {"run_id": "%s", "path": "w/nowhere", "status": "succeeded", "at_ms": 0}""".formatted(live), false));
            probes.addAll(fourKinds(producer, Topics.LEDGER, home, live + "|w/nowhere", """
                    {"run_id": "%s", "path": "w/nowhere", "kind": "leaf", "mode": "strict", "status": "running",
                     "leaves": {}, "overshoot": -1, "updated_at_ms": 0}""".formatted(live), false));
            probes.addAll(fourKinds(producer, Topics.RUNS, ghost, """
                    {"run_id": "%s", "started_at_ms": -1, "finished": true, "updated_at_ms": 0}""".formatted(ghost), false));
            probes.addAll(fourKinds(producer, Topics.RESULTS, live, """
                    {"run_id": "%s", "status": "running", "started_at_ms": 0, "finished_at_ms": 0, "nodes": []}"""
                    .formatted(live), false));
            probes.addAll(fourKinds(producer, Topics.DLQ, "poison", "{\"source_topic\": \"x\", \"partition\": -7}", false));
        }
        // a restarted coordinator restores every partition (reading the runs and ledger probes) and folds on
        Coordinator restarted = sluice.replaceCoordinator();
        // a new worker reads the control topic from its beginning, probes included, and starts
        Worker newcomer = sluice.addWorker(sluice.kafka().uniqueRunId("it-worker-new"));
        try {
            checkEverythingStillWorks(liveReceipt, restarted, newcomer, probes);
        } finally {
            sluice.removeWorker(newcomer); // the tests after this one count the system's usual workers
        }
    }

    private void checkEverythingStillWorks(CompletableFuture<Receipt> liveReceipt, Coordinator restarted, Worker newcomer,
                                           List<Probe> probes) throws Exception {
        // then: the live run ends as it would have, its watcher unbothered by the probes on its partitions
        Receipt receipt = liveReceipt.get(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        assertThat(receipt.status()).as(receipt.reason()).isEqualTo(Status.SUCCEEDED);

        // a new run succeeds, and the new worker takes part in the work
        await("the new worker runs leaves").atMost(Duration.ofSeconds(90)).until(() -> runUntilWorkerSeen(newcomer));

        // halts are still followed: a running leaf is cancelled by an optimistic budget halt, long before it ends
        assertHaltsFollowed();

        // every process alive
        assertThat(restarted.state()).isEqualTo(Coordinator.State.RUNNING);
        assertThat(sluice.workers()).allSatisfy(w -> assertThat(w.state()).isEqualTo(Worker.State.RUNNING));

        // one dead letter per probe that is poison, with its reason; none for a tombstone of a compacted topic
        RunTopics topics = new RunTopics(sluice.kafka().bootstrapServers());
        Map<String, List<Rejection>> byCoordinates = new HashMap<>();
        for (String topic : List.of(Topics.SUBMISSIONS, Topics.USAGE, Topics.TASKS, Topics.CONTROL, Topics.LEDGER,
                Topics.RUNS, Topics.RESULTS, Topics.DLQ)) {
            await("dead letters of " + topic).atMost(Duration.ofSeconds(30)).until(() -> {
                for (Rejection r : topics.deadLettersOf(topic)) {
                    byCoordinates.computeIfAbsent(r.sourceTopic() + "-" + r.partition() + "@" + r.offset(),
                            k -> new ArrayList<>()).add(r);
                }
                return probes.stream().filter(p -> p.topic().equals(topic) && p.deadLettered())
                        .allMatch(p -> byCoordinates.containsKey(coordinates(p)));
            });
        }
        for (Probe p : probes) {
            List<Rejection> dead = byCoordinates.getOrDefault(coordinates(p), List.of());
            if (p.deadLettered()) {
                // several workers report a control probe; keyed by its coordinates, the compacted topic keeps one
                assertThat(dead).as("dead letters of %s", p).isNotEmpty().allSatisfy(r -> {
                    assertThat(r.errors()).as("reason of %s", p).isNotEmpty().allSatisfy(e -> assertThat(e).isNotBlank());
                    assertThat(Topics.deadLetterKey(r)).isEqualTo(coordinates(p));
                });
                assertThat(dead.stream().map(Rejection::errors).distinct()).as("one reason for %s", p).hasSize(1);
            } else {
                assertThat(dead).as("dead letters of %s", p).isEmpty();
            }
        }
    }

    /**
     * Writes the four kinds of poison to the partition {@code key} goes to: the JSON literal null, a tombstone, bytes
     * that are no JSON, and {@code outOfRange}. A tombstone is dead-lettered only where {@code tombstoneIsPoison}.
     */
    private static List<Probe> fourKinds(KafkaProducer<String, byte[]> producer, String topic, String key,
                                         String outOfRange, boolean tombstoneIsPoison)
            throws ExecutionException, InterruptedException, TimeoutException {
        return fourKinds(producer, topic, null, key, outOfRange, tombstoneIsPoison);
    }

    /** As above, on the given partition (the run's, for the topics partitioned by run id whatever the key). */
    private static List<Probe> fourKinds(KafkaProducer<String, byte[]> producer, String topic, Integer partition,
                                         String key, String outOfRange, boolean tombstoneIsPoison)
            throws ExecutionException, InterruptedException, TimeoutException {
        boolean read = !topic.equals(Topics.RESULTS) && !topic.equals(Topics.DLQ);
        List<Probe> probes = new ArrayList<>();
        String[] values = {"null", null, "{\"oops", outOfRange};
        String[] kinds = {"null", "tombstone", "undecodable", "out of range"};
        for (int i = 0; i < values.length; i++) {
            byte[] value = values[i] == null ? null : values[i].getBytes(StandardCharsets.UTF_8);
            RecordMetadata m = producer.send(new ProducerRecord<>(topic, partition, key, value)).get(30, TimeUnit.SECONDS);
            boolean poison = read && (values[i] != null || tombstoneIsPoison);
            probes.add(new Probe(topic, m.partition(), m.offset(), kinds[i], poison));
        }
        return probes;
    }

    private static String coordinates(Probe p) {
        return p.topic() + "-" + p.partition() + "@" + p.offset();
    }

    private KafkaProducer<String, byte[]> producer() {
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, sluice.kafka().bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    }

    /** Runs a small fan-out; true once the newcomer has reported usage in one. */
    private boolean runUntilWorkerSeen(Worker newcomer) {
        String runId = sluice.kafka().uniqueRunId("poison-after");
        StringBuilder leaves = new StringBuilder();
        int n = (SluiceSystem.WORKERS + 1) * SluiceSystem.CONCURRENCY * 2;
        for (int i = 0; i < n; i++) {
            leaves.append(i == 0 ? "" : ",").append("{\"kind\":\"leaf\",\"id\":\"l").append(i)
                    .append("\",\"executor\":\"probe\",\"input\":{\"hold_ms\":150}}");
        }
        Receipt r = sluice.run(Runs.submission(runId, "{\"run_id\":\"RUN\",\"workflow\":{\"id\":\"w\",\"nodes\":["
                + leaves + "]}}"), RUN_TIMEOUT);
        assertThat(r.status()).as(r.reason()).isEqualTo(Status.SUCCEEDED);
        Set<String> workers = new HashSet<>();
        sluice.usage(runId).stream().map(UsageEvent::workerId).forEach(workers::add);
        return workers.contains(newcomer.config().workerId());
    }

    private void assertHaltsFollowed() {
        String runId = sluice.kafka().uniqueRunId("poison-halt");
        Submission s = Runs.submission(runId, """
                {"run_id": "RUN", "mode": "optimistic", "workflow": {"id": "w", "budget": {"max_tokens": 100},
                 "nodes": [%s, %s]}}""".formatted(leaf("spender", null, turn(150, 0, 400)),
                leaf("sleeper", null, turn(1, 1, 60_000))));
        Receipt r = sluice.run(s, RUN_TIMEOUT);
        assertThat(r.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        // stopped by the halt in its one-minute turn, with nothing spent: a worker that ignored halts would have let
        // it finish that turn and report its usage
        assertThat(node(r, "w/sleeper").status()).isEqualTo(Status.CANCELLED);
        assertThat(node(r, "w/sleeper").reason()).contains("halted");
        assertThat(node(r, "w/sleeper").spent().totalTokens()).isZero();
    }
}
