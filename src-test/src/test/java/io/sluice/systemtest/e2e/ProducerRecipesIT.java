package io.sluice.systemtest.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.sluice.client.RunStatus;
import io.sluice.client.SluiceClient;
import io.sluice.schemas.Json;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.systemtest.DebianTools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's recipes for producing work from another system, run exactly as written there (between its
 * {@code recipes:begin} and {@code recipes:end} markers) with bash against the test's broker and a running
 * coordinator and workers: {@code kcat} (Debian's; {@code .ci/run} installs it) and Kafka's console producer and
 * consumer ({@code kafka-console-*.sh} are their classes in {@code kafka-tools}, run by scripts of the same names).
 * The submissions run to success, and the receipt lines print the receipts.
 */
@ExtendWith(SluiceExtension.class)
class ProducerRecipesIT {

    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(60);
    private static final String BEGIN = "<!-- recipes:begin -->";
    private static final String END = "<!-- recipes:end -->";

    private final SluiceSystem sluice;

    ProducerRecipesIT(SluiceSystem sluice) {
        this.sluice = sluice;
    }

    @Test
    void shouldRunTheReadmesProducerRecipesToReceipts(@TempDir Path dir) throws Exception {
        // given: the recipes, the example they name, the console tools under their script names, kcat
        Path kcat = DebianTools.require("kcat", "kcat");
        List<String> lines = recipes();
        assertThat(lines).hasSize(4);
        try (InputStream in = Submission.class.getResourceAsStream("/examples/submission.minimal.json")) {
            Files.write(dir.resolve("submission.json"), in.readAllBytes());
        }
        Path bin = Files.createDirectories(dir.resolve("bin"));
        script(bin, "kafka-console-producer.sh", "org.apache.kafka.tools.ConsoleProducer");
        script(bin, "kafka-console-consumer.sh", "org.apache.kafka.tools.consumer.ConsoleConsumer");
        String kcatRun = sluice.kafka().uniqueRunId("kcat");
        String consoleRun = sluice.kafka().uniqueRunId("console");
        String bootstrap = sluice.kafka().bootstrapServers();

        // when: the two producer lines
        run(dir, bin, kcat, substitute(lines.get(0), bootstrap, kcatRun, consoleRun));
        run(dir, bin, kcat, substitute(lines.get(1), bootstrap, kcatRun, consoleRun));

        // then: both runs succeed, named by their keys
        for (String runId : List.of(kcatRun, consoleRun)) {
            Receipt receipt = receipt(runId);
            assertThat(receipt.status()).as(runId + ": " + receipt.reason()).isEqualTo(Status.SUCCEEDED);
            assertThat(receipt.runId()).isEqualTo(runId);
        }
        assertThat(sluice.tasks(kcatRun)).isNotEmpty();

        // when: the two receipt lines
        String viaKcat = run(dir, bin, kcat, substitute(lines.get(2), bootstrap, kcatRun, consoleRun));
        String viaConsole = run(dir, bin, kcat, substitute(lines.get(3), bootstrap, kcatRun, consoleRun));

        // then: each prints its run's receipt
        assertThat(Json.read(viaKcat.strip().getBytes(StandardCharsets.UTF_8), Receipt.class)).isEqualTo(receipt(kcatRun));
        assertThat(Json.read(viaConsole.strip().getBytes(StandardCharsets.UTF_8), Receipt.class)).isEqualTo(receipt(consoleRun));
    }

    private Receipt receipt(String runId) {
        Receipt[] found = new Receipt[1];
        try (SluiceClient client = new SluiceClient(sluice.kafka().bootstrapServers(), Map.of())) {
            await("the receipt of " + runId).atMost(RUN_TIMEOUT).pollInterval(Duration.ofMillis(250)).until(() -> {
                RunStatus status = client.status(runId, Duration.ofSeconds(10));
                found[0] = status.receipt();
                return found[0] != null;
            });
        }
        return found[0];
    }

    private static List<String> recipes() throws IOException {
        Path repo = Path.of(System.getProperty("sluice.test.repoDir", "..")).toAbsolutePath().normalize();
        String readme = Files.readString(repo.resolve("README.md"));
        int from = readme.indexOf(BEGIN);
        int to = readme.indexOf(END);
        assertThat(from).as("README's " + BEGIN).isNotNegative();
        assertThat(to).as("README's " + END).isGreaterThan(from);
        List<String> commands = new ArrayList<>();
        for (String line : readme.substring(from + BEGIN.length(), to).split("\n")) {
            String l = line.strip();
            if (!l.isEmpty() && !l.startsWith("#") && !l.startsWith("```")) {
                commands.add(l);
            }
        }
        return commands;
    }

    /** The README's placeholders: its cluster and its run ids. */
    private static String substitute(String line, String bootstrap, String kcatRun, String consoleRun) {
        assertThat(line).contains("127.0.0.1:9092");
        return line.replace("127.0.0.1:9092", bootstrap).replace("audit-42", kcatRun).replace("audit-43", consoleRun);
    }

    /** What bin/kafka-console-*.sh do: run the tool's class with the given arguments. */
    private static void script(Path bin, String name, String mainClass) throws IOException {
        Path file = bin.resolve(name);
        Files.writeString(file, "#!/usr/bin/env bash\nexec \"" + Path.of(System.getProperty("java.home"), "bin", "java")
                + "\" -cp \"" + System.getProperty("java.class.path") + "\" " + mainClass + " \"$@\"\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static String run(Path dir, Path bin, Path kcat, String line) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "set -o pipefail; " + line).directory(dir.toFile());
        pb.environment().put("PATH", bin + File.pathSeparator + kcat.getParent() + File.pathSeparator
                + System.getenv().getOrDefault("PATH", ""));
        Path out = dir.resolve("out-" + System.nanoTime());
        Path err = dir.resolve("err-" + System.nanoTime());
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("did not end within 90 s: " + line + "\n" + Files.readString(err));
        }
        assertThat(p.exitValue()).as("%s%nstderr: %s", line, Files.readString(err)).isZero();
        return Files.readString(out);
    }
}
