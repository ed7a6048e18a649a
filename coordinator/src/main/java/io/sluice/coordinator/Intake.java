package io.sluice.coordinator;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.sluice.schemas.Json;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.Source;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.SubmissionValidator;
import io.sluice.schemas.Topics;
import io.sluice.schemas.ValidationResult;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes submissions off {@link Topics#SUBMISSIONS}: validates them, names their run, forwards one written to another
 * partition than its run's, refuses a run id that is taken, and starts the rest ({@link RunRegistry#accept}).
 *
 * <p>A submission's run id is its body's {@code run_id}; else its record key; else one derived from where it was
 * written ({@code run-<partition>-<offset>}, the same on every replay). A key that disagrees with the body's run id is
 * refused. Every refusal gets a dead letter and — when the run id is known — a {@code rejected} receipt on
 * {@link Topics#RESULTS} under the submission's own {@link Topics#rejectionKey key}, never under the run id: a
 * resubmission or a stray record cannot replace the receipt of the run whose id it names. The receipt of an accepted
 * run and the rejection both carry the submission's {@link Source}, by which its producer knows its own outcome.
 *
 * <p>Not thread-safe: the loop's thread owns it.
 */
final class Intake {

    private static final Logger log = LoggerFactory.getLogger(Intake.class);
    private static final Pattern SOURCE = Pattern.compile("(\\d{1,10})@(\\d{1,19})");

    private final SubmissionValidator validator;
    private final RunRegistry runs;
    private final TransactionalPublisher publisher;
    private final CoordinatorMetrics metrics;

    Intake(SubmissionValidator validator, RunRegistry runs, TransactionalPublisher publisher, CoordinatorMetrics metrics) {
        this.validator = validator;
        this.runs = runs;
        this.publisher = publisher;
        this.metrics = metrics;
    }

    void onSubmission(ConsumerRecord<String, byte[]> record, long now, Batch batch) {
        Source source = sourceOf(record);
        String key = record.key();
        if (record.value() == null) {
            reject(record, Topics.isRunId(key) ? key : null, source, List.of("payload: record has no value (a tombstone)"),
                    now, batch);
            return;
        }
        ValidationResult result = validator.validate(record.value());
        if (!result.isValid()) {
            reject(record, Topics.isRunId(key) ? key : null, source, result.errors(), now, batch);
            return;
        }
        Submission submission = result.submission();
        if (submission.runId() == null) {
            if (key != null && !Topics.isRunId(key)) {
                reject(record, null, source, List.of("key: '" + key + "' is not a valid run id, and the submission names "
                        + "none (1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit)"), now, batch);
                return;
            }
            // The key names the run; without one, the record's position does (the same on every replay).
            submission = submission.withRunId(key != null ? key : "run-" + record.partition() + "-" + record.offset());
        } else if (key != null && !key.equals(submission.runId())) {
            reject(record, submission.runId(), source, List.of("key: '" + key + "' is not the submission's run_id '"
                    + submission.runId() + "'"), now, batch);
            return;
        }
        String runId = submission.runId();
        int home = publisher.partitionOf(Topics.SUBMISSIONS, runId);
        if (record.partition() != home) {
            // Everything about a run lives on the partition of its run id (usage, ledger and runs are partitioned so),
            // or another coordinator would fold its usage. Forward it there, once, naming where it was written.
            ProducerRecord<String, byte[]> forward = new ProducerRecord<>(Topics.SUBMISSIONS, home, runId, Json.write(submission));
            forward.headers().add(Topics.SOURCE_HEADER, source.toString().getBytes(StandardCharsets.UTF_8));
            batch.add(forward);
            log.info("run {} submitted on partition {}: forwarded to its partition {}", runId, record.partition(), home);
            return;
        }
        if (runs.isTaken(runId, home)) {
            reject(record, runId, source, List.of("run_id: a run with id '" + runId + "' was already submitted"), now, batch);
            return;
        }
        runs.accept(submission, source, home, now, batch);
    }

    private void reject(ConsumerRecord<String, byte[]> record, String runId, Source source, List<String> errors, long now,
                        Batch batch) {
        metrics.submissionsRejected.increment();
        runs.deadLetter(batch, Rejection.of(record, runId, "submission", errors, now));
        if (runId != null) {
            Receipt receipt = new Receipt(runId, source, null, Status.REJECTED, String.join("; ", errors), now, now, List.of());
            batch.add(new ProducerRecord<>(Topics.RESULTS, publisher.partitionOf(Topics.RESULTS, runId),
                    Topics.rejectionKey(source), Json.write(receipt)));
        }
        log.warn("submission {} rejected: {}", RunRegistry.coordinates(record), errors);
    }

    /** Where the submission was first written: the forwarding header's coordinates, else the record's own. */
    static Source sourceOf(ConsumerRecord<String, byte[]> record) {
        Header h = record.headers() == null ? null : record.headers().lastHeader(Topics.SOURCE_HEADER);
        if (h != null && h.value() != null) {
            Matcher m = SOURCE.matcher(new String(h.value(), StandardCharsets.UTF_8));
            if (m.matches()) {
                try {
                    return new Source(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)));
                } catch (IllegalArgumentException e) {
                    // out of range: the record's own coordinates
                }
            }
        }
        return Source.of(record);
    }
}
