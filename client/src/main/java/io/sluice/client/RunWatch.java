package io.sluice.client;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Source;
import io.sluice.schemas.Topics;
import io.sluice.schemas.WireFormatException;
import io.sluice.schemas.WireRecords;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows one run: its ledger entries as the coordinator commits them, and its receipt on the results topic.
 *
 * <p>It reads only the partitions that hold the run (ledger and results are partitioned by run id) from their
 * current end, with {@code read_committed}, so it sees exactly what the coordinator committed. Once told which
 * submission it waits for ({@link #expect}), it takes only that submission's outcome: the receipt of the run it
 * started (which names the submission's source), or its rejection (keyed by that source) — never the receipt of
 * another submission of the same run id. A record it cannot read (not a ledger entry or receipt) is skipped with a
 * warning; it does not end the watch.
 *
 * <p>Not thread-safe: one thread polls it.
 */
public final class RunWatch implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RunWatch.class);

    private final String runId;
    private final String keyPrefix;
    private final KafkaConsumer<String, byte[]> consumer;
    private Source expected;
    private Receipt receipt;

    /** @param entries whether to read the run's ledger entries too (for {@link #poll}'s {@code onEntry}) */
    RunWatch(String bootstrapServers, Map<String, String> clientProperties, String runId, boolean entries) {
        this.runId = runId;
        this.keyPrefix = Topics.ledgerKey(runId, "");
        Map<String, Object> p = CommittedReader.consumerProperties(bootstrapServers, clientProperties);
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "50"); // a watch answers as soon as its record is there
        this.consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        TopicPartition ledger = new TopicPartition(Topics.LEDGER, Topics.partitionFor(runId, consumer.partitionsFor(Topics.LEDGER).size()));
        TopicPartition results = new TopicPartition(Topics.RESULTS, Topics.partitionFor(runId, consumer.partitionsFor(Topics.RESULTS).size()));
        List<TopicPartition> parts = entries ? List.of(ledger, results) : List.of(results);
        consumer.assign(parts);
        consumer.seekToEnd(parts);
        parts.forEach(consumer::position); // resolve the end offsets now, before the caller submits
    }

    public String runId() {
        return runId;
    }

    /**
     * Waits for the outcome of this submission only: its run's receipt, or its rejection. Without it, the watch takes
     * the first receipt of the run id.
     */
    public RunWatch expect(Submitted submitted) {
        if (!submitted.runId().equals(runId)) {
            throw new IllegalArgumentException("submission of run " + submitted.runId() + " given to the watch of " + runId);
        }
        this.expected = submitted.source();
        return this;
    }

    /**
     * Polls once: hands every new ledger entry of the run to {@code onEntry} (none for a watch of the receipt alone,
     * {@link SluiceClient#watchReceipt}) and returns the receipt once
     * it has arrived — for a submission that was refused, its {@code rejected} receipt.
     */
    public Optional<Receipt> poll(Duration timeout, Consumer<LedgerEntry> onEntry) {
        if (receipt != null) {
            return Optional.of(receipt);
        }
        for (ConsumerRecord<String, byte[]> record : consumer.poll(timeout)) {
            if (record.value() == null || record.key() == null) {
                continue;
            }
            try {
                if (Topics.LEDGER.equals(record.topic())) {
                    if (record.key().startsWith(keyPrefix)) {
                        onEntry.accept(WireRecords.decode(record.value(), LedgerEntry.class));
                    }
                } else if (receipt == null && isOurs(record.key())) {
                    Receipt r = WireRecords.decode(record.value(), Receipt.class);
                    if (expected == null || r.source() == null || expected.equals(r.source())) {
                        receipt = r;
                    }
                }
            } catch (WireFormatException e) {
                log.warn("run {}: record {}-{}@{} skipped: {}", runId, record.topic(), record.partition(), record.offset(),
                        e.getMessage());
            }
        }
        return Optional.ofNullable(receipt);
    }

    private boolean isOurs(String key) {
        return runId.equals(key) || (expected != null && Topics.rejectionKey(expected).equals(key));
    }

    /**
     * Waits for the run's receipt.
     *
     * @throws ReceiptTimeoutException when the receipt does not come within {@code timeout}
     */
    public Receipt await(Duration timeout, Consumer<LedgerEntry> onEntry) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Receipt> r = poll(Duration.ofMillis(100), onEntry);
            if (r.isPresent()) {
                return r.get();
            }
        }
        throw new ReceiptTimeoutException(runId, timeout);
    }

    @Override
    public void close() {
        consumer.close();
    }
}
