package io.sluice.worker;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import io.sluice.schemas.Heartbeat;
import io.sluice.schemas.Json;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.Topics;
import io.sluice.schemas.UsageEvent;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes usage events to {@link Topics#USAGE} and rejections to {@link Topics#DLQ} with one idempotent producer
 * ({@code acks=all}): records keyed by run id land on the run's partition in the order they were sent, without
 * duplicates from retries.
 *
 * <p>Thread-safety: the Kafka producer is thread-safe.
 */
final class KafkaUsageSink implements UsageSink, AutoCloseable {

    private final Producer<String, byte[]> producer;
    private volatile int heartbeatPartitions;

    KafkaUsageSink(Producer<String, byte[]> producer) {
        this.producer = producer;
    }

    @Override
    public CompletableFuture<Void> usage(UsageEvent event) {
        return send(new ProducerRecord<>(Topics.USAGE, event.runId(), Json.write(event)));
    }

    @Override
    public CompletableFuture<Void> reject(Rejection rejection) {
        return send(new ProducerRecord<>(Topics.DLQ, Topics.deadLetterKey(rejection), Json.write(rejection)));
    }

    @Override
    public CompletableFuture<Void> heartbeat(Heartbeat heartbeat) {
        return send(new ProducerRecord<>(Topics.HEARTBEATS, heartbeat.runId(), Json.write(heartbeat)));
    }

    @Override
    public CompletableFuture<Void> beacon(Heartbeat beacon, int partition) {
        return send(new ProducerRecord<>(Topics.HEARTBEATS, partition, null, Json.write(beacon)));
    }

    @Override
    public int heartbeatPartitions() {
        int n = heartbeatPartitions;
        if (n == 0) {
            n = heartbeatPartitions = producer.partitionsFor(Topics.HEARTBEATS).size();
        }
        return n;
    }

    private CompletableFuture<Void> send(ProducerRecord<String, byte[]> record) {
        CompletableFuture<Void> written = new CompletableFuture<>();
        try {
            producer.send(record, (metadata, error) -> {
                if (error != null) {
                    written.completeExceptionally(error);
                } else {
                    written.complete(null);
                }
            });
        } catch (RuntimeException e) {
            // send() throws synchronously for a closed producer or a record it can never send (too large).
            written.completeExceptionally(e);
        }
        return written;
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }

    /** Sends what is buffered, waiting at most {@code timeout}, and closes the producer. */
    void close(Duration timeout) {
        producer.close(timeout);
    }
}
