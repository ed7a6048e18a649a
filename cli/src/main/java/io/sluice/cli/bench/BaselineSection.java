package io.sluice.cli.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.sluice.schemas.Topics;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Raw Kafka on the same broker, the ceiling Sluice's figures are compared with. On a fresh topic with the partitions
 * and configs of {@code sluice.tasks}, records of the size of a real serialised {@code LeafTask} (the first task the
 * coordinator's ledger dispatches for the overshoot workflow), keyed like tasks ({@code run|path}):
 * <ul>
 *   <li>produce: {@code records} sends with raw producer settings (acks=all, linger 1 ms, not idempotent: see {@link #rawProducerProps}),
 *       timed from the first send to {@code flush()} returning;</li>
 *   <li>consume: a plain consumer without a group ({@code read_committed}, assigned every partition from the start),
 *       timed from its first poll until it holds every record;</li>
 *   <li>share consume: a share consumer of a fresh share group ({@code share.auto.offset.reset=earliest}, explicit
 *       acknowledgement: {@code ACCEPT} each record, {@code commitSync()} after each poll) as workers read tasks, timed
 *       from its first record to its last (the time to its first record, the group join, reported apart);</li>
 *   <li>latency: one record in flight at a time, from {@code send()} to the consumer's {@code poll()} returning it
 *       (linger 0 here, so the figure is the broker's path), after 50 unmeasured round trips.</li>
 * </ul>
 * The topic is deleted afterwards.
 */
final class BaselineSection implements BenchSection {

    static final Duration STEP_TIMEOUT = Duration.ofMinutes(3);
    static final int LATENCY_WARMUP = 50;

    /**
     * @param records        records produced and consumed (each way)
     * @param latencySamples produce→consume round trips measured
     */
    record Params(int records, int latencySamples) {
        static final int DEFAULT_RECORDS = 200_000;
        static final int DEFAULT_LATENCY_SAMPLES = 1_000;

        Params {
            OptionChecks.range("--baseline-records", records, 100, 100_000_000);
            OptionChecks.range("--latency-samples", latencySamples, 10, 1_000_000);
        }
    }

    record Result(String topic, int partitions, int recordBytes, int records, double produceRecordsPerS,
                  double produceMbPerS, double consumeRecordsPerS, Double shareConsumeRecordsPerS,
                  Long shareFirstRecordMs, String shareError, int latencySamples, double latencyP50Ms,
                  double latencyP99Ms, double latencyMaxMs) implements SectionResult {

        @Override
        public List<Figure> figures() {
            String shape = recordBytes + " B records, " + partitions + " partitions";
            List<Figure> f = new ArrayList<>();
            f.add(Figure.of("produce", produceRecordsPerS, "rec/s", shape + ", acks=all, linger 1 ms, not idempotent"));
            f.add(Figure.of("consume", consumeRecordsPerS, "rec/s", "plain consumer, read_committed"));
            f.add(shareError == null
                    ? Figure.of("share consume", shareConsumeRecordsPerS, "rec/s",
                            "explicit ACCEPT + commitSync per poll; first record after " + shareFirstRecordMs + " ms")
                    : Figure.of("share consume", "error: " + shareError, null));
            f.add(Figure.of("produce→consume p50", latencyP50Ms, "ms", "one record in flight, " + latencySamples + " samples"));
            f.add(Figure.of("produce→consume p99", latencyP99Ms, "ms", "max " + BenchTable.number(latencyMaxMs) + " ms"));
            return f;
        }
    }

    @Override
    public SectionName name() {
        return SectionName.BASELINE;
    }

    @Override
    public SectionResult run(BenchContext ctx) throws Exception {
        Params params = ctx.config().baseline();
        String bootstrap = ctx.bootstrapServers();
        byte[] value = BenchWorkflows.representativeTask();
        Topics.Spec tasks = Topics.all().stream().filter(s -> s.name().equals(Topics.TASKS)).findFirst().orElseThrow();
        String topic = "sluice.bench.baseline-" + UUID.randomUUID().toString().substring(0, 8);
        ctx.cluster().createTopicLike(topic, tasks);
        try {
            ctx.log("  producing %,d records of %d B to %s…", params.records(), value.length, topic);
            double produceSeconds = produce(bootstrap, topic, value, params.records());
            ctx.log("  consuming them…");
            double consumeSeconds = consume(bootstrap, topic, params.records());
            ctx.log("  consuming them with a share consumer…");
            Double shareRate = null;
            Long shareFirst = null;
            String shareError = null;
            try {
                long[] share = shareConsume(ctx, topic, params.records());
                shareFirst = share[0];
                shareRate = params.records() / (share[1] / 1e9);
            } catch (RuntimeException e) {
                shareError = e.getMessage();
            }
            ctx.log("  %d produce→consume round trips…", params.latencySamples());
            List<Double> latencies = latencies(bootstrap, topic, value, params.latencySamples());
            Percentiles p = Percentiles.of(latencies);
            double produceRate = params.records() / produceSeconds;
            return new Result(topic, tasks.partitions(), value.length, params.records(), produceRate,
                    produceRate * value.length / 1e6, params.records() / consumeSeconds, shareRate, shareFirst, shareError,
                    params.latencySamples(), p.p50(), p.p99(), p.max());
        } finally {
            ctx.cluster().deleteTopicQuietly(topic);
        }
    }

    /**
     * Raw Kafka for the baseline: acks=all, linger 1 ms, not idempotent. (An idempotent producer here got
     * OutOfOrderSequenceException from a fresh embedded broker in 2 of 3 fresh-clone CI runs, its first sends
     * re-sent at sequence 0, until its batches expired; not understood yet.)
     */
    static Map<String, Object> rawProducerProps(String bootstrap, int lingerMs) {
        Map<String, Object> p = producerProps(bootstrap, lingerMs);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        return p;
    }

    /** Coordinator-like producer settings: acks=all, idempotent, linger 1 ms. */
    static Map<String, Object> producerProps(String bootstrap, int lingerMs) {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, Integer.toString(lingerMs));
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(Topics.MAX_MESSAGE_BYTES));
        return p;
    }

    private static double produce(String bootstrap, String topic, byte[] value, int records) throws InterruptedException {
        AtomicLong failed = new AtomicLong();
        AtomicReference<Exception> firstFailure = new AtomicReference<>();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(rawProducerProps(bootstrap, 1), new StringSerializer(),
                new ByteArraySerializer())) {
            producer.partitionsFor(topic); // metadata before the clock starts
            long start = System.nanoTime();
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(topic, "run-bench0000000|noop/noop[" + i + "]", value), (md, e) -> {
                    if (e != null) {
                        failed.incrementAndGet();
                        firstFailure.compareAndSet(null, e);
                    }
                });
            }
            producer.flush();
            long elapsed = System.nanoTime() - start;
            if (failed.get() > 0) {
                throw new IllegalStateException(failed.get() + " sends failed: " + firstFailure.get().getMessage());
            }
            return elapsed / 1e9;
        }
    }

    static Map<String, Object> consumerProps(String bootstrap) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return p;
    }

    private static double consume(String bootstrap, String topic, int records) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(consumerProps(bootstrap), new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo pi : consumer.partitionsFor(topic)) {
                parts.add(new TopicPartition(topic, pi.partition()));
            }
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
            long start = System.nanoTime();
            long seen = 0;
            while (seen < records) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("consumed " + seen + " of " + records + " records within " + STEP_TIMEOUT);
                }
                seen += consumer.poll(Duration.ofMillis(100)).count();
            }
            return (System.nanoTime() - start) / 1e9;
        }
    }

    /** @return {ms to the first record, nanos from the first record to the last} */
    private static long[] shareConsume(BenchContext ctx, String topic, int records) throws InterruptedException {
        String group = "sluice-bench-share-" + UUID.randomUUID().toString().substring(0, 8);
        ConfigResource resource = new ConfigResource(ConfigResource.Type.GROUP, group);
        BenchCluster.get(ctx.cluster().admin().incrementalAlterConfigs(Map.of(resource, List.of(
                new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("share.isolation.level", "read_committed"), AlterConfigOp.OpType.SET))))
                .all());
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, ctx.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
        try (KafkaShareConsumer<String, byte[]> consumer = new KafkaShareConsumer<>(p, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long subscribed = System.nanoTime();
            long deadline = subscribed + STEP_TIMEOUT.toNanos();
            long first = 0;
            long seen = 0;
            while (seen < records) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("share-consumed " + seen + " of " + records + " records within "
                            + STEP_TIMEOUT);
                }
                ConsumerRecords<String, byte[]> batch = consumer.poll(Duration.ofMillis(100));
                if (batch.isEmpty()) {
                    continue;
                }
                if (first == 0) {
                    first = System.nanoTime();
                }
                for (ConsumerRecord<String, byte[]> r : batch) {
                    consumer.acknowledge(r, AcknowledgeType.ACCEPT);
                    seen++;
                }
                consumer.commitSync();
            }
            return new long[] {(first - subscribed) / 1_000_000, System.nanoTime() - first};
        } finally {
            try {
                BenchCluster.get(ctx.cluster().admin().deleteShareGroups(List.of(group)).all());
            } catch (RuntimeException e) {
                // an empty leftover group costs nothing
            }
        }
    }

    private static List<Double> latencies(String bootstrap, String topic, byte[] value, int samples) {
        TopicPartition tp = new TopicPartition(topic, 0);
        List<Double> out = new ArrayList<>(samples);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(rawProducerProps(bootstrap, 0), new StringSerializer(),
                new ByteArraySerializer());
             KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(consumerProps(bootstrap), new StringDeserializer(),
                     new ByteArrayDeserializer())) {
            consumer.assign(List.of(tp));
            consumer.seekToEnd(List.of(tp));
            consumer.position(tp);
            producer.partitionsFor(topic);
            for (int i = 0; i < LATENCY_WARMUP + samples; i++) {
                long start = System.nanoTime();
                producer.send(new ProducerRecord<>(topic, 0, "ping", value));
                long deadline = start + Duration.ofSeconds(30).toNanos();
                int got = 0;
                while (got == 0) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("round trip " + i + " did not come back within 30 s");
                    }
                    got = consumer.poll(Duration.ofMillis(500)).count();
                }
                if (i >= LATENCY_WARMUP) {
                    out.add((System.nanoTime() - start) / 1e6);
                }
            }
        }
        return out;
    }
}
