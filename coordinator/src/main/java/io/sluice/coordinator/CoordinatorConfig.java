package io.sluice.coordinator;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

import io.sluice.coordinator.ledger.LedgerConfig;
import io.sluice.schemas.ValidationLimits;

/**
 * Settings of a {@link Coordinator}.
 *
 * @param bootstrapServers    Kafka bootstrap servers
 * @param groupId             consumer group of the coordinators; runs are split among its members by partition
 * @param instanceId          this coordinator's stable identity: its transactional id is derived from it, so a
 *                            restarted coordinator with the same id fences its zombie predecessor; also the
 *                            {@code instance} tag of its meters
 * @param pollTimeout         longest wait for new records; deadlines are checked at least this often
 * @param ledger              budget policy settings, with the in-flight cap of a run and the dispatch chunk
 * @param limits              submission validation limits
 * @param clientProperties    extra Kafka client properties (security settings, for example), applied to every client
 * @param maxTransactionBytes a transaction is committed once what it publishes passes this (roughly, in bytes of
 *                            keys and values); at least {@value #MIN_TRANSACTION_BYTES}
 * @param finishedRunRetention how long a finished run's ledger entries stay queryable; then they are deleted
 *                            (tombstoned) and its run record keeps only its id, so that a take-over reads little more
 *                            than the runs in flight however long the coordinators run. Zero retires at once
 */
public record CoordinatorConfig(String bootstrapServers, String groupId, String instanceId, Duration pollTimeout,
                                LedgerConfig ledger, ValidationLimits limits, Map<String, String> clientProperties,
                                long maxTransactionBytes, Duration finishedRunRetention) {

    public static final String DEFAULT_GROUP_ID = "sluice-coordinator";
    public static final Duration DEFAULT_POLL_TIMEOUT = Duration.ofMillis(50);
    public static final long DEFAULT_MAX_TRANSACTION_BYTES = 4L * 1024 * 1024;
    static final long MIN_TRANSACTION_BYTES = 64 * 1024;
    public static final Duration DEFAULT_FINISHED_RUN_RETENTION = Duration.ofHours(1);

    public CoordinatorConfig {
        requireText("bootstrapServers", bootstrapServers);
        requireText("groupId", groupId);
        requireText("instanceId", instanceId);
        Objects.requireNonNull(pollTimeout, "pollTimeout");
        if (pollTimeout.isNegative() || pollTimeout.isZero() || pollTimeout.compareTo(Duration.ofSeconds(10)) > 0) {
            throw new IllegalArgumentException("pollTimeout: must be within (0, 10s], got " + pollTimeout);
        }
        Objects.requireNonNull(ledger, "ledger");
        Objects.requireNonNull(limits, "limits");
        clientProperties = Map.copyOf(clientProperties == null ? Map.of() : clientProperties);
        if (maxTransactionBytes < MIN_TRANSACTION_BYTES) {
            throw new IllegalArgumentException("maxTransactionBytes: must be ≥ " + MIN_TRANSACTION_BYTES + ", got "
                    + maxTransactionBytes);
        }
        Objects.requireNonNull(finishedRunRetention, "finishedRunRetention");
        if (finishedRunRetention.isNegative() || finishedRunRetention.compareTo(Duration.ofDays(3650)) > 0) {
            throw new IllegalArgumentException("finishedRunRetention: must be within [0, 3650 days], got " + finishedRunRetention);
        }
    }

    /** Defaults for everything but the bootstrap servers and the instance id. */
    public static CoordinatorConfig of(String bootstrapServers, String instanceId) {
        return new CoordinatorConfig(bootstrapServers, DEFAULT_GROUP_ID, instanceId, DEFAULT_POLL_TIMEOUT,
                LedgerConfig.defaults(), ValidationLimits.DEFAULTS, Map.of(), DEFAULT_MAX_TRANSACTION_BYTES,
                DEFAULT_FINISHED_RUN_RETENTION);
    }

    public CoordinatorConfig withGroupId(String id) {
        return new CoordinatorConfig(bootstrapServers, id, instanceId, pollTimeout, ledger, limits, clientProperties,
                maxTransactionBytes, finishedRunRetention);
    }

    public CoordinatorConfig withLedger(LedgerConfig l) {
        return new CoordinatorConfig(bootstrapServers, groupId, instanceId, pollTimeout, l, limits, clientProperties,
                maxTransactionBytes, finishedRunRetention);
    }

    public CoordinatorConfig withClientProperties(Map<String, String> props) {
        return new CoordinatorConfig(bootstrapServers, groupId, instanceId, pollTimeout, ledger, limits, props,
                maxTransactionBytes, finishedRunRetention);
    }

    public CoordinatorConfig withMaxTransactionBytes(long bytes) {
        return new CoordinatorConfig(bootstrapServers, groupId, instanceId, pollTimeout, ledger, limits, clientProperties,
                bytes, finishedRunRetention);
    }

    public CoordinatorConfig withFinishedRunRetention(Duration retention) {
        return new CoordinatorConfig(bootstrapServers, groupId, instanceId, pollTimeout, ledger, limits, clientProperties,
                maxTransactionBytes, retention);
    }

    private static void requireText(String field, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(field + ": must not be blank");
        }
    }
}
