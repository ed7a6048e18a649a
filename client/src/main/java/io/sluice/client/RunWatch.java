package io.sluice.client;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import io.sluice.schemas.Json;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Follows one run: its ledger entries as the coordinator commits them, and its receipt on the results topic.
 *
 * <p>It reads only the partitions that hold the run (ledger and results are partitioned by run id) from
 * their current end, with {@code read_committed}, so it sees exactly what the coordinator committed. Not
 * thread-safe: one thread polls it.
 */
public final class RunWatch implements AutoCloseable {

    private final String runId;
    private final String keyPrefix;
    private final KafkaConsumer<String, byte[]> consumer;
    private Receipt receipt;

    RunWatch(String bootstrapServers, Map<String, String> clientProperties, String runId) {
        this.runId = runId;
        this.keyPrefix = Topics.ledgerKey(runId, "");
        Map<String, Object> p = new HashMap<>(clientProperties);
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "50");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(Topics.MAX_MESSAGE_BYTES));
        this.consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        TopicPartition ledger = new TopicPartition(Topics.LEDGER, Topics.partitionFor(runId, consumer.partitionsFor(Topics.LEDGER).size()));
        TopicPartition results = new TopicPartition(Topics.RESULTS, Topics.partitionFor(runId, consumer.partitionsFor(Topics.RESULTS).size()));
        List<TopicPartition> parts = List.of(ledger, results);
        consumer.assign(parts);
        consumer.seekToEnd(parts);
        parts.forEach(consumer::position); // resolve the end offsets now, before the caller submits
    }

    public String runId() {
        return runId;
    }

    /**
     * Polls once: hands every new ledger entry of the run to {@code onEntry} and returns the receipt once
     * it has arrived.
     */
    public Optional<Receipt> poll(Duration timeout, Consumer<LedgerEntry> onEntry) {
        if (receipt != null) {
            return Optional.of(receipt);
        }
        for (ConsumerRecord<String, byte[]> record : consumer.poll(timeout)) {
            if (record.value() == null) {
                continue;
            }
            if (Topics.LEDGER.equals(record.topic())) {
                if (record.key() != null && record.key().startsWith(keyPrefix)) {
                    onEntry.accept(Json.read(record.value(), LedgerEntry.class));
                }
            } else if (runId.equals(record.key())) {
                receipt = Json.read(record.value(), Receipt.class);
            }
        }
        return Optional.ofNullable(receipt);
    }

    /**
     * Waits for the run's receipt.
     *
     * @throws IllegalStateException when the receipt does not come within {@code timeout}
     */
    public Receipt await(Duration timeout, Consumer<LedgerEntry> onEntry) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Receipt> r = poll(Duration.ofMillis(100), onEntry);
            if (r.isPresent()) {
                return r.get();
            }
        }
        throw new IllegalStateException("run " + runId + ": no receipt within " + timeout);
    }

    @Override
    public void close() {
        consumer.close();
    }
}
