package io.sluice.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

import io.sluice.client.SluiceClient;
import picocli.CommandLine.Option;

/** Options shared by every command that talks to a Kafka cluster. */
final class ConnectionOptions {

    @Option(names = {"-b", "--bootstrap-servers"}, paramLabel = "HOST:PORT,...",
            description = "Kafka cluster to use (default: $SLUICE_BOOTSTRAP_SERVERS, else the bootstrap.servers of "
                    + "--command-config)")
    String bootstrapServers;

    @Option(names = "--client-property", paramLabel = "KEY=VALUE",
            description = "Extra Kafka client property (e.g. security settings); repeatable; wins over --command-config")
    Map<String, String> clientProperties = new LinkedHashMap<>();

    @Option(names = "--command-config", paramLabel = "FILE", defaultValue = "${env:SLUICE_COMMAND_CONFIG}",
            description = "Kafka client properties file, as Kafka's own tools take it (security.protocol, "
                    + "sasl.jaas.config, ssl.truststore.location, ...; default: $SLUICE_COMMAND_CONFIG)")
    Path commandConfig;

    private Map<String, String> merged;

    /**
     * The Kafka client properties: the {@code --command-config} file's, then every {@code --client-property} over them.
     *
     * @throws IllegalArgumentException when the file cannot be read (said in one line, exit 2)
     */
    Map<String, String> clientProperties() {
        if (commandConfig == null) {
            return clientProperties;
        }
        if (merged == null) {
            merged = Map.copyOf(readMerged()); // read once: every client of the command gets the same settings
        }
        return merged;
    }

    private Map<String, String> readMerged() {
        Properties file = new Properties();
        try (Reader in = Files.newBufferedReader(commandConfig)) {
            file.load(in);
        } catch (IOException e) {
            throw new IllegalArgumentException("--command-config " + commandConfig + ": cannot read it: " + e.getMessage(), e);
        }
        Map<String, String> merged = new LinkedHashMap<>();
        file.stringPropertyNames().stream().sorted().forEach(k -> merged.put(k, file.getProperty(k)));
        merged.putAll(clientProperties);
        return merged;
    }

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

    /**
     * A client of the cluster given, once it answers: for the commands that read and write runs.
     *
     * @throws picocli.CommandLine.ParameterException (exit 2) when no cluster was given
     * @throws org.apache.kafka.common.KafkaException (exit 3) when it does not answer within {@link ClusterProbe#TIMEOUT}
     */
    SluiceClient client(picocli.CommandLine commandLine) throws InterruptedException {
        String bootstrap = requireBootstrap(commandLine);
        requireReachable(bootstrap);
        return new SluiceClient(bootstrap, clientProperties());
    }

    /** @throws org.apache.kafka.common.KafkaException (exit 3) when it does not answer within {@link ClusterProbe#TIMEOUT} */
    void requireReachable(String bootstrap) throws InterruptedException {
        ClusterProbe.requireReachable(bootstrap, clientProperties());
    }

    /**
     * The cluster to use, or null when none was given (the caller may start an embedded one): {@code -b}, else
     * {@code $SLUICE_BOOTSTRAP_SERVERS}, else the {@code bootstrap.servers} of the {@code --command-config} file.
     */
    String bootstrapOrNull() {
        if (bootstrapServers != null && !bootstrapServers.isBlank()) {
            return bootstrapServers;
        }
        String env = System.getenv("SLUICE_BOOTSTRAP_SERVERS");
        if (env != null && !env.isBlank()) {
            return env;
        }
        String fromFile = commandConfig == null ? null : clientProperties().get("bootstrap.servers");
        return fromFile == null || fromFile.isBlank() ? null : fromFile;
    }
}
