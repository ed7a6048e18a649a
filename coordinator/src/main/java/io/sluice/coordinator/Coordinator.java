package io.sluice.coordinator;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.sluice.schemas.Topics;

/**
 * A coordinator process's lifecycle: expands submitted workflows into leaf tasks under their budgets, folds
 * usage into the ledger, halts what would overrun, and publishes receipts.
 *
 * <p>{@link #start()} launches one named thread that owns the Kafka clients; {@link #close()} stops it,
 * waits for it with a bound, closes the clients and removes this coordinator's meters. Both are idempotent
 * and may be called from any thread.
 */
public final class Coordinator implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Coordinator.class);
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(10);

    /** Lifecycle states; transitions only forward. */
    public enum State { CREATED, RUNNING, CLOSING, CLOSED, FAILED }

    private final CoordinatorConfig config;
    private final MeterRegistry registry;
    private final AtomicReference<State> state = new AtomicReference<>(State.CREATED);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final CompletableFuture<State> loopExit = new CompletableFuture<>();
    private KafkaConsumer<String, byte[]> consumer;
    private KafkaConsumer<String, byte[]> restoreConsumer;
    private CoordinatorLoop loop;
    private Thread thread;

    public Coordinator(CoordinatorConfig config, MeterRegistry registry) {
        this.config = config;
        this.registry = registry;
    }

    /** Connects to Kafka and starts folding. */
    public synchronized Coordinator start() {
        if (!state.compareAndSet(State.CREATED, State.RUNNING)) {
            throw new IllegalStateException("start: coordinator is " + state.get());
        }
        consumer = new KafkaConsumer<>(consumerProps(), new StringDeserializer(), new ByteArrayDeserializer());
        restoreConsumer = new KafkaConsumer<>(restoreConsumerProps(), new StringDeserializer(), new ByteArrayDeserializer());
        // The loop owns its producer: after a failed transaction it replaces it (same transactional id).
        loop = new CoordinatorLoop(config, consumer, restoreConsumer,
                () -> new KafkaProducer<>(producerProps(), new StringSerializer(), new ByteArraySerializer()),
                Clock.systemUTC(), registry);
        thread = new Thread(this::runLoop, "sluice-coordinator-loop");
        thread.setUncaughtExceptionHandler((t, e) -> log.error("uncaught in {}", t.getName(), e));
        thread.start();
        return this;
    }

    private void runLoop() {
        try {
            loop.run();
        } catch (Throwable e) {
            failure.set(e);
            state.set(State.FAILED);
            log.error("coordinator loop failed; runs it held must be recovered by a restarted coordinator", e);
        } finally {
            stopped.countDown();
            loopExit.complete(state.get());
        }
    }

    /**
     * Completes when the coordinator's loop has stopped — after {@link #close()}, or on its own when it failed
     * ({@link State#FAILED}): a process should then exit so that a supervisor restarts it.
     */
    public CompletableFuture<State> loopExit() {
        return loopExit;
    }

    public State state() {
        return state.get();
    }

    /** Why the loop stopped on its own, if it did. */
    public Throwable failure() {
        return failure.get();
    }

    @Override
    public void close() {
        close(DEFAULT_CLOSE_TIMEOUT);
    }

    public synchronized void close(Duration timeout) {
        State s = state.get();
        if (s == State.CLOSED || s == State.CLOSING) {
            return;
        }
        state.set(State.CLOSING);
        try {
            if (loop != null) {
                loop.stop();
                if (!stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    log.warn("coordinator loop did not stop within {}", timeout);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                if (consumer != null) {
                    consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(timeout));
                }
                if (restoreConsumer != null) {
                    restoreConsumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(timeout));
                }
            } finally {
                if (loop != null) {
                    loop.removeMeters();
                }
                state.set(State.CLOSED);
            }
        }
    }

    /** The input consumer: a member of the coordinators' group, reading submissions and usage. */
    private Map<String, Object> consumerProps() {
        Map<String, Object> p = readCommittedProps("");
        p.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "10");
        // Range assignment gives one member the same partition numbers of submissions and usage: the runs it owns.
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, org.apache.kafka.clients.consumer.RangeAssignor.class.getName());
        return p;
    }

    /** The recovery consumer: no group, assigned partition by partition of the runs and ledger topics. */
    private Map<String, Object> restoreConsumerProps() {
        return readCommittedProps("-restore");
    }

    private Map<String, Object> readCommittedProps(String clientIdSuffix) {
        Map<String, Object> p = new HashMap<>(config.clientProperties());
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "sluice-coordinator-" + config.instanceId() + clientIdSuffix);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(Topics.MAX_MESSAGE_BYTES));
        return p;
    }

    private Map<String, Object> producerProps() {
        Map<String, Object> p = new HashMap<>(config.clientProperties());
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "sluice-coordinator-" + config.instanceId());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "sluice-coordinator-" + config.instanceId());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "1");
        // A crashed coordinator's open transaction holds back read_committed readers (and the partition's next
        // owner) until it times out: keep that short.
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "10000");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(Topics.MAX_MESSAGE_BYTES));
        return p;
    }
}
