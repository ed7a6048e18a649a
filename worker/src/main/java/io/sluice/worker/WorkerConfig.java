package io.sluice.worker;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Settings of a {@link Worker}, validated once here; every error names the field.
 *
 * @param bootstrapServers the Kafka cluster, e.g. {@code 127.0.0.1:9092}
 * @param groupId          the share group all workers of a deployment join
 * @param workerId         this worker's id, reported in usage events and used in client ids
 * @param concurrency      leaves this worker runs at once; it never acquires more tasks than that
 * @param lockDuration     the share group's record lock ({@code share.record.lock.duration.ms}, set by
 *                         {@link Worker#configureShareGroup}): it covers a task from its delivery to its acceptance,
 *                         which is milliseconds (a task is accepted before it runs, and never renewed).
 *                         The broker bounds it (by default 15 s to 60 s)
 * @param pollTimeout      how long an idle poll waits for a task
 * @param shutdownTimeout  how long {@link Worker#close()} lets in-flight leaves finish before it cancels them; they
 *                         end {@code cancelled} "worker shutting down" and close returns within this plus
 *                         {@link Worker#CLOSE_MARGIN}
 * @param deliveryLimit    the share group's {@code share.delivery.count.limit} (2..10). Any delivery after the first
 *                         is reported {@code lost} and not run again, so a task normally never reaches the limit; one
 *                         that does (its lost reports could not be written) is also rejected to the DLQ on its last
 *                         delivery, since the broker would archive it silently after a further failure. With 2, every
 *                         lost attempt lands on the DLQ as well
 * @param clientProperties extra Kafka client settings (security, timeouts) applied to every client; the settings
 *                         the worker depends on (acknowledgement mode, serializers, idempotence) cannot be overridden
 * @param heartbeatInterval how often the worker tells each run's coordinator which of its attempts it runs, renewing
 *                         their leases (the coordinators' lease must be a few of these)
 * @param name             what its meters are tagged with ({@code worker}); null for its id. Unlike the id, which must
 *                         be unique, a name can stay the same across restarts (a host or container name), so that
 *                         a dashboard's series do not change every time a worker restarts
 */
public record WorkerConfig(String bootstrapServers, String groupId, String workerId, int concurrency,
                           Duration lockDuration, Duration pollTimeout, Duration shutdownTimeout, int deliveryLimit,
                           Map<String, String> clientProperties, Duration heartbeatInterval, String name) {

    public static final String DEFAULT_GROUP_ID = "sluice-workers";
    /** Leaves are mostly I/O-bound (model calls of seconds to minutes): a slot costs a parked thread while busy, nothing idle. */
    public static final int DEFAULT_CONCURRENCY = 64;
    public static final Duration DEFAULT_LOCK_DURATION = Duration.ofSeconds(30);
    // How long one poll of an idle feed waits; a poll returns as soon as tasks arrive, so this only bounds how long the
    // feed takes to notice that it is to stop when it is not woken up.
    public static final Duration DEFAULT_POLL_TIMEOUT = Duration.ofSeconds(1);
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);
    public static final int DEFAULT_DELIVERY_LIMIT = 5;
    /** A third of the coordinators' default lease (10 s): two heartbeats may be lost before an attempt lapses. */
    public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(3);
    /** A busy slot is a thread of the leaf pool; beyond this, run more worker processes. */
    public static final int MAX_CONCURRENCY = 4096;

    public WorkerConfig {
        requireText("bootstrapServers", bootstrapServers);
        requireText("groupId", groupId);
        requireText("workerId", workerId);
        if (concurrency < 1 || concurrency > MAX_CONCURRENCY) {
            throw new IllegalArgumentException("concurrency: must be 1.." + MAX_CONCURRENCY + ", got " + concurrency);
        }
        requireAtLeast("lockDuration", lockDuration, Duration.ofSeconds(1));
        requireAtLeast("pollTimeout", pollTimeout, Duration.ofMillis(1));
        requireAtLeast("shutdownTimeout", shutdownTimeout, Duration.ZERO);
        if (deliveryLimit < 2 || deliveryLimit > 10) {
            throw new IllegalArgumentException("deliveryLimit: must be 2..10, got " + deliveryLimit);
        }
        Objects.requireNonNull(clientProperties, "clientProperties");
        clientProperties.forEach((k, v) -> {
            if (k == null || v == null) {
                throw new IllegalArgumentException("clientProperties: null key or value (" + k + "=" + v + ")");
            }
        });
        clientProperties = Map.copyOf(clientProperties);
        requireAtLeast("heartbeatInterval", heartbeatInterval, Duration.ofMillis(10));
        name = name == null ? workerId : name;
        requireText("name", name);
    }

    /** A configuration with the default heartbeat interval. */
    public WorkerConfig(String bootstrapServers, String groupId, String workerId, int concurrency, Duration lockDuration,
                        Duration pollTimeout, Duration shutdownTimeout, int deliveryLimit, Map<String, String> clientProperties) {
        this(bootstrapServers, groupId, workerId, concurrency, lockDuration, pollTimeout, shutdownTimeout, deliveryLimit,
                clientProperties, DEFAULT_HEARTBEAT_INTERVAL, null);
    }

    /** A configuration with every default. */
    public static WorkerConfig of(String bootstrapServers, String workerId) {
        return new WorkerConfig(bootstrapServers, DEFAULT_GROUP_ID, workerId, DEFAULT_CONCURRENCY, DEFAULT_LOCK_DURATION,
                DEFAULT_POLL_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_DELIVERY_LIMIT, Map.of());
    }

    public WorkerConfig withGroupId(String value) {
        return new WorkerConfig(bootstrapServers, value, workerId, concurrency, lockDuration, pollTimeout, shutdownTimeout,
                deliveryLimit, clientProperties, heartbeatInterval, name);
    }

    public WorkerConfig withConcurrency(int value) {
        return new WorkerConfig(bootstrapServers, groupId, workerId, value, lockDuration, pollTimeout, shutdownTimeout,
                deliveryLimit, clientProperties, heartbeatInterval, name);
    }

    public WorkerConfig withLockDuration(Duration value) {
        return new WorkerConfig(bootstrapServers, groupId, workerId, concurrency, value, pollTimeout, shutdownTimeout,
                deliveryLimit, clientProperties, heartbeatInterval, name);
    }

    public WorkerConfig withPollTimeout(Duration value) {
        return new WorkerConfig(bootstrapServers, groupId, workerId, concurrency, lockDuration, value, shutdownTimeout,
                deliveryLimit, clientProperties, heartbeatInterval, name);
    }

    public WorkerConfig withShutdownTimeout(Duration value) {
        return new WorkerConfig(bootstrapServers, groupId, workerId, concurrency, lockDuration, pollTimeout, value,
                deliveryLimit, clientProperties, heartbeatInterval, name);
    }

    public WorkerConfig withDeliveryLimit(int value) {
        return new WorkerConfig(bootstrapServers, groupId, workerId, concurrency, lockDuration, pollTimeout, shutdownTimeout,
                value, clientProperties, heartbeatInterval, name);
    }

    public WorkerConfig withClientProperties(Map<String, String> value) {
        return new WorkerConfig(bootstrapServers, groupId, workerId, concurrency, lockDuration, pollTimeout, shutdownTimeout,
                deliveryLimit, value, heartbeatInterval, name);
    }

    public WorkerConfig withHeartbeatInterval(Duration value) {
        return new WorkerConfig(bootstrapServers, groupId, workerId, concurrency, lockDuration, pollTimeout, shutdownTimeout,
                deliveryLimit, clientProperties, value, name);
    }

    /** The name its meters are tagged with ({@code worker}): stable across restarts, unlike a random id. */
    public WorkerConfig withName(String value) {
        return new WorkerConfig(bootstrapServers, groupId, workerId, concurrency, lockDuration, pollTimeout, shutdownTimeout,
                deliveryLimit, clientProperties, heartbeatInterval, value);
    }

    private static void requireText(String field, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(field + ": must not be blank");
        }
    }

    private static void requireAtLeast(String field, Duration value, Duration min) {
        if (value == null) {
            throw new IllegalArgumentException(field + ": required");
        }
        if (value.compareTo(min) < 0) {
            throw new IllegalArgumentException(field + ": must be >= " + min + ", got " + value);
        }
    }
}
