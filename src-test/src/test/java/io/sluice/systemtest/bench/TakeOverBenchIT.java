package io.sluice.systemtest.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.coordinator.Coordinator;
import io.sluice.coordinator.CoordinatorConfig;
import io.sluice.coordinator.ledger.Decisions;
import io.sluice.coordinator.ledger.LedgerConfig;
import io.sluice.coordinator.ledger.RunLedger;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.RunRecord;
import io.sluice.schemas.Source;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.SubmissionValidator;
import io.sluice.schemas.Topics;
import io.sluice.schemas.UsageEvent;
import io.sluice.systemtest.kafka.KafkaCluster;
import io.sluice.systemtest.kafka.KafkaExtension;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Measures (not asserts against a time) how long a coordinator takes to take over one partition that holds 10,000
 * finished runs and 100 active ones: first as the history accumulates when finished runs are never retired (what
 * main did), then after a coordinator with retention zero retired them and the log cleaner compacted the topics.
 * It alters the shared broker's topic configs to compact fast, so it runs only on request and alone:
 *
 * <pre>./mvnw -B verify -pl src-test -am -Dit.test=TakeOverBenchIT -Dsluice.bench=true -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false</pre>
 */
@ExtendWith(KafkaExtension.class)
class TakeOverBenchIT {

    private static final int FINISHED = 10_000;
    private static final int ACTIVE = 100;
    private static final int PARTITION = 0;

