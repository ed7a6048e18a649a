package io.sluice.worker;

import static io.sluice.worker.Tasks.script;
import static io.sluice.worker.Tasks.turn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.broker.EmbeddedBrokerConfig;
import io.sluice.broker.EmbeddedKafkaBroker;
import io.sluice.schemas.Grant;
import io.sluice.schemas.Halt;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.Status;
import io.sluice.schemas.TopicAdmin;
import io.sluice.schemas.Topics;
import io.sluice.schemas.UsageEvent;
import io.sluice.worker.execute.ExecutorRegistry;
import io.sluice.worker.execute.LeafContext;
import io.sluice.worker.execute.LeafExecutor;
import io.sluice.worker.execute.Outcome;
import io.sluice.worker.execute.SimulatedExecutor;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ShareGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two workers on one share group against a real broker (one per class). Every test uses its own run id; the
 * last two close the workers: one gracefully with a leaf in flight, then a third worker, in a JVM of its own, is
 * killed holding a task.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WorkerSystemTest {

    private static final Logger log = LoggerFactory.getLogger(WorkerSystemTest.class);
    private static final Duration AT_MOST = Duration.ofSeconds(15);
    private static final int CONCURRENCY = 6;

    private EmbeddedKafkaBroker broker;
    private Admin admin;
    private KafkaProducer<String, byte[]> producer;
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private Worker w1;
    private Worker w2;
    private WorkerConfig config;

    /** Executions per run|path|attempt, across both workers; nanoTime each leaf observed its cancellation. */
    private final Map<String, AtomicInteger> executions = new ConcurrentHashMap<>();
    private final Map<String, Long> cancelledAtNanos = new ConcurrentHashMap<>();
    private final LeafExecutor counted = new LeafExecutor() {
        private final SimulatedExecutor simulated = new SimulatedExecutor();

        @Override
        public String name() {
            return "counted";
        }

        @Override
        public Outcome execute(LeafContext ctx) throws InterruptedException {
            LeafTask t = ctx.task();
            executions.computeIfAbsent(t.runId() + "|" + t.path() + "|" + t.attempt(), k -> new AtomicInteger()).incrementAndGet();
            ctx.onCancel(() -> cancelledAtNanos.putIfAbsent(t.runId() + "|" + t.path(), System.nanoTime()));
            return simulated.execute(ctx);
        }
    };

    private final List<UsageEvent> usage = new CopyOnWriteArrayList<>();
    private final List<Rejection> dlq = new CopyOnWriteArrayList<>();
    private KafkaConsumer<String, byte[]> reader;
    private Thread readerThread;

    @BeforeAll
    void startBrokerAndWorkers() throws Exception {
        broker = EmbeddedKafkaBroker.start(EmbeddedBrokerConfig.defaults().withOverrides(Map.of(
                // Members get their assignment within half a second; locks as short as a test needs.
                "group.share.min.heartbeat.interval.ms", "500",
                "group.share.heartbeat.interval.ms", "500",
                "group.share.min.record.lock.duration.ms", "1000")));
        admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()));
        TopicAdmin.ensure(admin, Topics.all(), (short) 1, Duration.ofSeconds(30));
        config = WorkerConfig.of(broker.bootstrapServers(), "w1")
                .withGroupId("sluice-workers-system-test")
                .withConcurrency(CONCURRENCY)
                .withLockDuration(Duration.ofSeconds(4))
                .withPollTimeout(Duration.ofMillis(200))
                .withShutdownTimeout(Duration.ofMillis(500));
        Worker.configureShareGroup(admin, config, Duration.ofSeconds(10));
        producer = new KafkaProducer<>(Map.of("bootstrap.servers", broker.bootstrapServers(), "acks", "all"),
                new StringSerializer(), new ByteArraySerializer());
        startReader();

        ExecutorRegistry executors = ExecutorRegistry.discover().with(counted);
        w1 = new Worker(config, executors, meters);
        w2 = new Worker(new WorkerConfig(config.bootstrapServers(), config.groupId(), "w2", config.concurrency(),
                config.lockDuration(), config.pollTimeout(), config.shutdownTimeout(), config.deliveryLimit(),
                config.clientProperties()), executors, meters);
        w1.start();
        w2.start();
        // A member takes records only from the partitions assigned to it: wait until all 12 share the 6 partitions.
        await("all lanes assigned").atMost(AT_MOST).ignoreExceptions().until(() -> {
            ShareGroupDescription d = admin.describeShareGroups(List.of(config.groupId())).all().get().get(config.groupId());
            return d.members().size() == 2
                    && d.members().stream().allMatch(m -> !m.assignment().topicPartitions().isEmpty());
        });
    }

    private void startReader() {
        reader = new KafkaConsumer<>(Map.of("bootstrap.servers", broker.bootstrapServers(), "isolation.level", "read_committed"),
                new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> parts = new ArrayList<>();
        for (String topic : List.of(Topics.USAGE, Topics.DLQ)) {
            reader.partitionsFor(topic).forEach(p -> parts.add(new TopicPartition(topic, p.partition())));
        }
        reader.assign(parts);
        reader.seekToBeginning(parts);
        readerThread = new Thread(() -> {
            try {
                while (true) {
                    for (ConsumerRecord<String, byte[]> r : reader.poll(Duration.ofMillis(100))) {
                        if (r.topic().equals(Topics.USAGE)) {
                            usage.add(Json.read(r.value(), UsageEvent.class));
                        } else {
                            dlq.add(Json.read(r.value(), Rejection.class));
                        }
                    }
                }
            } catch (WakeupException e) {
                // closing
            } finally {
                reader.close();
            }
        }, "test-usage-reader");
        readerThread.start();
    }

    @AfterAll
    void stopEverything() throws InterruptedException {
        if (w1 != null) {
            w1.close();
        }
        if (w2 != null) {
            w2.close();
        }
        assertThat(meters.getMeters()).as("meters removed on close").isEmpty();
        if (reader != null) {
            reader.wakeup();
            readerThread.join(5000);
        }
        if (producer != null) {
            producer.close();
        }
        if (admin != null) {
            admin.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    private static String newRun(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private void send(LeafTask task, Integer partition) throws Exception {
        producer.send(new ProducerRecord<>(Topics.TASKS, partition, task.runId(), Json.write(task))).get();
    }

    private static LeafTask task(String run, String path, JsonNode input) {
        return new LeafTask(run, path, 1, Grant.UNLIMITED, null, "counted", input, System.currentTimeMillis());
    }

    private List<UsageEvent> eventsOf(String run) {
        return usage.stream().filter(e -> e.runId().equals(run)).toList();
    }

    private Map<String, UsageEvent> finalsOf(String run) {
        return eventsOf(run).stream().filter(UsageEvent::isFinal).collect(Collectors.toMap(UsageEvent::path, e -> e, (a, b) -> a));
    }

    @Test
    @Order(1)
    void shouldExecuteEveryTaskExactlyOnceWithoutASlowLeafBlockingShortOnes() throws Exception {
        // given: two slow leaves (longer than the 4 s lock, which is never renewed) in front of 38 short ones
        String run = newRun("fan");
        List<String> slow = List.of("wf/slow-0", "wf/slow-1");
        long firstSentMs = System.currentTimeMillis();
        send(task(run, slow.get(0), script(turn(10, 10, 5000))), 0);
        send(task(run, slow.get(1), script(turn(10, 10, 5000))), 1);
        for (int i = 0; i < 38; i++) {
            send(task(run, "wf/short-" + i, script(turn(100, 50, 5), turn(200, 20 + i, 5))), i % 6);
        }

        // when
        await("40 final events").atMost(AT_MOST).until(() -> finalsOf(run).size() == 40);

        // then: exactly once, with gap-free seqs
        Map<String, List<UsageEvent>> byPath = eventsOf(run).stream().collect(Collectors.groupingBy(UsageEvent::path));
        assertThat(byPath).hasSize(40);
        byPath.forEach((path, events) -> {
            assertThat(events).extracting(UsageEvent::seq).as(path)
                    .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, events.size()).boxed().toList());
            assertThat(events).filteredOn(UsageEvent::isFinal).as(path).singleElement()
                    .satisfies(f -> assertThat(f.status()).isEqualTo(Status.SUCCEEDED));
            assertThat(events).as(path).hasSize(slow.contains(path) ? 2 : 3);
            assertThat(executions.get(run + "|" + path + "|1")).as(path).hasValue(1);
        });
        UsageEvent short7 = byPath.get("wf/short-7").get(1);
        assertThat(short7.inputTokens()).isEqualTo(200);
        assertThat(short7.outputTokens()).isEqualTo(27);

        long lastShortDone = finalsOf(run).values().stream().filter(e -> !slow.contains(e.path()))
                .mapToLong(UsageEvent::timestampMs).max().orElseThrow();
        long firstSlowDone = finalsOf(run).values().stream().filter(e -> slow.contains(e.path()))
                .mapToLong(UsageEvent::timestampMs).min().orElseThrow();
        log.info("fan-out: 38 short leaves done {} ms after the first task was written, {} ms before the first slow one; "
                        + "accepted {}; tasks by worker {}", lastShortDone - firstSentMs, firstSlowDone - lastShortDone,
                w1.accepted() + w2.accepted(),
                finalsOf(run).values().stream().collect(Collectors.groupingBy(UsageEvent::workerId, Collectors.counting())));
        assertThat(lastShortDone).as("short leaves are not held up by slow ones").isLessThan(firstSlowDone);
        assertThat(w1.accepted() + w2.accepted()).as("every task accepted once, none delivered again").isEqualTo(40);
    }

    @Test
    @Order(2)
    void shouldNeverExecuteTheQueuedTasksOfAHaltedRun() throws Exception {
        // given: the run is halted and both workers know it
        String run = newRun("halted");
        Halt halt = new Halt(run, "wf", Status.CANCELLED, "wf: max_tokens 600 exhausted", System.currentTimeMillis());
        producer.send(new ProducerRecord<>(Topics.CONTROL, halt.key(), Json.write(halt))).get();
        await("workers know the halt").atMost(AT_MOST).until(() -> w1.knowsHaltOf(run) && w2.knowsHaltOf(run));

        // when
        for (int i = 0; i < 5; i++) {
            send(task(run, "wf/leaf-" + i, script(turn(10, 10))), null);
        }

        // then
        await("5 final events").atMost(AT_MOST).until(() -> finalsOf(run).size() == 5);
        assertThat(eventsOf(run)).hasSize(5).allSatisfy(e -> {
            assertThat(e.seq()).isEqualTo(1);
            assertThat(e.status()).isEqualTo(Status.CANCELLED);
            assertThat(e.error()).isEqualTo("halted: wf: max_tokens 600 exhausted");
            assertThat(e.usage().isZero()).isTrue();
        });
        assertThat(executions.keySet()).noneMatch(k -> k.startsWith(run));
    }

    @Test
    @Order(3)
    void shouldCancelARunningLeafWithinMillisecondsOfItsHalt() throws Exception {
        // given: a leaf in its long second turn
        String run = newRun("inflight");
        send(task(run, "wf/scan/slow", script(turn(10, 10, 5), turn(10, 10, 30_000))), null);
        await("first step reported").atMost(AT_MOST).until(() -> eventsOf(run).size() == 1);

        // when
        Halt halt = new Halt(run, "wf/scan", Status.TIMED_OUT, "wf/scan: deadline passed", System.currentTimeMillis());
        long written = System.nanoTime();
        producer.send(new ProducerRecord<>(Topics.CONTROL, halt.key(), Json.write(halt))).get();
        long acked = System.nanoTime();

        // then
        await("final event").atMost(AT_MOST).until(() -> finalsOf(run).size() == 1);
        long observed = cancelledAtNanos.get(run + "|wf/scan/slow");
        log.info("halt -> cancellation observed by the executor: {} ms after send() began, {} ms after the write was acknowledged",
                String.format("%.1f", (observed - written) / 1e6), String.format("%.1f", (observed - acked) / 1e6));
        assertThat(Duration.ofNanos(observed - written)).isLessThan(Duration.ofSeconds(1));
        UsageEvent fin = finalsOf(run).get("wf/scan/slow");
        assertThat(fin.seq()).isEqualTo(2);
        assertThat(fin.status()).isEqualTo(Status.TIMED_OUT);
        assertThat(fin.error()).isEqualTo("halted: wf/scan: deadline passed");
        assertThat(fin.output().get("turns_completed").asInt()).isEqualTo(1);
    }

    @Test
    @Order(4)
    void shouldRejectPoisonTasksToTheDlqWithoutBlockingTheOthers() throws Exception {
        // given: garbage, an unknown executor and a good task on one partition
        String run = newRun("poison");
        producer.send(new ProducerRecord<>(Topics.TASKS, 2, run, "{not json".getBytes(StandardCharsets.UTF_8))).get();
        send(new LeafTask(run, "wf/x", 1, Grant.UNLIMITED, null, "x", null, 0), 2);
        send(task(run, "wf/ok", script(turn(1, 1))), 2);

        // then
        await("both finals").atMost(AT_MOST).until(() -> finalsOf(run).size() == 2);
        assertThat(finalsOf(run).get("wf/ok").status()).isEqualTo(Status.SUCCEEDED);
        assertThat(finalsOf(run).get("wf/x").error()).isEqualTo("unknown executor 'x'");
        await("two rejections").atMost(AT_MOST).until(() -> dlq.stream().filter(r -> run.equals(r.runId())).count() == 2);
        assertThat(dlq.stream().filter(r -> run.equals(r.runId())).sorted(Comparator.comparingLong(Rejection::offset)))
                .extracting(Rejection::payload).first().isEqualTo("{not json");
    }

    @Test
    @Order(5)
    void shouldEndALeafCancelledByTheShutdownAndNotDeliverItAgain() throws Exception {
        // given: a leaf in its long second turn on one of the workers
        String run = newRun("shutdown");
        String key = run + "|wf/long|1";
        send(task(run, "wf/long", script(turn(10, 7, 5), turn(10, 10, 30_000))), null);
        await("first step reported").atMost(AT_MOST).until(() -> eventsOf(run).size() == 1);
        Worker holder = w1.inFlight() == 1 ? w1 : w2;
        Worker other = holder == w1 ? w2 : w1;
        assertThat(holder.inFlight()).isEqualTo(1);

        // when: it closes before the leaf ends (the leaf is cancelled after the 0.5 s shutdown timeout)
        long began = System.nanoTime();
        holder.close();
        Duration took = Duration.ofNanos(System.nanoTime() - began);

        // then: a final "cancelled" event with the partial usage before close() returned ...
        assertThat(holder.state()).isEqualTo(Worker.State.CLOSED);
        await("final event").atMost(AT_MOST).until(() -> finalsOf(run).size() == 1);
        UsageEvent fin = finalsOf(run).get("wf/long");
        assertThat(fin.seq()).isEqualTo(2);
        assertThat(fin.status()).isEqualTo(Status.CANCELLED);
        assertThat(fin.error()).isEqualTo("worker shutting down");
        assertThat(fin.workerId()).isEqualTo(holder.config().workerId());
        assertThat(fin.output().get("turns_completed").asInt()).isEqualTo(1);
        assertThat(eventsOf(run).get(0).outputTokens()).isEqualTo(7);
        assertThat(took).isGreaterThanOrEqualTo(config.shutdownTimeout())
                .isLessThan(config.shutdownTimeout().plus(Worker.CLOSE_MARGIN));
        // ... and the task was accepted: well past its lock, no worker receives it again
        Duration quiet = config.lockDuration().plusSeconds(1);
        await("not delivered again").during(quiet).atMost(quiet.plusSeconds(2))
                .until(() -> eventsOf(run).size() == 2 && executions.get(key).get() == 1 && other.inFlight() == 0);
        log.info("graceful close with a leaf in flight took {} ms (shutdown timeout {} ms)", took.toMillis(),
                config.shutdownTimeout().toMillis());
    }

    @Test
    @Order(6)
    void shouldNeverDeliverAgainTheTaskOfAWorkerKilledWhileItRunsIt() throws Exception {
        // given: a worker in a JVM of its own, running a long leaf, and a survivor in the same group
        w1.close();
        w2.close();
        Process victim = startVictim("run");
        Worker survivor = null;
        try {
            await("victim joined").atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> members().size() == 1);
            String run = newRun("crash");
            String key = run + "|wf/held|1";
            send(task(run, "wf/held", script(turn(10, 7, 5), turn(10, 10, 60_000))), null);
            await("the victim ran its first step").atMost(AT_MOST).until(() -> eventsOf(run).size() == 1);
            assertThat(eventsOf(run).get(0).workerId()).isEqualTo("victim");
            survivor = startSurvivor();

            // when: the victim dies running it
            victim.destroyForcibly();
            assertThat(victim.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

            // then: the task was accepted when it started: it is not delivered again (the coordinator finds the attempt
            // lost when its lease lapses, and retries it as a new attempt)
            awaitNotDeliveredAgain(run, key);
        } finally {
            victim.destroyForcibly();
            if (survivor != null) {
                survivor.close();
            }
        }
    }

    @Test
    @Order(7)
    void shouldReportLostATaskWhoseWorkerWasKilledBetweenDeliveryAndAcceptance() throws Exception {
        // given: a worker in a JVM of its own whose announcements never complete: it holds every delivered task
        // unaccepted; and a survivor in the same group
        Process victim = startVictim("hold");
        Worker survivor = null;
        try {
            await("victim joined").atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> members().size() == 1);
            String run = newRun("held");
            String key = run + "|wf/held|1";
            send(task(run, "wf/held", script(turn(10, 7, 5))), null);
            Path out = victimLog();
            await("the victim holds the task unaccepted").atMost(AT_MOST)
                    .until(() -> Files.readString(out).contains("HOLDING " + run));
            survivor = startSurvivor();
            assertThat(eventsOf(run)).isEmpty();

            // when: the victim dies between delivery and acceptance
            long killedMs = System.currentTimeMillis();
            victim.destroyForcibly();
            assertThat(victim.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

            // then: its next delivery is reported lost, once, and never run
            await("lost reported").atMost(AT_MOST).until(() -> finalsOf(run).size() == 1);
            UsageEvent lost = finalsOf(run).get("wf/held");
            log.info("SIGKILL before acceptance -> lost event written {} ms after the kill", lost.timestampMs() - killedMs);
            assertThat(lost.status()).isEqualTo(Status.LOST);
            assertThat(lost.seq()).isZero();
            assertThat(lost.workerId()).isEqualTo("w3");
            assertThat(lost.error()).isEqualTo("attempt 1 lost: delivery 2 found it unaccepted (its worker died or lost "
                    + "the record before accepting it)");
            assertThat(executions.get(key)).as("executions in this JVM").isNull();
            awaitNotDeliveredAgain(run, key);
        } finally {
            victim.destroyForcibly();
            if (survivor != null) {
                survivor.close();
            }
        }
    }

    /** For longer than a lock: the run has its one event, and nothing ran the task in this JVM. */
    private void awaitNotDeliveredAgain(String run, String key) {
        Duration quiet = config.lockDuration().plusSeconds(2);
        await("not delivered again").during(quiet).atMost(quiet.plusSeconds(2))
                .until(() -> eventsOf(run).size() == 1 && executions.get(key) == null);
    }

    private Worker startSurvivor() throws Exception {
        Worker survivor = new Worker(new WorkerConfig(config.bootstrapServers(), config.groupId(), "w3", CONCURRENCY,
                config.lockDuration(), config.pollTimeout(), config.shutdownTimeout(), config.deliveryLimit(),
                config.clientProperties()), ExecutorRegistry.discover().with(counted), meters);
        survivor.start();
        await("survivor joined").atMost(AT_MOST).ignoreExceptions()
                .until(() -> members().size() == 2 && members().values().stream().allMatch(n -> n >= 1));
        return survivor;
    }

    /** Member id → number of partitions assigned, of the share group. */
    private Map<String, Integer> members() throws Exception {
        ShareGroupDescription d = admin.describeShareGroups(List.of(config.groupId())).all().get().get(config.groupId());
        return d.members().stream().collect(Collectors.toMap(m -> m.consumerId(), m -> m.assignment().topicPartitions().size()));
    }

    private static Path victimLog() {
        return Path.of("target", "crash-victim.log");
    }

    private Process startVictim(String mode) throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path out = victimLog();
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classpath, CrashVictim.class.getName(),
                config.bootstrapServers(), config.groupId(), "victim", Integer.toString(CONCURRENCY),
                Long.toString(config.lockDuration().toMillis()), mode);
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    }
}
