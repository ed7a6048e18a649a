package io.sluice.coordinator;

import java.util.HashMap;
import java.util.Map;

/**
 * Whether a usage partition hears from its workers <em>now</em>: the newest heartbeat (or beacon) read there, by the
 * time it was written, not the time it was read. A coordinator that lags behind its partition — it reads, after a
 * broker restart or its own pause, heartbeats written seconds ago — is not hearing its workers now: their newer
 * heartbeats are still unread, and an attempt's lease must not lapse for that. Workers beacon every partition every
 * few seconds, so a partition caught up with live workers is never silent; one whose newest heartbeat is older than
 * half a lease is, and the caller extends its runs' leases instead of letting them lapse.
 *
 * <p>A heartbeat's time is its record's timestamp (the writing worker's clock), never later than the reader's now: a
 * worker clock running behind the coordinator's by more than half a lease makes the partition look silent (leases then
 * do not lapse: fail-safe, nothing charged for a death that was not one); one running ahead changes nothing.
 *
 * <p>Not thread-safe: the coordinator loop's.
 */
final class WorkerSilence {

    private final long leaseMs;
    private final Map<Integer, Long> heardAt = new HashMap<>();

    /** @param leaseMs the attempts' lease; 0 (no leases): never silent */
    WorkerSilence(long leaseMs) {
        this.leaseMs = leaseMs;
    }

    /**
     * A heartbeat written at {@code writtenAtMs} (negative: a record without a timestamp, taken as written now) was read
     * on {@code partition} at {@code nowMs}.
     */
    void heard(int partition, long writtenAtMs, long nowMs) {
        heardAt.merge(partition, writtenAtMs < 0 ? nowMs : Math.min(writtenAtMs, nowMs), Math::max);
    }

    /** The partition's runs were just restored: they start with fresh leases, as if heard now. */
    void reset(int partition, long nowMs) {
        heardAt.put(partition, nowMs);
    }

    /** True when no heartbeat written within the last half lease was read on the partition. */
    boolean silent(int partition, long nowMs) {
        return leaseMs > 0 && nowMs - heardAt.getOrDefault(partition, nowMs) > leaseMs / 2;
    }

    void forget(int partition) {
        heardAt.remove(partition);
    }

    void clear() {
        heardAt.clear();
    }
}
