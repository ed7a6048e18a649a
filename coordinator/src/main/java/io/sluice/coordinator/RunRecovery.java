package io.sluice.coordinator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.sluice.schemas.Json;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.RunRecord;
import io.sluice.schemas.Topics;
import io.sluice.schemas.WireFormatException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads what a coordinator needs to take over the runs of one partition: the latest {@link RunRecord} of every
 * run on {@link Topics#RUNS} and the latest {@link LedgerEntry} of every node of the unfinished ones on
 * {@link Topics#LEDGER}, both read_committed up to their last stable offset.
 *
 * <p>Why that is the right state: the coordinator commits ledger entries, run records and the offsets of the
 * inputs they came from in one transaction, so the committed ledger describes each run exactly as of the
 * committed input offsets, where the group resumes consuming. Thread-safety: used by the loop thread only.
 */
final class RunRecovery {

    private static final Logger log = LoggerFactory.getLogger(RunRecovery.class);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

    private final Consumer<String, byte[]> consumer;

    /** @param consumer an unsubscribed consumer with isolation.level=read_committed, owned by the caller */
    RunRecovery(Consumer<String, byte[]> consumer) {
        this.consumer = consumer;
    }

    /** A run to restore, with its ledger entries keyed by path. */
    record Recovered(RunRecord run, Map<String, LedgerEntry> entries) {
    }

    /** The partition's runs: unfinished ones to restore, and the ids of finished ones (to refuse reuse). */
    record PartitionState(List<Recovered> unfinished, List<String> finished) {
    }

    PartitionState read(int partition) {
        Map<String, RunRecord> runs = new LinkedHashMap<>();
        readToEnd(new TopicPartition(Topics.RUNS, partition), record -> {
            if (record.value() == null) {
                runs.remove(record.key());
                return;
            }
            RunRecord run = Json.read(record.value(), RunRecord.class);
            runs.put(run.runId(), run);
        });
        Map<String, Map<String, LedgerEntry>> entries = new HashMap<>();
        List<String> finished = new ArrayList<>();
        for (RunRecord run : runs.values()) {
            if (run.finished()) {
                finished.add(run.runId());
            } else {
                entries.put(run.runId(), new LinkedHashMap<>());
            }
        }
        if (!entries.isEmpty()) {
            readToEnd(new TopicPartition(Topics.LEDGER, partition), record -> {
                if (record.value() == null) {
                    return;
                }
                LedgerEntry entry = Json.read(record.value(), LedgerEntry.class);
                Map<String, LedgerEntry> ofRun = entries.get(entry.runId());
                if (ofRun != null) {
                    ofRun.put(entry.path(), entry);
                }
            });
        }
        List<Recovered> unfinished = new ArrayList<>();
        for (RunRecord run : runs.values()) {
            if (!run.finished()) {
                unfinished.add(new Recovered(run, entries.get(run.runId())));
            }
        }
        return new PartitionState(unfinished, finished);
    }

    private void readToEnd(TopicPartition tp, java.util.function.Consumer<ConsumerRecord<String, byte[]>> onRecord) {
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        long end = consumer.endOffsets(List.of(tp)).get(tp); // the last stable offset under read_committed
        long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
        while (consumer.position(tp) < end) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("cannot read " + tp + " to offset " + end + " within " + READ_TIMEOUT);
            }
            for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                if (record.offset() >= end) {
                    break;
                }
                try {
                    onRecord.accept(record);
                } catch (WireFormatException e) {
                    // Not ours to repair: a record we cannot read cannot be part of a run we restore.
                    log.warn("skipping unreadable record {}-{}@{}: {}", tp.topic(), tp.partition(), record.offset(), e.getMessage());
                }
            }
        }
        consumer.assign(List.of());
    }
}
