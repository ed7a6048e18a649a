package io.sluice.cli;

import java.util.LinkedHashMap;
import java.util.Map;

import picocli.CommandLine.Option;

/** Options shared by every command that talks to a Kafka cluster. */
final class ConnectionOptions {

    @Option(names = {"-b", "--bootstrap-servers"}, paramLabel = "HOST:PORT,...",
            description = "Kafka cluster to use (default: $SLUICE_BOOTSTRAP_SERVERS)")
    String bootstrapServers;

    @Option(names = "--client-property", paramLabel = "KEY=VALUE",
            description = "Extra Kafka client property (e.g. security settings); repeatable")
    Map<String, String> clientProperties = new LinkedHashMap<>();

    /**
     * The cluster to use, for commands that cannot run without one.
     *
     * @throws picocli.CommandLine.ParameterException (exit 2) when none was given
     */
    String requireBootstrap(picocli.CommandLine commandLine) {
        String bootstrap = bootstrapOrNull();
        if (bootstrap == null) {
            throw new picocli.CommandLine.ParameterException(commandLine,
                    "--bootstrap-servers (or SLUICE_BOOTSTRAP_SERVERS) is required");
        }
        return bootstrap;
    }

    /** @throws org.apache.kafka.common.KafkaException (exit 3) when it does not answer within {@link ClusterProbe#TIMEOUT} */
    void requireReachable(String bootstrap) throws InterruptedException {
        ClusterProbe.requireReachable(bootstrap, clientProperties);
    }

    /** The cluster to use, or null when none was given (the caller may start an embedded one). */
    String bootstrapOrNull() {
        if (bootstrapServers != null && !bootstrapServers.isBlank()) {
            return bootstrapServers;
        }
        String env = System.getenv("SLUICE_BOOTSTRAP_SERVERS");
        return env == null || env.isBlank() ? null : env;
    }
}
