package io.sluice.schemas;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Where a submission was written on {@link Topics#SUBMISSIONS}: its partition and offset. The receipt of an
 * accepted run and the rejection of a refused submission carry it, so that a producer waiting for the outcome of
 * its own submission tells it apart from that of another submission with the same run id.
 */
public record Source(int partition, long offset) {

    public Source {
        if (partition < 0 || offset < 0) {
            throw new IllegalArgumentException("source: partition and offset must be ≥ 0, got " + partition + "@" + offset);
        }
    }

    public static Source of(ConsumerRecord<?, ?> record) {
        return new Source(record.partition(), record.offset());
    }

    @Override
    public String toString() {
        return partition + "@" + offset;
    }
}
