package io.sluice.client;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.sluice.schemas.CancelRequest;
import io.sluice.schemas.Json;
import io.sluice.schemas.Source;
import io.sluice.schemas.Submission;
import io.sluice.schemas.SubmissionValidator;
import io.sluice.schemas.Topics;
import io.sluice.schemas.ValidationLimits;
import io.sluice.schemas.ValidationResult;
import io.sluice.schemas.WireFormatException;
import io.sluice.schemas.WireRecords;
import io.sluice.schemas.SubmissionRejectedException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Submits workflows to Sluice and watches their runs: what other Java systems (and the {@code sluice} CLI)
 * use to produce work.
 *
 * <p>Submissions are validated here first, with the same validator the coordinator runs, so a caller gets
 * the precise error at once instead of a rejection record later. Thread-safe (the Kafka producer is).
 */
public final class SluiceClient implements AutoCloseable {

    public static final Duration DEFAULT_SEND_TIMEOUT = Duration.ofSeconds(30);

    private final String bootstrapServers;
    private final Map<String, String> clientProperties;
    private final SubmissionValidator validator;
    private final KafkaProducer<String, byte[]> producer;

    public SluiceClient(String bootstrapServers, Map<String, String> clientProperties) {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("bootstrapServers: must not be blank");
        }
        this.bootstrapServers = bootstrapServers;
        this.clientProperties = Map.copyOf(clientProperties == null ? Map.of() : clientProperties);
        this.validator = new SubmissionValidator(ValidationLimits.DEFAULTS);
        Map<String, Object> p = new HashMap<>(this.clientProperties);
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "sluice-client-" + UUID.randomUUID().toString().substring(0, 8));
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(Topics.MAX_MESSAGE_BYTES));
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    /** A fresh run id, for submissions that carry none. */
    public static String newRunId() {
        return "run-" + UUID.randomUUID().toString().substring(0, 13);
    }

    /**
     * Validates raw submission JSON, assigns a run id when it has none, and writes it to the submissions
     * topic, keyed by run id. Returns the run id once the broker has the record.
     *
     * @throws SubmissionRejectedException with every validation error when the JSON is not a valid submission
     */
    public Submitted submit(byte[] json) {
        ValidationResult result = validator.validate(json);
        if (!result.isValid()) {
            throw new SubmissionRejectedException(result.errors());
        }
        return submit(result.submission());
    }

    /**
     * Writes a submission (assigning a run id when it has none) and returns what was written and where; hand the
     * latter to {@link RunWatch#expect} to wait for the outcome of exactly this submission.
     */
    public Submitted submit(Submission submission) {
        Submission withId = submission.runId() == null ? submission.withRunId(newRunId()) : submission;
        byte[] bytes = Json.write(withId);
        ValidationResult result = validator.validate(bytes);
        if (!result.isValid()) {
            throw new SubmissionRejectedException(result.errors());
        }
        try {
            RecordMetadata written = producer.send(new ProducerRecord<>(Topics.SUBMISSIONS, withId.runId(), bytes))
                    .get(DEFAULT_SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return new Submitted(withId, new Source(written.partition(), written.offset()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while submitting run " + withId.runId(), e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new IllegalStateException("cannot submit run " + withId.runId() + ": " + cause.getMessage(), cause);
        }
    }

    /**
     * Starts watching a run's ledger entries and receipt. Call it BEFORE {@link #submit} so that nothing the
     * coordinator writes for the run is missed.
     */
    public RunWatch watch(String runId) {
        return new RunWatch(bootstrapServers, clientProperties, runId, true);
    }

    /**
     * Like {@link #watch}, but reads only the run's receipt (or rejection), not its ledger entries as they change: for
     * a caller that waits for the outcome alone, at a fraction of the cost for a run with many leaves.
     */
    public RunWatch watchReceipt(String runId) {
        return new RunWatch(bootstrapServers, clientProperties, runId, false);
    }

    /**
     * Where a run stands now: its latest receipt (also of a run that finished long ago, for the results topic's
     * retention) and its latest ledger entries.
     *
     * @throws IllegalStateException when its partitions cannot be read within {@code timeout}
     */
    public RunStatus status(String runId, Duration timeout) {
        return RunStatus.read(bootstrapServers, clientProperties, runId, timeout);
    }

    /**
     * Asks the run's coordinator to cancel the run, or the workflow/branch {@code request.path()} of it, and waits up
     * to {@code timeout} for its answer: the node halted (its leaves stopping; the receipt follows), or the request
     * refused with why (no such run or node, already ended or halted).
     *
     * @throws IllegalArgumentException when the request is not a valid one (e.g. a run id or path of bad syntax)
     * @throws IllegalStateException    when it cannot be written
     */
    public CancelOutcome cancel(CancelRequest request, Duration timeout) {
        byte[] bytes = Json.write(request);
        try {
            WireRecords.decode(bytes, CancelRequest.class);
        } catch (WireFormatException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        try (CancelWatch watch = new CancelWatch(bootstrapServers, clientProperties, request.runId())) {
            RecordMetadata written = producer.send(new ProducerRecord<>(Topics.CANCELLATIONS, request.runId(), bytes))
                    .get(DEFAULT_SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return watch.await(request, written.partition(), written.offset(), timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while cancelling run " + request.runId(), e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new IllegalStateException("cannot request the cancel of run " + request.runId() + ": "
                    + cause.getMessage(), cause);
        }
    }

    /** Every run the cluster knows (retired ones by id only), newest first. */
    public List<RunList.Summary> runs(Duration timeout) {
        return RunList.read(bootstrapServers, clientProperties, timeout);
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
