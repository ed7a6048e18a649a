package io.sluice.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static io.sluice.cli.CliRun.sluice;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code sluice validate FILE}: no broker, exit 0 or 2, every problem on its own line. */
class ValidateCommandTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"submission.audit.json", "submission.fan-out.json", "submission.minimal.json", "submission.openai.json"})
    void shouldAcceptTheShippedExampleSubmissions(String example) throws IOException {
        // given
        Path file = Examples.copy(example, dir);

        // when
        CliRun run = sluice("validate", file.toString());

        // then
        assertThat(run.exitCode()).as(run::toString).isEqualTo(Exit.OK);
        assertThat(run.out()).isEqualTo(file + ": valid submission" + System.lineSeparator());
        assertThat(run.err()).isEmpty();
    }

    @Test
    void shouldListEveryErrorOfAnInvalidSubmission() throws IOException {
        // given: six problems, of the schema (pattern, enum, minimum, type, required) and of the rules (duplicate
        // ids), where document order is not the order of the checks
        Path file = dir.resolve("broken.json");
        Files.writeString(file, """
                {"run_id": "bad run", "mode": "lenient",
                 "workflow": {"id": "wf", "budget": {"max_tokens": -5, "max_steps": 1.5},
                  "nodes": [
                    {"kind": "leaf", "id": "a", "executor": "simulated"},
                    {"kind": "leaf", "id": "a", "executor": "simulated"},
                    {"kind": "leaf", "id": "b"}]}}
                """);

        // when
        CliRun run = sluice("validate", file.toString());

        // then: all of them, in document order, each naming the offending value by its path
        assertThat(run.exitCode()).as(run::toString).isEqualTo(Exit.INVALID);
        assertThat(run.out()).isEmpty();
        assertThat(run.err().lines()).containsExactly(
                file + ": invalid submission",
                "  run_id: must be 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit,"
                        + " got \"bad run\"",
                "  mode: must be \"strict\" or \"optimistic\", got \"lenient\"",
                "  workflow.budget.max_tokens: must be ≥ 0, got -5",
                "  workflow.budget.max_steps: must be an integer, got 1.5",
                "  workflow.nodes[1].id: duplicate id 'a' among siblings (first at workflow.nodes[0])",
                "  workflow.nodes[2].executor: is required");
    }

    @Test
    void shouldPrintToTheProcessStreamsWhenRunAsTheMainCommand() throws IOException {
        // given: no writers set, as main() runs it
        Path valid = Examples.copy("submission.minimal.json", dir);
        Path missing = dir.resolve("missing.json");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        int validExit;
        int missingExit;

        // when
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            validExit = SluiceCommand.execute("validate", valid.toString());
            missingExit = SluiceCommand.execute("validate", missing.toString());
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }

        // then
        assertThat(validExit).isEqualTo(Exit.OK);
        assertThat(missingExit).isEqualTo(Exit.INVALID);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(valid + ": valid submission" + System.lineSeparator());
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("cannot read " + missing + ": ");
    }

    @Test
    void shouldRefuseAFileItCannotRead() {
        // given
        Path missing = dir.resolve("missing.json");

        // when
        CliRun run = sluice("validate", missing.toString());

        // then
        assertThat(run.exitCode()).as(run::toString).isEqualTo(Exit.INVALID);
        assertThat(run.err()).startsWith("cannot read " + missing + ": ");
    }

    @Test
    void shouldRefuseAnEndlessInputByItsSizeInsteadOfReadingItAll() {
        // given: /dev/zero once ran the JVM out of heap
        Path endless = Path.of("/dev/zero");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isReadable(endless), "/dev/zero exists");

        // when
        CliRun run = sluice("validate", endless.toString());

        // then
        assertThat(run.exitCode()).as(run::toString).isEqualTo(Exit.INVALID);
        assertThat(run.err().trim()).isEqualTo("/dev/zero: more than 1048576 bytes; a submission may have at most 1048576");
    }

    @Test
    void shouldReadStandardInputForADash() throws IOException {
        // given
        byte[] minimal = Files.readAllBytes(Examples.copy("submission.minimal.json", dir));
        java.io.InputStream stdin = System.in;

        // when
        CliRun run;
        try {
            System.setIn(new java.io.ByteArrayInputStream(minimal));
            run = sluice("validate", "-");
        } finally {
            System.setIn(stdin);
        }

        // then
        assertThat(run.exitCode()).as(run::toString).isEqualTo(Exit.OK);
        assertThat(run.out().trim()).isEqualTo("standard input: valid submission");
    }
}
