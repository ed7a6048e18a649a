package io.sluice.systemtest.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import io.sluice.schemas.Halt;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.Topics;
import io.sluice.schemas.UsageEvent;
import io.sluice.schemas.WireFormatException;
import io.sluice.schemas.WireRecords;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads back what a run really left on Kafka — usage events, tasks, ledger entries — as a {@code read_committed}
 * reader sees it now, in partition order, from any cluster (the shared test broker, or a broker in another process).
 *
 * <p>Thread-safety: stateless; each call uses a consumer of its own.
 */
public final class RunTopics {

    public static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    private final String bootstrapServers;

    public RunTopics(String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
    }

    /** Every usage event of the run, in the order the coordinator consumed them (the run's one partition). */
    public List<UsageEvent> usage(String runId) {
        return read(Topics.USAGE, runId, UsageEvent.class, e -> runId.equals(e.runId()));
    }

    /** Every task the coordinator published for the run (all partitions of the tasks topic). */
    public List<LeafTask> tasks(String runId) {
        return read(Topics.TASKS, null, LeafTask.class, t -> runId.equals(t.runId()));
    }

    /** The halts the coordinator published for the run. */
    public List<Halt> halts(String runId) {
        return read(Topics.CONTROL, runId, Halt.class, h -> runId.equals(h.runId()));
    }

    /** What went to the dead-letter topic about the run. */
    public List<Rejection> deadLetters(String runId) {
        return read(Topics.DLQ, null, Rejection.class, r -> runId.equals(r.runId()));
    }

    /** What went to the dead-letter topic about records of {@code sourceTopic}. */
    public List<Rejection> deadLettersOf(String sourceTopic) {
        return read(Topics.DLQ, null, Rejection.class, r -> sourceTopic.equals(r.sourceTopic()));
    }

    /** The latest ledger entry per node of the run, as a reader of the compacted topic sees it. */
    public Map<String, LedgerEntry> ledger(String runId) {
        Map<String, LedgerEntry> latest = new LinkedHashMap<>();
        for (LedgerEntry e : read(Topics.LEDGER, runId, LedgerEntry.class, x -> runId.equals(x.runId()))) {
            latest.put(e.path(), e);
        }
        return latest;
    }

    /**
     * Reads a topic (the run's partition when {@code runId} is given, else every partition) from the beginning to
     * its end as of now.
     */
    private <T> List<T> read(String topic, String runId, Class<T> type, Predicate<T> keep) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(Topics.MAX_MESSAGE_BYTES));
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "sluice-test-reader");
        List<T> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            int n = consumer.partitionsFor(topic, READ_TIMEOUT).size();
            List<TopicPartition> parts = new ArrayList<>();
            if (runId != null) {
                parts.add(new TopicPartition(topic, Topics.partitionFor(runId, n)));
            } else {
                for (int p = 0; p < n; p++) {
                    parts.add(new TopicPartition(topic, p));
                }
            }
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts, READ_TIMEOUT);
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (parts.stream().anyMatch(tp -> consumer.position(tp, READ_TIMEOUT) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + topic + " to its end " + end + " in " + READ_TIMEOUT);
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    T value;
                    try {
                        value = WireRecords.decode(r.value(), type);
                    } catch (WireFormatException e) {
                        continue; // a tombstone, or poison some test wrote on purpose: not the run's
                    }
                    if (keep.test(value)) {
                        out.add(value);
                    }
                }
            }
        }
        return out;
    }
}
