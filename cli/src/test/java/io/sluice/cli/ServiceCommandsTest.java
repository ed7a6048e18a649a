package io.sluice.cli;

import static io.sluice.cli.CliRun.sluice;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code coordinator}, {@code worker}, {@code topics}: what a person who got something wrong is told. */
class ServiceCommandsTest {

    @Test
    @Timeout(60)
    void shouldSayInOneLineThatNoBrokerAnswersAtTheAddress() {
        // when: nothing listens on port 1
        CliRun run = sluice("worker", "-b", "127.0.0.1:1");

        // then
        assertThat(run.exitCode()).as(run::toString).isEqualTo(Exit.BROKER);
        assertThat(run.err().strip()).isEqualTo("sluice worker: broker error: no Kafka broker answered at 127.0.0.1:1 within 10s");
    }

    @Test
    void shouldRefuseBadOptionValuesInOneLineBeforeAskingTheCluster() {
        CliRun port = sluice("worker", "-b", "127.0.0.1:1", "--metrics-port", "70000");
        CliRun concurrency = sluice("worker", "-b", "127.0.0.1:1", "--concurrency", "0");
        CliRun missing = sluice("coordinator");

        assertThat(port.exitCode()).isEqualTo(Exit.INVALID);
        assertThat(port.err().strip()).isEqualTo(
                "sluice worker: --metrics-port: must be 1..65535, auto or off, got '70000' (sluice worker --help)");
        assertThat(concurrency.exitCode()).isEqualTo(Exit.INVALID);
        assertThat(concurrency.err().strip()).isEqualTo("sluice worker: concurrency: must be 1..4096, got 0");
        assertThat(missing.exitCode()).isEqualTo(Exit.INVALID);
        assertThat(missing.err().strip()).isEqualTo(
                "sluice coordinator: --bootstrap-servers (or SLUICE_BOOTSTRAP_SERVERS) is required (sluice coordinator --help)");
    }

    @Test
    void shouldNotShowALiteralEscapeInHelp() {
        CliRun help = sluice("worker", "--help");

        assertThat(help.out()).contains("$SLUICE_BOOTSTRAP_SERVERS").doesNotContain("\\$").doesNotContain("embedded");
    }
}
