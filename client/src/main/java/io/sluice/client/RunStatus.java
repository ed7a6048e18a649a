package io.sluice.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Topics;
import io.sluice.schemas.WireFormatException;
import io.sluice.schemas.WireRecords;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Where a run stands, read from what the coordinator committed: its latest receipt on {@code sluice.results} (kept for
 * the topic's retention, so also of a run that finished long ago) and its latest ledger entries (the compacted
 * {@code sluice.ledger}; a finished run's are deleted once it is retired).
 *
 * @param receipt the latest receipt of the run id, if any
 * @param entries the run's latest ledger entry per path, in the order first seen (the workflow first)
 */
public record RunStatus(String runId, Receipt receipt, Map<String, LedgerEntry> entries) {

    /** True when nothing of the run is on the cluster: no receipt, no ledger entry. */
    public boolean unknown() {
        return receipt == null && entries.isEmpty();
    }

    public Optional<Receipt> finished() {
        return Optional.ofNullable(receipt);
    }

    /** The workflow's latest entry, if the run is (or was) on the ledger. */
    public Optional<LedgerEntry> root() {
        return entries.values().stream().filter(e -> !e.path().contains("/")).findFirst();
    }

    /**
     * Reads the run's partitions of the results and ledger topics from their beginning to their end as they are now.
     *
     * @throws IllegalStateException when they cannot be read within {@code timeout}
     */
    static RunStatus read(String bootstrapServers, Map<String, String> clientProperties, String runId, Duration timeout) {
        Map<String, Object> p = new HashMap<>(clientProperties);
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(Topics.MAX_MESSAGE_BYTES));
        String keyPrefix = Topics.ledgerKey(runId, "");
        Receipt receipt = null;
        Map<String, LedgerEntry> entries = new LinkedHashMap<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition ledger = new TopicPartition(Topics.LEDGER, Topics.partitionFor(runId, consumer.partitionsFor(Topics.LEDGER).size()));
            TopicPartition results = new TopicPartition(Topics.RESULTS, Topics.partitionFor(runId, consumer.partitionsFor(Topics.RESULTS).size()));
            List<TopicPartition> parts = List.of(ledger, results);
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts, timeout);
            List<TopicPartition> open = new ArrayList<>(parts);
            while (!open.isEmpty()) {
                open.removeIf(tp -> consumer.position(tp) >= end.get(tp));
                if (open.isEmpty()) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("run " + runId + ": cannot read its partitions within " + timeout);
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.key() == null || r.value() == null) {
                        continue;
                    }
                    try {
                        if (r.topic().equals(Topics.LEDGER) && r.key().startsWith(keyPrefix)) {
                            LedgerEntry e = WireRecords.decode(r.value(), LedgerEntry.class);
                            entries.put(e.path(), e);
                        } else if (r.topic().equals(Topics.RESULTS) && r.key().equals(runId)) {
                            receipt = WireRecords.decode(r.value(), Receipt.class);
                        }
                    } catch (WireFormatException e) {
                        // not a record of the run's kind: the coordinator dead-letters such records; a reader skips them
                    }
                }
            }
        }
        return new RunStatus(runId, receipt, entries);
    }
}
