package io.sluice.cli;

import java.util.UUID;
import java.util.concurrent.Callable;

import io.sluice.worker.Worker;
import io.sluice.worker.WorkerConfig;
import io.sluice.worker.execute.ExecutorRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sluice worker}: a stateless worker process; start more to scale. */
@Command(name = "worker", mixinStandardHelpOptions = true, description = "Runs a worker until terminated (SIGTERM drains it).")
final class WorkerCommand implements Callable<Integer> {

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--worker-id", description = "Identity in usage events (default: random)")
    String workerId;

    @Option(names = "--concurrency", description = "Leaves run at once (default ${DEFAULT-VALUE})", defaultValue = "4")
    int concurrency;

    @Option(names = "--metrics-port", description = "Prometheus endpoint port, 0 = off (default ${DEFAULT-VALUE})", defaultValue = "9404")
    int metricsPort;

    @Option(names = "--metrics-bind", description = "Prometheus endpoint address (default ${DEFAULT-VALUE})", defaultValue = "0.0.0.0")
    String metricsBind;

    @Override
    public Integer call() throws Exception {
        String bootstrap = connection.bootstrapOrNull();
        if (bootstrap == null) {
            System.err.println("--bootstrap-servers (or SLUICE_BOOTSTRAP_SERVERS) is required");
            return Exit.INVALID;
        }
        String id = workerId != null ? workerId : "worker-" + UUID.randomUUID().toString().substring(0, 8);
        MetricsServer metrics = MetricsServer.start(metricsBind, metricsPort);
        WorkerConfig config = WorkerConfig.of(bootstrap, id).withConcurrency(concurrency)
                .withClientProperties(connection.clientProperties);
        Worker worker = new Worker(config, ExecutorRegistry.discover(), metrics.registry());
        worker.start();
        System.out.println("worker " + id + " running against " + bootstrap + " (" + concurrency + " at once)");
        ProcessLifetime.runUntilTerminated(() -> {
            worker.close();
            metrics.close();
        });
        return Exit.OK;
    }
}
