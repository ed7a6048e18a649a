package io.sluice.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.broker.EmbeddedKafkaBroker;
import io.sluice.coordinator.Coordinator;
import io.sluice.coordinator.CoordinatorConfig;
import io.sluice.schemas.TopicAdmin;
import io.sluice.schemas.Topics;
import io.sluice.worker.Worker;
import io.sluice.worker.WorkerConfig;
import io.sluice.worker.execute.ExecutorRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * A whole Sluice in one process: a real embedded Kafka broker (unless a cluster is given), the topics, one
 * coordinator and {@code workers} worker instances — what {@code sluice demo} and {@code sluice submit}
 * without a cluster run on. Closing it stops everything in reverse order.
 */
final class EmbeddedSluice implements AutoCloseable {

    private final EmbeddedKafkaBroker broker;
    private final String bootstrapServers;
    private final Coordinator coordinator;
    private final List<Worker> workers = new ArrayList<>();

    private EmbeddedSluice(EmbeddedKafkaBroker broker, String bootstrapServers, Coordinator coordinator) {
        this.broker = broker;
        this.bootstrapServers = bootstrapServers;
        this.coordinator = coordinator;
    }

    /**
     * @param bootstrapServers an existing cluster, or null to start an embedded broker
     * @param workerCount      worker instances to run in this process
     * @param concurrency      leaves each worker runs at once
     */
    static EmbeddedSluice start(String bootstrapServers, int workerCount, int concurrency, MeterRegistry registry)
            throws InterruptedException {
        EmbeddedKafkaBroker broker = bootstrapServers == null ? EmbeddedKafkaBroker.start() : null;
        String bootstrap = broker != null ? broker.bootstrapServers() : bootstrapServers;
        EmbeddedSluice sluice = null;
        try {
            prepareCluster(bootstrap, Map.of());
            Coordinator coordinator = new Coordinator(CoordinatorConfig.of(bootstrap, "embedded-1"), registry).start();
            sluice = new EmbeddedSluice(broker, bootstrap, coordinator);
            for (int i = 1; i <= workerCount; i++) {
                WorkerConfig config = WorkerConfig.of(bootstrap, "worker-" + i).withConcurrency(concurrency);
                Worker worker = new Worker(config, ExecutorRegistry.discover(), registry);
                worker.start();
                sluice.workers.add(worker);
            }
            return sluice;
        } catch (RuntimeException | InterruptedException e) {
            if (sluice != null) {
                sluice.close();
            } else if (broker != null) {
                broker.close();
            }
            throw e;
        }
    }

    /** Creates the topics and configures the workers' share group; both idempotent. */
    static void prepareCluster(String bootstrap, Map<String, String> clientProperties) throws InterruptedException {
        Map<String, Object> props = new java.util.HashMap<>(clientProperties);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(props)) {
            TopicAdmin.ensure(admin, Topics.all(), replicationFor(admin), TopicAdmin.DEFAULT_TIMEOUT);
            Worker.configureShareGroup(admin, WorkerConfig.of(bootstrap, "setup"), TopicAdmin.DEFAULT_TIMEOUT);
        }
    }

    private static short replicationFor(Admin admin) {
        try {
            int brokers = admin.describeCluster().nodes().get().size();
            return (short) Math.min(3, Math.max(1, brokers));
        } catch (Exception e) {
            return 1;
        }
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    @Override
    public void close() {
        Duration bound = Duration.ofSeconds(10);
        for (Worker w : workers) {
            w.close();
        }
        coordinator.close(bound);
        if (broker != null) {
            broker.close();
        }
    }
}
