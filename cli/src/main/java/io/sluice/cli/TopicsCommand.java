package io.sluice.cli;

import java.util.concurrent.Callable;

import io.sluice.schemas.Topics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code sluice topics}: creates Sluice's topics (idempotent) and configures the workers' share group. */
@Command(name = "topics", mixinStandardHelpOptions = true, description = "Creates Sluice's topics if missing.")
final class TopicsCommand implements Callable<Integer> {

    @Mixin
    ConnectionOptions connection;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String bootstrap = connection.requireBootstrap(spec.commandLine());
        connection.requireReachable(bootstrap);
        EmbeddedSluice.prepareCluster(bootstrap, connection.clientProperties());
        for (Topics.Spec spec : Topics.all()) {
            System.out.printf("%-20s %2d partitions  %s%n", spec.name(), spec.partitions(), spec.configs().get("cleanup.policy"));
        }
        return Exit.OK;
    }
}
