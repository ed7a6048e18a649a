package io.sluice.coordinator;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;
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
 * <p>{@link #start()} launches one named thread, which creates, owns and closes the Kafka clients; {@link #close()}
 * stops it and waits for it with a bound. Every state change is a compare-and-set: CREATED → RUNNING → CLOSING →
 * CLOSED, or RUNNING/CLOSING → FAILED when the loop fails; FAILED is terminal (a close afterwards leaves it so), so a
 * process can exit non-zero for a supervisor to restart it. Both methods are idempotent and may be called from any
 * thread.
 */
public final class Coordinator implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Coordinator.class);
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(10);

    /** Lifecycle states; transitions only forward, FAILED and CLOSED are terminal. */
    public enum State { CREATED, RUNNING, CLOSING, CLOSED, FAILED }

    private final CoordinatorConfig config;
    private final MeterRegistry registry;
    private final AtomicReference<State> state = new AtomicReference<>(State.CREATED);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final CompletableFuture<State> loopExit = new CompletableFuture<>();
    private CoordinatorLoop loop;
    private final List<KafkaClientMetrics> clientMeters = new CopyOnWriteArrayList<>();
    private final AtomicReference<KafkaClientMetrics> producerMeters = new AtomicReference<>();
    private Thread thread;

    public Coordinator(CoordinatorConfig config, MeterRegistry registry) {
        this.config = config;
        this.registry = registry;
    }

    /** Starts the loop, which connects to Kafka and starts folding. */
    public synchronized Coordinator start() {
        if (!state.compareAndSet(State.CREATED, State.RUNNING)) {
            throw new IllegalStateException("start: coordinator is " + state.get());
        }
        // The loop owns its producer: after a failed transaction it replaces it (same transactional id).
        loop = new CoordinatorLoop(config,
                () -> metered(new KafkaConsumer<>(consumerProps(), new StringDeserializer(), new ByteArrayDeserializer())),
                () -> metered(new KafkaConsumer<>(restoreConsumerProps(), new StringDeserializer(), new ByteArrayDeserializer())),
                () -> metered(new KafkaProducer<>(producerProps(), new StringSerializer(), new ByteArraySerializer())),
                Clock.systemUTC(), registry);
        thread = new Thread(this::runLoop, "sluice-coordinator-loop");
        thread.setUncaughtExceptionHandler((t, e) -> log.error("uncaught in {}", t.getName(), e));
        thread.start();
        return this;
    }

    private void runLoop() {
        try {
            loop.run();
            state.compareAndSet(State.RUNNING, State.FAILED); // it returns on its own only when stopped: not expected
        } catch (Throwable e) {
            failure.set(e);
            State s = state.get();
            while ((s == State.RUNNING || s == State.CLOSING) && !state.compareAndSet(s, State.FAILED)) {
                s = state.get();
            }
            log.error("coordinator loop failed; runs it held must be recovered by a restarted coordinator", e);
        } finally {
            clientMeters.forEach(KafkaClientMetrics::close);
            clientMeters.clear();
            loopExit.complete(state.get());
        }
    }

    /** Binds a consumer's own metrics (fetch lag, rates) to the registry until the loop ends. */
    private <C extends Consumer<?, ?>> C metered(C consumer) {
        KafkaClientMetrics meters = new KafkaClientMetrics(consumer);
        meters.bindTo(registry);
        clientMeters.add(meters);
        return consumer;
    }

    /** Binds the producer's metrics; the loop replaces its producer after a failed transaction, and its meters too. */
    private <P extends Producer<?, ?>> P metered(P producer) {
        KafkaClientMetrics meters = new KafkaClientMetrics(producer);
        KafkaClientMetrics replaced = producerMeters.getAndSet(meters);
        if (replaced != null) {
            replaced.close();
            clientMeters.remove(replaced);
        }
        meters.bindTo(registry);
        clientMeters.add(meters);
        return producer;
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

    /** Stops the loop (which closes its clients) and waits for it up to {@code timeout}. */
    public synchronized void close(Duration timeout) {
        if (state.compareAndSet(State.CREATED, State.CLOSED)) {
            loopExit.complete(State.CLOSED);
            return;
        }
        if (!state.compareAndSet(State.RUNNING, State.CLOSING) && state.get() != State.CLOSING) {
            return; // closed, or failed: terminal
        }
        loop.stop();
        try {
            loopExit.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("coordinator loop did not stop within {}; its thread closes its clients when it does", timeout);
        }
        state.compareAndSet(State.CLOSING, State.CLOSED);
    }

    /** The input consumer: a member of the coordinators' group, reading submissions and usage. */
    private Map<String, Object> consumerProps() {
        Map<String, Object> p = readCommittedProps("");
        p.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "10");
        // An iteration folds as many events as one transaction carries (it commits at maxTransactionBytes anyway).
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        // One member gets the same partition number of submissions and usage (the runs it owns), and a change of
        // membership moves only the numbers that must move, cooperatively: see RunPartitionAssignor.
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, RunPartitionAssignor.class.getName());
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

    /** The coordinator's {@code transaction.timeout.ms} unless a client property sets it (see producerProps). */
    static final int DEFAULT_TRANSACTION_TIMEOUT_MS = 30_000;

    private Map<String, Object> producerProps() {
        Map<String, Object> p = new HashMap<>(config.clientProperties());
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "sluice-coordinator-" + config.instanceId());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "sluice-coordinator-" + config.instanceId());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "1");
        // A crashed coordinator's open transaction holds back read_committed readers (and the partition's next owner,
        // unless it is the same instance restarted) until it times out: not long. But a transaction still open when
        // the broker comes back from an outage longer than this is aborted with a bumped epoch, which fences the
        // coordinator as a zombie would be (it exits): long enough to ride out a broker restart. A client property
        // may set it (e.g. shorter, for fast fail-over between instances).
        p.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, Integer.toString(DEFAULT_TRANSACTION_TIMEOUT_MS));
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(Topics.MAX_MESSAGE_BYTES));
        return p;
    }
}
