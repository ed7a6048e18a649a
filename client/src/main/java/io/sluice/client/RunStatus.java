package io.sluice.client;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Topics;
import io.sluice.schemas.WireRecords;
import org.apache.kafka.common.TopicPartition;

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

    /**
     * Reads the run's partitions of the results and ledger topics from their beginning to their end as they are now.
     *
     * @throws IllegalStateException when they cannot be read within {@code timeout}
     */
    static RunStatus read(String bootstrapServers, Map<String, String> clientProperties, String runId, Duration timeout) {
        String keyPrefix = Topics.ledgerKey(runId, "");
        Receipt[] receipt = new Receipt[1];
        Map<String, LedgerEntry> entries = new LinkedHashMap<>();
        CommittedReader.readToEnd(bootstrapServers, clientProperties, timeout, "the partitions of run " + runId,
                consumer -> List.of(
                        new TopicPartition(Topics.LEDGER, Topics.partitionFor(runId, consumer.partitionsFor(Topics.LEDGER).size())),
                        new TopicPartition(Topics.RESULTS, Topics.partitionFor(runId, consumer.partitionsFor(Topics.RESULTS).size()))),
                r -> {
                    if (r.topic().equals(Topics.LEDGER) && r.key().startsWith(keyPrefix)) {
                        LedgerEntry e = WireRecords.decode(r.value(), LedgerEntry.class);
                        entries.put(e.path(), e);
                    } else if (r.topic().equals(Topics.RESULTS) && r.key().equals(runId)) {
                        receipt[0] = WireRecords.decode(r.value(), Receipt.class);
                    }
                });
        return new RunStatus(runId, receipt[0], entries);
    }
}
