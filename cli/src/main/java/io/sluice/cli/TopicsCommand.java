package io.sluice.cli;

import java.util.concurrent.Callable;

import io.sluice.schemas.Topics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code sluice topics}: creates Sluice's topics (idempotent) and configures the workers' share group. */
@Command(name = "topics", mixinStandardHelpOptions = true, description = "Creates Sluice's topics if missing.")
final class TopicsCommand implements Callable<Integer> {

    @Mixin
    ConnectionOptions connection;

    @Override
    public Integer call() throws Exception {
        String bootstrap = connection.bootstrapOrNull();
        if (bootstrap == null) {
            System.err.println("--bootstrap-servers (or SLUICE_BOOTSTRAP_SERVERS) is required");
            return Exit.INVALID;
        }
        EmbeddedSluice.prepareCluster(bootstrap, connection.clientProperties);
        for (Topics.Spec spec : Topics.all()) {
            System.out.printf("%-20s %2d partitions  %s%n", spec.name(), spec.partitions(), spec.configs().get("cleanup.policy"));
        }
        return Exit.OK;
    }
}
