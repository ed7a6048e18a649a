package io.sluice.schemas;

import java.util.List;
import java.util.Map;

import org.apache.kafka.common.utils.Utils;

/**
 * Every topic Sluice uses, with its settings, in one place.
 *
 * <p>Submissions, usage, heartbeats, cancellations, runs, ledger, control and results are keyed (or, for the ledger and control topics,
 * partitioned) by run id and have the same partition count, so that one coordinator owning partition
 * {@code p} of the submissions owns everything about the runs on it: see {@link #partitionFor}.
 */
public final class Topics {

    public static final String SUBMISSIONS = "sluice.submissions";
    public static final String TASKS = "sluice.tasks";
    public static final String USAGE = "sluice.usage";
    public static final String LEDGER = "sluice.ledger";
    public static final String CONTROL = "sluice.control";
    public static final String RESULTS = "sluice.results";
    public static final String DLQ = "sluice.dlq";
    /** Accepted runs (submission, start time, finished flag), compacted: what a coordinator recovers from. */
    public static final String RUNS = "sluice.runs";
    /** Workers' heartbeats, keyed by run id: they renew the leases of the attempts they name. */
    public static final String HEARTBEATS = "sluice.heartbeats";
    /** Operators' requests to cancel a run or a node of it ({@link CancelRequest}), keyed by run id. */
    public static final String CANCELLATIONS = "sluice.cancellations";

    /** Partitions of the run-keyed topics (submissions, usage, heartbeats, cancellations, ledger, control, results). */
    public static final int DEFAULT_RUN_PARTITIONS = 3;
    /** Partitions of the tasks topic; share groups let workers scale past this. */
    public static final int DEFAULT_TASK_PARTITIONS = 6;
    /** Upper bound of a record Sluice writes or accepts (a submission of a large tree included). */
    public static final int MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

    private static final long WEEK_MS = 7L * 24 * 3600 * 1000;
    private static final long HOUR_MS = 3600L * 1000;

    private Topics() {
    }

    /** A topic's name, partition count and configs. */
    public record Spec(String name, int partitions, Map<String, String> configs) {
    }

    /** All Sluice topics with the given partition counts. */
    public static List<Spec> all(int runPartitions, int taskPartitions) {
        String maxBytes = Integer.toString(MAX_MESSAGE_BYTES);
        Map<String, String> delete = Map.of("cleanup.policy", "delete", "retention.ms", Long.toString(WEEK_MS),
                "max.message.bytes", maxBytes);
        // Compacted topics keep the latest value per key forever (ledger, runs) or for a week after a key's
        // last write (control, results, dead letters); the small segments let the cleaner act within minutes.
        Map<String, String> compact = Map.of("cleanup.policy", "compact", "max.message.bytes", maxBytes,
                "min.cleanable.dirty.ratio", "0.1", "segment.ms", "60000", "delete.retention.ms", "60000");
        Map<String, String> compactDelete = Map.of("cleanup.policy", "compact,delete", "retention.ms",
                Long.toString(WEEK_MS), "max.message.bytes", maxBytes, "segment.ms", "60000");
        return List.of(
                new Spec(SUBMISSIONS, runPartitions, delete),
                new Spec(TASKS, taskPartitions, delete),
                new Spec(USAGE, runPartitions, delete),
                new Spec(LEDGER, runPartitions, compact),
                new Spec(RUNS, runPartitions, compact),
                new Spec(CONTROL, runPartitions, compactDelete),
                new Spec(RESULTS, runPartitions, compactDelete),
                new Spec(DLQ, 1, compactDelete),
                new Spec(HEARTBEATS, runPartitions, Map.of("cleanup.policy", "delete", "retention.ms",
                        Long.toString(HOUR_MS), "max.message.bytes", maxBytes)),
                new Spec(CANCELLATIONS, runPartitions, delete));
    }

    public static List<Spec> all() {
        return all(DEFAULT_RUN_PARTITIONS, DEFAULT_TASK_PARTITIONS);
    }

    /** The key of a node's entry on the ledger and control topics. */
    public static String ledgerKey(String runId, String path) {
        return runId + "|" + path;
    }

    /** What a run id is on the wire: 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit. */
    private static final java.util.regex.Pattern RUN_ID = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");

    /** True when {@code text} is a valid run id (see common.schema.json). */
    public static boolean isRunId(String text) {
        return text != null && RUN_ID.matcher(text).matches();
    }

    /**
     * The key on {@link #RESULTS} of the rejection of the submission written at {@code source}: never a run id, so a
     * rejection never replaces the receipt of the run whose id it names.
     */
    public static String rejectionKey(Source source) {
        return "rejected|" + source.partition() + "@" + source.offset();
    }

    /**
     * The key of a dead letter on {@link #DLQ}: the coordinates of the record it is about (and its run, for one that is
     * about no record), so that the same poison reported again — by every worker reading it, or after a restart — is
     * one dead letter once the topic is compacted.
     */
    public static String deadLetterKey(Rejection r) {
        String at = r.sourceTopic() + "-" + r.partition() + "@" + r.offset();
        return r.offset() < 0 && r.runId() != null ? at + "|" + r.runId() : at;
    }

    /** The header of a submission the coordinator forwarded to its run's partition: where it was written first. */
    public static final String SOURCE_HEADER = "sluice-source";

    /**
     * The partition of every record about {@code runId} on a run-keyed topic: Kafka's default partitioner
     * applied to the run id alone, so ledger and control records (keyed by run and path) land on the same
     * partition number as the run's submission and usage.
     */
    public static int partitionFor(String runId, int partitions) {
        return Utils.toPositive(Utils.murmur2(Utils.utf8(runId))) % partitions;
    }
}
