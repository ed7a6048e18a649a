package io.sluice.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.sluice.schemas.CancelRequest;
import io.sluice.schemas.Halt;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.Status;
import io.sluice.schemas.Topics;
import io.sluice.schemas.WireFormatException;
import io.sluice.schemas.WireRecords;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Waits for the answer to one cancel request: the halt its run's coordinator commits to the control topic, or the
 * dead letter of the request (keyed by the request's coordinates, {@link Topics#deadLetterKey}). Opened before the
 * request is written, at the end of both, so that an answer faster than the writer is not missed.
 */
final class CancelWatch implements AutoCloseable {

    private final KafkaConsumer<String, byte[]> consumer;
    private final String runId;

    CancelWatch(String bootstrapServers, Map<String, String> clientProperties, String runId) {
        this.runId = runId;
        Map<String, Object> p = CommittedReader.consumerProperties(bootstrapServers, clientProperties);
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "50"); // a watch answers as soon as its record is there
        consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> parts = new ArrayList<>();
        parts.add(new TopicPartition(Topics.CONTROL, Topics.partitionFor(runId, consumer.partitionsFor(Topics.CONTROL).size())));
        for (PartitionInfo dlq : consumer.partitionsFor(Topics.DLQ)) {
            parts.add(new TopicPartition(Topics.DLQ, dlq.partition()));
        }
        consumer.assign(parts);
        consumer.seekToEnd(parts);
        parts.forEach(consumer::position);
    }

    /** The answer to the request written at {@code partition}@{@code offset} of the cancellations topic. */
    CancelOutcome await(CancelRequest request, int partition, long offset, Duration timeout) {
        String where = Topics.CANCELLATIONS + "-" + partition + "@" + offset;
        String haltKey = request.path() == null ? null : Topics.ledgerKey(runId, request.path());
        String by = "cancelled by " + request.describe();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                if (r.key() == null || r.value() == null) {
                    continue;
                }
                try {
                    if (Topics.DLQ.equals(r.topic())) {
                        Rejection rejection = WireRecords.decode(r.value(), Rejection.class);
                        if (Topics.CANCELLATIONS.equals(rejection.sourceTopic()) && rejection.partition() == partition
                                && rejection.offset() == offset) {
                            return new CancelOutcome(CancelOutcome.Verdict.REFUSED, String.join("; ", rejection.errors()), where);
                        }
                    } else if (haltKey == null ? r.key().startsWith(Topics.ledgerKey(runId, "")) : r.key().equals(haltKey)) {
                        Halt halt = WireRecords.decode(r.value(), Halt.class);
                        if (halt.runId().equals(runId) && halt.cause() == Status.CANCELLED && halt.attempt() == null
                                && halt.reason() != null && halt.reason().contains(by)
                                && (request.path() != null || !halt.path().contains("/"))) {
                            return new CancelOutcome(CancelOutcome.Verdict.CANCELLED, halt.reason(), where);
                        }
                    }
                } catch (WireFormatException e) {
                    // not a record of its topic's kind: not the answer
                }
            }
        }
        return new CancelOutcome(CancelOutcome.Verdict.NO_ANSWER, "no answer from the run's coordinator within " + timeout
                + " (is a coordinator running?)", where);
    }

    @Override
    public void close() {
        consumer.close();
    }
}
