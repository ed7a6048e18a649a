package io.sluice.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The golden examples ({@code src/main/resources/examples/}) against both halves of the contract: each must be
 * valid by its JSON Schema and survive a round trip through its record unchanged, so the schemas and the records
 * cannot drift apart unnoticed.
 */
class WireContractExamplesTest {

    /** Example file name prefix → the schema and record it is an example of. */
    private static final Map<String, Contract> CONTRACTS = Map.of(
            "submission", new Contract(WireSchemas.SUBMISSION, Submission.class),
            "leaf-task", new Contract(WireSchemas.LEAF_TASK, LeafTask.class),
            "usage-event", new Contract(WireSchemas.USAGE_EVENT, UsageEvent.class),
            "ledger-entry", new Contract(WireSchemas.LEDGER_ENTRY, LedgerEntry.class),
            "halt", new Contract(WireSchemas.HALT, Halt.class),
            "receipt", new Contract(WireSchemas.RECEIPT, Receipt.class),
            "rejection", new Contract(WireSchemas.REJECTION, Rejection.class),
            "run-record", new Contract(WireSchemas.RUN_RECORD, RunRecord.class),
            "heartbeat", new Contract(WireSchemas.HEARTBEAT, Heartbeat.class),
            "cancel-request", new Contract(WireSchemas.CANCEL_REQUEST, CancelRequest.class));

    static final List<String> EXAMPLES = List.of(
            "submission.audit.json",
            "submission.fan-out.json",
            "submission.minimal.json",
            "submission.openai.json",
            "leaf-task.json",
            "leaf-task.copy-retry.json",
            "usage-event.step.json",
            "usage-event.final.json",
            "usage-event.final-failed.json",
            "usage-event.final-lost.json",
            "ledger-entry.branch.json",
            "ledger-entry.workflow.json",
            "ledger-entry.leaf-in-flight.json",
            "halt.json",
            "receipt.json",
            "receipt.rejected.json",
            "rejection.json",
            "run-record.json",
            "heartbeat.json",
            "cancel-request.json");

    private record Contract(String schemaFile, Class<?> recordType) {
    }

    static byte[] example(String file) {
        try (InputStream in = WireContractExamplesTest.class.getResourceAsStream("/examples/" + file)) {
            assertThat(in).as("example " + file).isNotNull();
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Contract contractOf(String file) {
        return CONTRACTS.get(file.substring(0, file.indexOf('.')));
    }

    @Test
    void shouldHaveAnExampleOfEveryWireRecordAndNoUnlistedOnes() throws URISyntaxException, IOException {
        // given
        Path dir = Path.of(WireContractExamplesTest.class.getResource("/examples").toURI());

        // when
        List<String> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }

        // then
        assertThat(files).containsExactlyInAnyOrderElementsOf(EXAMPLES);
        assertThat(EXAMPLES.stream().map(f -> f.substring(0, f.indexOf('.'))).distinct())
                .containsExactlyInAnyOrderElementsOf(CONTRACTS.keySet());
        assertThat(EXAMPLES).contains("usage-event.step.json", "usage-event.final.json");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void shouldBeValidByItsSchema(String file) {
        // given
        JsonNode tree = Json.tree(example(file));

        // when
        List<String> errors = SchemaAssertions.errors(contractOf(file).schemaFile(), tree);

        // then
        assertThat(errors).as(file).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void shouldRoundTripThroughItsRecordUnchanged(String file) {
        // given
        byte[] bytes = example(file);
        Contract contract = contractOf(file);

        // when
        Object record = Json.read(bytes, contract.recordType());
        JsonNode written = Json.tree(Json.write(record));

        // then
        JsonNode expected = Json.tree(bytes);
        if (contract.recordType() == Submission.class) {
            expected = WireDefaults.fillSubmission(expected);
        }
        assertThat(written).as(file).isEqualTo(expected);
        assertThat(Json.read(Json.write(record), contract.recordType())).as(file).isEqualTo(record);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("submissionExamples")
    void shouldPassTheSubmissionValidator(String file) {
        // when
        ValidationResult result = new SubmissionValidator().validate(example(file));

        // then
        assertThat(result.errors()).as(file).isEmpty();
        assertThat(result.submission()).isEqualTo(Json.read(example(file), Submission.class));
    }

    @Test
    void shouldStandForAHundredThousandLeavesInTheFanOutExample() {
        // when
        Submission submission = Json.read(example("submission.fan-out.json"), Submission.class);

        // then
        Leaf page = (Leaf) ((Branch) submission.workflow().nodes().get(0)).nodes().get(0);
        assertThat(page.copies()).isEqualTo(100_000);
    }

    @Test
    void shouldDeclareInTheSchemaTheDefaultsTheRecordsWrite() {
        // given
        JsonNode submission = WireSchemas.raw(WireSchemas.SUBMISSION);
        JsonNodeFactory nodes = JsonNodeFactory.instance;

        // when / then
        assertThat(submission.at("/properties/mode/default")).isEqualTo(nodes.textNode("strict"));
        for (String def : List.of("workflow", "branch", "leaf")) {
            assertThat(submission.at("/$defs/" + def + "/properties/budget/default")).as(def).isEqualTo(nodes.objectNode());
        }
        for (String def : List.of("workflow", "branch")) {
            assertThat(submission.at("/$defs/" + def + "/properties/nodes/default")).as(def).isEqualTo(nodes.arrayNode());
        }
        assertThat(submission.at("/$defs/leaf/properties/input/default")).isEqualTo(nodes.nullNode());
        assertThat(Json.tree(Json.write(new Submission(null, null, new Workflow("w", null, null, null)))))
                .isEqualTo(WireDefaults.fillSubmission(Json.tree("{\"workflow\":{\"id\":\"w\"}}".getBytes())));
    }

    @Test
    void shouldFillDefaultsWithoutTouchingTheGivenTree() {
        // given
        ObjectNode given = (ObjectNode) Json.tree("{\"workflow\":{\"id\":\"w\"}}".getBytes());

        // when
        JsonNode filled = WireDefaults.fillSubmission(given);

        // then
        assertThat(given.toString()).isEqualTo("{\"workflow\":{\"id\":\"w\"}}");
        assertThat(filled.toString()).isEqualTo("{\"workflow\":{\"id\":\"w\",\"budget\":{},\"nodes\":[]},\"mode\":\"strict\"}");
    }

    static Stream<String> examples() {
        return EXAMPLES.stream();
    }

    static Stream<String> submissionExamples() {
        return EXAMPLES.stream().filter(f -> f.startsWith("submission."));
    }
}
