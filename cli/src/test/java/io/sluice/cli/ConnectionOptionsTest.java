package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

class ConnectionOptionsTest {

    @Command(name = "probe")
    static final class Probe implements Runnable {
        @Mixin
        ConnectionOptions connection;

        @Override
        public void run() {
        }
    }

    @TempDir
    Path dir;

    @Test
    void shouldReadTheCommandConfigFileAndLetEveryClientPropertyWinOverIt() throws Exception {
        // given: what Kafka's own tools take as --command-config
        Path file = dir.resolve("client.properties");
        Files.writeString(file, """
                security.protocol=SASL_SSL
                sasl.mechanism=SCRAM-SHA-512
                sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="ops" password="s3cret";
                request.timeout.ms=20000
                """);
        Probe probe = new Probe();

        // when
        new CommandLine(probe).parseArgs("--command-config", file.toString(), "--client-property", "request.timeout.ms=5000");

        // then
        assertThat(probe.connection.clientProperties())
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                        + "username=\"ops\" password=\"s3cret\";")
                .containsEntry("request.timeout.ms", "5000");
    }

    @Test
    void shouldNameAFileItCannotRead() {
        Probe probe = new Probe();
        new CommandLine(probe).parseArgs("--command-config", dir.resolve("missing.properties").toString());

        assertThatThrownBy(() -> probe.connection.clientProperties()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--command-config " + dir.resolve("missing.properties") + ": cannot read it: ");
    }
}
