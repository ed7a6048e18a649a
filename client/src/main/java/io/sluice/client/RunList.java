package io.sluice.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.RunRecord;
import io.sluice.schemas.Status;
import io.sluice.schemas.Topics;
import io.sluice.schemas.WireRecords;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * The runs a cluster knows, read from what the coordinators committed: {@code sluice.runs} (one compacted record per
 * run, retired ones included), each finished run's receipt on {@code sluice.results} and each running run's workflow
 * entry on {@code sluice.ledger}. Reads every partition of the three topics from the beginning to its current end.
 */
public final class RunList {

    /**
     * One run.
     *
     * @param status       the receipt's status; running or pending from the ledger; null for a retired run (its
     *                     receipt past retention)
     * @param spentTokens  what the run spent so far, or in all
     * @param limitTokens  the workflow's {@code max_tokens}, or null
     */
    public record Summary(String runId, Status status, Mode mode, long spentTokens, Long limitTokens, long startedAtMs,
                          boolean retired) {
    }

    private RunList() {
    }

    /** Every run, newest first. */
    static List<Summary> read(String bootstrapServers, Map<String, String> clientProperties, Duration timeout) {
        Map<String, RunRecord> runs = new LinkedHashMap<>();
        Map<String, Receipt> receipts = new HashMap<>();
        Map<String, LedgerEntry> roots = new HashMap<>();
        CommittedReader.readToEnd(bootstrapServers, clientProperties, timeout, "the runs", consumer -> {
            List<TopicPartition> parts = new ArrayList<>();
            for (String topic : List.of(Topics.RUNS, Topics.RESULTS, Topics.LEDGER)) {
                for (PartitionInfo info : consumer.partitionsFor(topic, timeout)) {
                    parts.add(new TopicPartition(topic, info.partition()));
                }
            }
            return parts;
        }, r -> {
            switch (r.topic()) {
                case Topics.RUNS -> {
                    RunRecord rec = WireRecords.decode(r.value(), RunRecord.class);
                    runs.put(rec.runId(), rec);
                }
                case Topics.RESULTS -> {
                    if (Topics.isRunId(r.key())) {
                        receipts.put(r.key(), WireRecords.decode(r.value(), Receipt.class));
                    }
                }
                default -> {
                    int bar = r.key().indexOf('|');
                    if (bar > 0 && r.key().indexOf('/', bar) < 0) { // a workflow's entry: no '/' in its path
                        LedgerEntry e = WireRecords.decode(r.value(), LedgerEntry.class);
                        roots.put(e.runId(), e);
                    }
                }
            }
        });
        List<Summary> out = new ArrayList<>();
        for (RunRecord rec : runs.values()) {
            Receipt receipt = receipts.get(rec.runId());
            LedgerEntry root = receipt != null && !receipt.nodes().isEmpty() ? receipt.nodes().get(0) : roots.get(rec.runId());
            Status status = receipt != null ? receipt.status() : root != null ? root.status() : rec.finished() ? null : Status.PENDING;
            Mode mode = receipt != null ? receipt.mode() : rec.submission() != null ? rec.submission().mode() : null;
            long spent = root == null || root.spent() == null ? 0 : root.spent().totalTokens();
            Long limit = root != null && root.limits() != null ? root.limits().maxTokens()
                    : rec.submission() != null ? rec.submission().workflow().budget().maxTokens() : null;
            out.add(new Summary(rec.runId(), status, mode, spent, limit, rec.startedAtMs(), Boolean.TRUE.equals(rec.retired())));
        }
        out.sort(Comparator.comparingLong(Summary::startedAtMs).reversed());
        return out;
    }
}
