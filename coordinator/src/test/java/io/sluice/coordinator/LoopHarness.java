package io.sluice.coordinator;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.schemas.Json;
import io.sluice.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.clients.consumer.internals.AutoOffsetResetStrategy;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A {@link CoordinatorLoop} on its own thread over {@link MockConsumer}s and {@link MockProducer}s: input records are
 * delivered to it, what it publishes is read back, and the runs and ledger topics it restores from can be filled
 * before it starts. For tests of the Kafka shell; the budget rules are tested on {@code RunLedger}, the real-broker
 * behaviour in the system tests.
 */
final class LoopHarness implements AutoCloseable {

    static final int PARTITIONS = 3;

    final MockConsumer<String, byte[]> consumer = new MockConsumer<>(AutoOffsetResetStrategy.EARLIEST.name());
    /** What the runs and ledger topics hold: handed to the restore consumer each time it is assigned a partition. */
    final Map<TopicPartition, List<ConsumerRecord<String, byte[]>>> stored = new HashMap<>();
    final MockConsumer<String, byte[]> restoreConsumer = new StoredTopicsConsumer();
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    /** Every producer the loop asked for: it replaces its producer after a failed transaction. */
    final List<MockProducer<String, byte[]>> producers = new CopyOnWriteArrayList<>();
    final MockProducer<String, byte[]> producer;
    private final Cluster cluster;
    private final CoordinatorLoop loop;
    private final Map<TopicPartition, Long> nextOffset = new HashMap<>();
    private Thread thread;

    LoopHarness(CoordinatorConfig config) {
        Node node = new Node(1, "localhost", 9092);
        List<PartitionInfo> infos = new ArrayList<>();
        for (Topics.Spec spec : Topics.all()) {
            for (int p = 0; p < spec.partitions(); p++) {
                infos.add(new PartitionInfo(spec.name(), p, node, new Node[] {node}, new Node[] {node}));
            }
        }
        cluster = new Cluster("c", List.of(node), infos, Set.of(), Set.of());
        producer = newProducer();
        loop = new CoordinatorLoop(config, () -> consumer, () -> restoreConsumer,
                () -> producers.isEmpty() ? register(producer) : register(newProducer()), Clock.systemUTC(), registry);
    }

    LoopHarness() {
        this(CoordinatorConfig.of("unused:9092", "test"));
    }

    /** A record on the runs or ledger topic, there before the loop starts. */
    void store(String topic, String key, String json) {
        TopicPartition tp = new TopicPartition(topic, Topics.partitionFor(key.contains("|") ? key.substring(0, key.indexOf('|')) : key, PARTITIONS));
        List<ConsumerRecord<String, byte[]>> records = stored.computeIfAbsent(tp, t -> new ArrayList<>());
        records.add(new ConsumerRecord<>(topic, tp.partition(), records.size(), key,
                json == null ? null : json.getBytes(StandardCharsets.UTF_8)));
    }

    LoopHarness start() {
        List<TopicPartition> assigned = new ArrayList<>();
        Map<TopicPartition, Long> begin = new HashMap<>();
        for (String topic : CoordinatorLoop.INPUTS) {
            for (int p = 0; p < PARTITIONS; p++) {
                TopicPartition tp = new TopicPartition(topic, p);
                assigned.add(tp);
                begin.put(tp, 0L);
                nextOffset.put(tp, 0L);
            }
        }
        consumer.updateBeginningOffsets(begin);
        Map<TopicPartition, Long> starts = new HashMap<>();
        Map<TopicPartition, Long> ends = new HashMap<>();
        for (String topic : List.of(Topics.RUNS, Topics.LEDGER)) {
            for (int p = 0; p < PARTITIONS; p++) {
                TopicPartition tp = new TopicPartition(topic, p);
                starts.put(tp, 0L);
                ends.put(tp, (long) stored.getOrDefault(tp, List.of()).size());
            }
        }
        restoreConsumer.updateBeginningOffsets(starts);
        restoreConsumer.updateEndOffsets(ends);
        consumer.schedulePollTask(() -> consumer.rebalance(assigned));
        thread = new Thread(loop, "test-coordinator-loop");
        thread.start();
        return this;
    }

    private MockProducer<String, byte[]> newProducer() {
        return new MockProducer<>(cluster, true, null, new StringSerializer(), new ByteArraySerializer());
    }

    private MockProducer<String, byte[]> register(MockProducer<String, byte[]> p) {
        producers.add(p);
        return p;
    }

    /** Delivers a record on the partition its key goes to (partition 0 without a key); null json is a tombstone. */
    void deliver(String topic, String key, String json) {
        deliver(topic, key == null ? 0 : Topics.partitionFor(key, PARTITIONS), key, json);
    }

    void deliver(String topic, int partition, String key, String json) {
        TopicPartition tp = new TopicPartition(topic, partition);
        long offset = nextOffset.merge(tp, 1L, Long::sum) - 1;
        byte[] value = json == null ? null : json.getBytes(StandardCharsets.UTF_8);
        long writtenAt = System.currentTimeMillis(); // a broker stamps every record
        consumer.schedulePollTask(() -> consumer.addRecord(new ConsumerRecord<>(topic, tp.partition(), offset, writtenAt,
                TimestampType.CREATE_TIME, -1, -1, key, value, new RecordHeaders(), Optional.empty())));
    }

    /** What the loop sent to a topic, in every producer it used. */
    List<ProducerRecord<String, byte[]>> sent(String topic) {
        List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
        for (MockProducer<String, byte[]> p : producers) {
            p.history().stream().filter(r -> r.topic().equals(topic)).forEach(out::add);
        }
        return out;
    }

    <T> List<T> sent(String topic, Class<T> type) {
        return sent(topic).stream().filter(r -> r.value() != null).map(r -> Json.read(r.value(), type)).toList();
    }

    boolean loopAlive() {
        return thread.isAlive();
    }

    @Override
    public void close() {
        loop.stop();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Hands the stored records of a partition to the reader each time it is assigned it, as a broker would. */
    private final class StoredTopicsConsumer extends MockConsumer<String, byte[]> {

        StoredTopicsConsumer() {
            super(AutoOffsetResetStrategy.EARLIEST.name());
        }

        @Override
        public synchronized void assign(Collection<TopicPartition> partitions) {
            super.assign(partitions);
            for (TopicPartition tp : partitions) {
                stored.getOrDefault(tp, List.of()).forEach(this::addRecord);
            }
        }
    }
}
