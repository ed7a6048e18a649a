package io.sluice.cli;

import java.util.UUID;
import java.util.concurrent.Callable;

import io.sluice.coordinator.Coordinator;
import io.sluice.coordinator.CoordinatorConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sluice coordinator}: a coordinator process. */
@Command(name = "coordinator", mixinStandardHelpOptions = true, description = "Runs a coordinator until terminated.")
final class CoordinatorCommand implements Callable<Integer> {

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--instance-id", description = "Stable identity (transactional id); default: random")
    String instanceId;

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
        String id = instanceId != null ? instanceId : "coordinator-" + UUID.randomUUID().toString().substring(0, 8);
        EmbeddedSluice.prepareCluster(bootstrap, connection.clientProperties);
        MetricsServer metrics = MetricsServer.start(metricsBind, metricsPort);
        CoordinatorConfig base = CoordinatorConfig.of(bootstrap, id);
        CoordinatorConfig config = new CoordinatorConfig(bootstrap, base.groupId(), id, base.pollTimeout(), base.ledger(),
                base.limits(), connection.clientProperties);
        Coordinator coordinator = new Coordinator(config, metrics.registry()).start();
        System.out.println("coordinator " + id + " running against " + bootstrap);
        ProcessLifetime.runUntilTerminated(() -> {
            coordinator.close();
            metrics.close();
        });
        return Exit.OK;
    }
}
