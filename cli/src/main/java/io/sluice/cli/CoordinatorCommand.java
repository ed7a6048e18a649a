package io.sluice.cli;

import java.util.UUID;
import java.util.concurrent.Callable;

import io.sluice.coordinator.Coordinator;
import io.sluice.coordinator.CoordinatorConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sluice coordinator}: a coordinator process. */
@Command(name = "coordinator", mixinStandardHelpOptions = true, description = "Runs a coordinator until terminated.")
final class CoordinatorCommand implements Callable<Integer> {

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--instance-id", description = "Stable identity (transactional id); default: random")
    String instanceId;

    @Mixin
    MetricsOptions metricsOptions;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String bootstrap = connection.requireBootstrap(spec.commandLine());
        String id = instanceId != null ? instanceId : "coordinator-" + UUID.randomUUID().toString().substring(0, 8);
        CoordinatorConfig config = CoordinatorConfig.of(bootstrap, id).withClientProperties(connection.clientProperties());
        metricsOptions.portNumber(spec.commandLine(), MetricsOptions.COORDINATOR_DEFAULT);
        connection.requireReachable(bootstrap);
        EmbeddedSluice.prepareCluster(bootstrap, connection.clientProperties());
        MetricsServer metrics = metricsOptions.start(spec.commandLine(), MetricsOptions.COORDINATOR_DEFAULT, "coordinator");
        Coordinator coordinator = new Coordinator(config, metrics.registry()).start();
        metrics.readiness(() -> coordinator.state() == Coordinator.State.RUNNING);
        System.out.println("coordinator " + id + " running against " + bootstrap
                + (metrics.url() == null ? "" : "; metrics on " + metrics.url()));
        ProcessLifetime.runUntilTerminated(() -> {
            coordinator.close();
            metrics.close();
        }, coordinator.loopExit());
        // Stopped on its own: exit non-zero so that a supervisor restarts it (its runs are on the ledger).
        return coordinator.state() == Coordinator.State.FAILED ? Exit.SERVICE_FAILED : Exit.OK;
    }
}
