package io.sluice.coordinator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.RunRecord;
import io.sluice.schemas.Topics;
import io.sluice.schemas.WireFormatException;
import io.sluice.schemas.WireRecords;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads what a coordinator needs to take over the runs of one partition: the latest {@link RunRecord} of every
 * run on {@link Topics#RUNS} and the latest {@link LedgerEntry} of every node of the unfinished ones on
 * {@link Topics#LEDGER}, both read_committed up to their last stable offset.
 *
 * <p>Why that is the right state: the coordinator commits ledger entries, run records and the offsets of the
 * inputs they came from in one transaction, so the committed ledger describes each run exactly as of the
 * committed input offsets, where the group resumes consuming. The caller reads those committed offsets first:
 * a consumer with {@code read_committed} waits for a transaction still open on them, so a previous owner's last
 * transaction has ended (committed or aborted) before its ledger is read.
 *
 * <p>Every record is decoded defensively ({@link WireRecords}): one that is not what its topic holds — null, a value
 * that is no record, a run record under another run's key — is reported as {@link Unreadable} (the caller
 * dead-letters it) and skipped; a tombstone removes its key, as the log cleaner will. A record about a run is kept
 * whatever else is wrong with the run: whether the run can be rebuilt from it is the ledger's to decide.
 *
 * <p>Thread-safety: used by the loop thread only.
 */
final class RunRecovery {

    static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

    private final Consumer<String, byte[]> consumer;

    /** @param consumer an unsubscribed consumer with isolation.level=read_committed, owned by the caller */
    RunRecovery(Consumer<String, byte[]> consumer) {
        this.consumer = consumer;
    }

    /** A run to restore, with its ledger entries keyed by path. */
    record Recovered(RunRecord run, Map<String, LedgerEntry> entries) {
    }

    /** A record that cannot be used, and why. */
    record Unreadable(ConsumerRecord<String, byte[]> record, String runId, String kind, String reason) {
    }

    /**
     * The partition's runs: unfinished ones to restore, finished ones (their records; retired ones keep only the
     * id), and what could not be read.
     */
    record PartitionState(int partition, List<Recovered> unfinished, List<RunRecord> finished, List<Unreadable> unreadable) {
    }

    PartitionState read(int partition) {
        List<Unreadable> unreadable = new ArrayList<>();
        Map<String, RunRecord> runs = new LinkedHashMap<>();
        readToEnd(new TopicPartition(Topics.RUNS, partition), record -> {
            if (record.value() == null) {
                if (record.key() != null) {
                    runs.remove(record.key());
                }
                return;
            }
            RunRecord run;
            try {
                run = WireRecords.decode(record.value(), RunRecord.class);
            } catch (WireFormatException e) {
                unreadable.add(new Unreadable(record, record.key(), "run", e.getMessage()));
                return;
            }
            if (!run.runId().equals(record.key())) {
                unreadable.add(new Unreadable(record, record.key(), "run", "key: '" + record.key()
                        + "' is not the run id '" + run.runId() + "' of the record"));
                return;
            }
            runs.put(run.runId(), run);
        });
        Map<String, Map<String, LedgerEntry>> entries = new HashMap<>();
        List<RunRecord> finished = new ArrayList<>();
        for (RunRecord run : runs.values()) {
            if (run.finished()) {
                finished.add(run);
            } else {
                entries.put(run.runId(), new LinkedHashMap<>());
            }
        }
        if (!entries.isEmpty()) {
            readToEnd(new TopicPartition(Topics.LEDGER, partition), record -> {
                String keyRun = runOfKey(record.key());
                if (record.value() == null) {
                    Map<String, LedgerEntry> ofRun = entries.get(keyRun);
                    if (ofRun != null) {
                        ofRun.remove(record.key().substring(keyRun.length() + 1));
                    }
                    return;
                }
                if (keyRun != null && !entries.containsKey(keyRun)) {
                    return; // a finished run's: not needed, and not decoded
                }
                LedgerEntry entry;
                try {
                    entry = WireRecords.decode(record.value(), LedgerEntry.class);
                } catch (WireFormatException e) {
                    unreadable.add(new Unreadable(record, keyRun, "ledger", e.getMessage()));
                    return;
                }
                if (!entry.key().equals(record.key())) {
                    unreadable.add(new Unreadable(record, keyRun, "ledger", "key: '" + record.key()
                            + "' is not the key '" + entry.key() + "' of the entry"));
                    return;
                }
                entries.get(entry.runId()).put(entry.path(), entry);
            });
        }
        List<Recovered> unfinished = new ArrayList<>();
        for (RunRecord run : runs.values()) {
            if (!run.finished()) {
                unfinished.add(new Recovered(run, entries.get(run.runId())));
            }
        }
        return new PartitionState(partition, unfinished, finished, unreadable);
    }

    /** The run id of a ledger or control key ({@code run|path}), or null when the key is none. */
    static String runOfKey(String key) {
        if (key == null) {
            return null;
        }
        int bar = key.indexOf('|'); // run ids never hold '|'
        return bar <= 0 ? null : key.substring(0, bar);
    }

    private void readToEnd(TopicPartition tp, java.util.function.Consumer<ConsumerRecord<String, byte[]>> onRecord) {
        consumer.assign(List.of(tp));
        try {
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
                    onRecord.accept(record);
                }
            }
        } finally {
            consumer.assign(List.of());
        }
    }
}
