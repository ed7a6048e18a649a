package io.sluice.worker;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

import io.sluice.worker.LeafRuntime.Disposition;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure one worker never executes a task record twice. A record is identified by topic, partition and
 * offset. The broker may deliver it again to another lane of this worker (its lock expired while it ran, or an
 * acknowledgement was lost); that delivery then waits for the running execution instead of starting its own, and
 * a record recently finished with a durable final event is acknowledged again without executing. Only a
 * redelivery this worker knows nothing of reaches {@link TaskHandler}, which reports the attempt lost.
 *
 * <p>Thread-safety: thread-safe.
 */
final class Deliveries {

    private static final Logger log = LoggerFactory.getLogger(Deliveries.class);
    private static final int RECENT = 4096;

    /** Where a task record is. */
    record Coord(String topic, int partition, long offset) {
        static Coord of(ConsumerRecord<?, ?> record) {
            return new Coord(record.topic(), record.partition(), record.offset());
        }

        @Override
        public String toString() {
            return topic + "-" + partition + "@" + offset;
        }
    }

    /** What this worker knows of a record. */
    enum Known {
        /** Neither running here nor recently accepted. */
        NOTHING,
        /** Its execution runs here now. */
        RUNNING,
        /** Recently finished here with a durable final event. */
        ACCEPTED
    }

    private final Map<Coord, CompletableFuture<Disposition>> running = new LinkedHashMap<>();
    private final Map<Coord, Boolean> recentlyAccepted = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Coord, Boolean> eldest) {
            return size() > RECENT;
        }
    };

    /**
     * The execution of the record at {@code coord}: a new one from {@code launch}, or the one already running or
     * recently accepted.
     */
    synchronized CompletableFuture<Disposition> start(Coord coord, Supplier<CompletableFuture<Disposition>> launch) {
        if (recentlyAccepted.containsKey(coord)) {
            log.info("task {} delivered again after it was done: acknowledged without executing it", coord);
            return CompletableFuture.completedFuture(Disposition.ACCEPT);
        }
        CompletableFuture<Disposition> existing = running.get(coord);
        if (existing != null) {
            log.info("task {} delivered again while it runs here: waiting for that execution", coord);
            return existing;
        }
        CompletableFuture<Disposition> execution = launch.get();
        running.put(coord, execution);
        execution.whenComplete((disposition, error) -> finished(coord, execution, disposition));
        return execution;
    }

    private synchronized void finished(Coord coord, CompletableFuture<Disposition> execution, Disposition disposition) {
        running.remove(coord, execution);
        if (disposition == Disposition.ACCEPT) {
            recentlyAccepted.put(coord, Boolean.TRUE);
        }
    }

    synchronized Known known(Coord coord) {
        if (recentlyAccepted.containsKey(coord)) {
            return Known.ACCEPTED;
        }
        return running.containsKey(coord) ? Known.RUNNING : Known.NOTHING;
    }

    synchronized int running() {
        return running.size();
    }
}