    @Test
    @Timeout(value = 15, unit = TimeUnit.MINUTES)
    void measureTakeOverBeforeAndAfterRetirement(KafkaCluster kafka) throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("sluice.bench"), "a measurement: run with -Dsluice.bench=true");
        kafka.ensureSluiceTopics();
        String prefix = kafka.uniqueRunId("bench");
        List<String> ids = idsOnPartition(prefix, FINISHED + ACTIVE);
        long t0 = System.nanoTime();
        int written = writeHistory(kafka, ids);
        System.out.printf("history: %d finished + %d active runs on partition %d, %d records, written in %d ms%n",
                FINISHED, ACTIVE, PARTITION, written, ms(t0));

        String group = "bench-" + prefix;
        Topic ledgerBefore = size(kafka, Topics.LEDGER);
        Topic runsBefore = size(kafka, Topics.RUNS);
        long before = takeOver(kafka, group, "before", Duration.ofHours(1));

        // a coordinator with retention zero retires every finished run it takes over
        compactFast(kafka);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Coordinator retirer = new Coordinator(config(kafka, group, "retirer", Duration.ZERO), registry).start();
        try {
            await("every finished run retired").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> retired(kafka, ids.subList(0, FINISHED)));
        } finally {
            retirer.close();
        }
        // The cleaner never cleans a partition's active segment: a record appended after segment.ms rolls it.
        await("the log cleaner compacted the ledger").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(5))
                .until(() -> {
                    rollSegments(kafka);
                    return size(kafka, Topics.LEDGER).records() < ledgerBefore.records() / 3;
                });
        Topic ledgerAfter = size(kafka, Topics.LEDGER);
        Topic runsAfter = size(kafka, Topics.RUNS);
        long after = takeOver(kafka, group, "after", Duration.ofHours(1));

        System.out.printf("take-over of partition %d before retirement: %d ms (ledger %d records, %d KiB; runs %d records, "
                        + "%d KiB)%n", PARTITION, before, ledgerBefore.records(), ledgerBefore.bytes() / 1024,
                runsBefore.records(), runsBefore.bytes() / 1024);
        System.out.printf("take-over of partition %d after retirement:  %d ms (ledger %d records, %d KiB; runs %d records, "
                        + "%d KiB)%n", PARTITION, after, ledgerAfter.records(), ledgerAfter.bytes() / 1024,
                runsAfter.records(), runsAfter.bytes() / 1024);
        assertThat(ledgerAfter.records()).isLessThan(ledgerBefore.records());
    }

    /** Starts a coordinator and times it from start to every active run of the partition restored. */
    private static long takeOver(KafkaCluster kafka, String group, String name, Duration retention) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        String instance = name + "-" + System.nanoTime();
        long t0 = System.nanoTime();
        Coordinator c = new Coordinator(config(kafka, group, instance, retention), registry).start();
        try {
            await("take-over " + name).atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(10)).until(() -> {
                Gauge restoring = registry.find("sluice.coordinator.partitions.restoring").tag("coordinator", instance).gauge();
                Gauge active = registry.find("sluice.coordinator.runs.active").tag("coordinator", instance).gauge();
                return restoring != null && active != null && restoring.value() == 0 && active.value() >= ACTIVE;
            });
            return ms(t0);
        } finally {
            c.close();
        }
    }

    private static CoordinatorConfig config(KafkaCluster kafka, String group, String instance, Duration retention) {
        return CoordinatorConfig.of(kafka.bootstrapServers(), instance).withGroupId(group)
                .withFinishedRunRetention(retention);
    }

    /** Run ids whose records land on {@link #PARTITION}. */
    private static List<String> idsOnPartition(String prefix, int n) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; ids.size() < n; i++) {
            String id = prefix + "-" + i;
            if (Topics.partitionFor(id, Topics.DEFAULT_RUN_PARTITIONS) == PARTITION) {
                ids.add(id);
            }
        }
        return ids;
    }

    /**
     * The runs topic and ledger as a coordinator that never retired runs leaves them: the first runs finished (every
     * leaf succeeded), the last ones just begun. The entries are the real fold's.
     */
    private static int writeHistory(KafkaCluster kafka, List<String> ids) throws Exception {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        int written = 0;
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < ids.size(); i++) {
                String id = ids.get(i);
                boolean finished = i < FINISHED;
                Submission s = new SubmissionValidator().parse(("""
                        {"run_id": "%s", "workflow": {"id": "w", "budget": {"max_tokens": 1000}, "nodes": [
                         {"kind": "branch", "id": "b", "leaf_max_tokens": 100, "nodes": [
                          {"kind": "leaf", "id": "l", "executor": "simulated", "repeat": 3,
                           "input": {"turns": [{"input_tokens": 10, "output_tokens": 10}]}}]}]}}""".formatted(id))
                        .getBytes(StandardCharsets.UTF_8));
                long now = 1_700_000_000_000L + i;
                RunLedger ledger = RunLedger.create(s, LedgerConfig.defaults(), now);
                List<Decisions> calls = new ArrayList<>(List.of(ledger.begin(now)));
                if (finished) {
                    for (LeafTask t : calls.get(0).tasks()) {
                        calls.add(ledger.onUsage(new UsageEvent(id, t.path(), 1, "bench", 1, 10, 10, 1, false,
                                Status.RUNNING, null, null, now), now));
                        calls.add(ledger.onUsage(new UsageEvent(id, t.path(), 1, "bench", 2, 0, 0, 0, true,
                                Status.SUCCEEDED, null, null, now), now));
                    }
                }
                for (Decisions d : calls) {
                    for (LedgerEntry e : d.entries()) {
                        producer.send(new ProducerRecord<>(Topics.LEDGER, PARTITION, e.key(), Json.write(e)));
                        written++;
                    }
                }
                RunRecord record = new RunRecord(id, s, new Source(PARTITION, i), now, finished, now);
                producer.send(new ProducerRecord<>(Topics.RUNS, PARTITION, id, Json.write(record)));
                written++;
            }
            producer.flush();
        }
        return written;
    }

    /** Lets the log cleaner compact the ledger and runs topics within seconds instead of minutes. */
    private static void compactFast(KafkaCluster kafka) throws Exception {
        List<AlterConfigOp> ops = List.of(
                new AlterConfigOp(new ConfigEntry("segment.ms", "1000"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("min.cleanable.dirty.ratio", "0.01"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("delete.retention.ms", "0"), AlterConfigOp.OpType.SET));
        Map<ConfigResource, java.util.Collection<AlterConfigOp>> changes = new HashMap<>();
        changes.put(new ConfigResource(ConfigResource.Type.TOPIC, Topics.LEDGER), ops);
        changes.put(new ConfigResource(ConfigResource.Type.TOPIC, Topics.RUNS), ops);
        kafka.admin().incrementalAlterConfigs(changes).all().get(30, TimeUnit.SECONDS);
    }

    /** A tombstone of a key no run has, on the bench partition of the ledger and runs topics. */
    private static void rollSegments(KafkaCluster kafka) throws Exception {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.LEDGER, PARTITION, "bench-roll|w", null)).get(30, TimeUnit.SECONDS);
            producer.send(new ProducerRecord<>(Topics.RUNS, PARTITION, "bench-roll", null)).get(30, TimeUnit.SECONDS);
        }
    }

    private static boolean retired(KafkaCluster kafka, List<String> finished) {
        Map<String, Boolean> latest = new HashMap<>();
        readAll(kafka, Topics.RUNS, r -> {
            if (r.value() != null) {
                RunRecord rec = Json.read(r.value(), RunRecord.class);
                latest.put(rec.runId(), rec.isRetired());
            }
        });
        return finished.stream().allMatch(id -> Boolean.TRUE.equals(latest.get(id)));
    }

    private record Topic(long records, long bytes) {
    }

    private static Topic size(KafkaCluster kafka, String topic) {
        long[] n = new long[2];
        readAll(kafka, topic, r -> {
            n[0]++;
            n[1] += (r.key() == null ? 0 : r.key().length()) + (r.value() == null ? 0 : r.value().length);
        });
        return new Topic(n[0], n[1]);
    }

    private static void readAll(KafkaCluster kafka, String topic, java.util.function.Consumer<ConsumerRecord<String, byte[]>> each) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(Topics.MAX_MESSAGE_BYTES));
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, PARTITION);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            while (c.position(tp) < end) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    each.accept(r);
                }
            }
        }
    }

    private static long ms(long t0) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }
}
