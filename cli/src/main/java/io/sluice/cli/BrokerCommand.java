package io.sluice.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.sluice.broker.EmbeddedBrokerConfig;
import io.sluice.broker.EmbeddedKafkaBroker;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sluice broker}: the embedded Kafka broker alone, for coordinators and workers in other processes. */
@Command(name = "broker", mixinStandardHelpOptions = true,
        description = "Runs a single-node Kafka broker (KRaft) on 127.0.0.1 until terminated, with Sluice's topics.")
final class BrokerCommand implements Callable<Integer> {

    @Option(names = "--port", description = "Client port (default: a free one)", defaultValue = "0")
    int port;

    @Option(names = "--data-dir", description = "Keep data here across restarts (default: a temporary directory, deleted on exit)")
    Path dataDir;

    @Override
    public Integer call() throws Exception {
        EmbeddedBrokerConfig config = EmbeddedBrokerConfig.defaults().withPort(port);
        if (dataDir != null) {
            config = config.withDataDir(dataDir, true);
        }
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(config);
        EmbeddedSluice.prepareCluster(broker.bootstrapServers(), java.util.Map.of());
        System.out.println("bootstrap.servers=" + broker.bootstrapServers());
        System.out.flush();
        ProcessLifetime.runUntilTerminated(broker);
        return Exit.OK;
    }
}
