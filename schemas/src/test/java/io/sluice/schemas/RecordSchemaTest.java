package io.sluice.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Records built in Java, as the coordinator and workers build them, must serialise to JSON their schema accepts;
 * and each schema must refuse what its record would not mean.
 */
class RecordSchemaTest {

    private static final long T0 = 1_717_236_000_000L;
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private static ObjectNode turns(int input, int output) {
        ObjectNode in = NODES.objectNode();
        in.putArray("turns").addObject().put("input_tokens", input).put("output_tokens", output);
        return in;
    }

    static Stream<Arguments> records() {
        Budget full = new Budget(1000L, 800L, 200L, 10L, 60_000L, 4);
        Workflow workflow = new Workflow("audit", full, 300L, List.of(
                new Branch("scan", Budget.ofTokens(600).withMaxSteps(5L), null, List.of(
                        new Leaf("readme", Budget.NONE, "simulated", turns(120, 80)),
                        new Leaf("page", Budget.ofTokens(50).withTimeoutMs(1000L).withMaxParallel(2), "simulated",
                                null, 1000, 3))),
                new Branch("empty", null, null, null),
                new Leaf("summary", null, "simulated", NODES.nullNode())));
        LedgerEntry ledger = new LedgerEntry("audit-42", "audit/scan", "branch", Mode.OPTIMISTIC, Status.BUDGET_EXCEEDED,
                "audit/scan: max_tokens 600 exhausted", Budget.ofTokens(600), new Reservation(0, 0, 0, 0),
                new Usage(500, 150, 4), Map.of(Status.SUCCEEDED, 3L, Status.CANCELLED, 997L), 50, T0 + 900);
        LedgerEntry bare = new LedgerEntry("audit-42", "audit/scan/page[999]", "leaf", Mode.STRICT, Status.PENDING, null,
                null, null, null, null, 0, T0);
        return Stream.of(
                Arguments.of("submission", WireSchemas.SUBMISSION, new Submission("audit-42", Mode.OPTIMISTIC, workflow)),
                Arguments.of("submission without run id or mode", WireSchemas.SUBMISSION,
                        new Submission(null, null, new Workflow("w", null, null, null))),
                Arguments.of("leaf task", WireSchemas.LEAF_TASK, new LeafTask("audit-42", "audit/scan/readme", 1,
                        new Grant(300L, null, null, 3L), T0 + 60_000, "simulated", turns(120, 80), T0)),
                Arguments.of("leaf task, unlimited and without input", WireSchemas.LEAF_TASK, new LeafTask("r:1",
                        "w/page[0]", 2, Grant.UNLIMITED, null, "simulated", null, T0)),
                Arguments.of("usage event, step", WireSchemas.USAGE_EVENT, new UsageEvent("audit-42", "audit/scan/readme",
                        1, "worker-1", 1, 120, 80, 1, false, Status.RUNNING, null, null, T0 + 10)),
                Arguments.of("usage event, final", WireSchemas.USAGE_EVENT, new UsageEvent("audit-42", "audit/scan/readme",
                        1, "worker-1", 2, 0, 0, 0, true, Status.TIMED_OUT, "deadline passed", NODES.textNode("partial"),
                        T0 + 20)),
                Arguments.of("ledger entry", WireSchemas.LEDGER_ENTRY, ledger),
                Arguments.of("ledger entry, nothing optional", WireSchemas.LEDGER_ENTRY, bare),
                Arguments.of("halt", WireSchemas.HALT, new Halt("audit-42", "audit/scan", Status.CANCELLED,
                        "audit/scan: max_tokens 600 exhausted", T0 + 900)),
                Arguments.of("halt without reason", WireSchemas.HALT, new Halt("audit-42", "audit", Status.TIMED_OUT, null,
                        T0 + 60_000)),
                Arguments.of("receipt", WireSchemas.RECEIPT, new Receipt("audit-42", Mode.OPTIMISTIC,
                        Status.BUDGET_EXCEEDED, "audit/scan: max_tokens 600 exhausted", T0, T0 + 1000, List.of(ledger, bare))),
                Arguments.of("receipt of a rejection", WireSchemas.RECEIPT, new Receipt("generated-1", null,
                        Status.REJECTED, "workflow: is required", T0, T0, null)),
                Arguments.of("rejection", WireSchemas.REJECTION, new Rejection(Topics.SUBMISSIONS, 0, 41, null,
                        "submission", List.of("payload: is empty"), "", T0)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("records")
    void shouldSerialiseToJsonItsSchemaAccepts(String name, String schemaFile, Object record) {
        // when
        JsonNode written = Json.tree(Json.write(record));

        // then
        assertThat(SchemaAssertions.errors(schemaFile, written)).as(name + ": " + written).isEmpty();
        assertThat(Json.read(Json.write(record), record.getClass())).as(name).isEqualTo(record);
    }

    @Test
    void shouldPassTheValidatorWithASubmissionBuiltInJava() {
        // given
        Submission submission = (Submission) records().findFirst().orElseThrow().get()[2];

        // when
        ValidationResult result = new SubmissionValidator().validate(Json.write(submission));

        // then
        assertThat(result.errors()).isEmpty();
        assertThat(result.submission()).isEqualTo(submission);
    }

    @Test
    void shouldNotWriteBudgetHelpersAsFields() {
        // when
        String written = Json.writeString(Budget.NONE);

        // then: isEmpty() is no wire field (it was once written as "empty" and no reader accepted it back)
        assertThat(written).isEqualTo("{}");
        assertThat(Json.read(Json.write(Budget.ofTokens(5)), Budget.class)).isEqualTo(Budget.ofTokens(5));
    }

    static Stream<Arguments> invalidRecords() {
        return Stream.of(
                Arguments.of(WireSchemas.USAGE_EVENT, "usage-event.step.json", "final", NODES.booleanNode(true),
                        List.of("status: must be \"succeeded\", \"failed\", \"budget_exceeded\", \"timed_out\","
                                + " \"cancelled\" or \"lost\", got \"running\"")),
                Arguments.of(WireSchemas.USAGE_EVENT, "usage-event.final.json", "final", NODES.booleanNode(false),
                        List.of("status: must be \"running\", got \"succeeded\"")),
                Arguments.of(WireSchemas.USAGE_EVENT, "usage-event.step.json", "seq", NODES.numberNode(0),
                        List.of("seq: must be ≥ 1, got 0")),
                Arguments.of(WireSchemas.USAGE_EVENT, "usage-event.step.json", "input_tokens", NODES.numberNode(-1),
                        List.of("input_tokens: must be ≥ 0, got -1")),
                Arguments.of(WireSchemas.LEAF_TASK, "leaf-task.json", "path", NODES.textNode("audit//readme"),
                        List.of("path: must be a string matching ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
                                + "(/[A-Za-z0-9][A-Za-z0-9._-]{0,63})*(\\[(0|[1-9][0-9]{0,5})\\])?$, got \"audit//readme\"")),
                Arguments.of(WireSchemas.LEAF_TASK, "leaf-task.json", "attempt", NODES.numberNode(0),
                        List.of("attempt: must be ≥ 1, got 0")),
                Arguments.of(WireSchemas.LEAF_TASK, "leaf-task.json", "grant", NODES.objectNode().put("tokens", 5),
                        List.of("grant.tokens: unknown field (expected one of max_tokens, max_input_tokens,"
                                + " max_output_tokens, max_steps, max_cost_microusd, wrap_up_tokens)")),
                Arguments.of(WireSchemas.LEDGER_ENTRY, "ledger-entry.branch.json", "kind", NODES.textNode("node"),
                        List.of("kind: must be \"workflow\", \"branch\" or \"leaf\", got \"node\"")),
                Arguments.of(WireSchemas.LEDGER_ENTRY, "ledger-entry.branch.json", "leaves",
                        NODES.objectNode().put("done", 1), List.of("leaves.done: is not an allowed name")),
                Arguments.of(WireSchemas.HALT, "halt.json", "status", NODES.textNode("succeeded"),
                        List.of("status: must be \"cancelled\" or \"timed_out\", got \"succeeded\"")),
                Arguments.of(WireSchemas.RECEIPT, "receipt.json", "status", NODES.textNode("running"),
                        List.of("status: must be \"succeeded\", \"failed\", \"budget_exceeded\", \"timed_out\","
                                + " \"cancelled\" or \"rejected\", got \"running\"")),
                Arguments.of(WireSchemas.REJECTION, "rejection.json", "errors", NODES.arrayNode(),
                        List.of("errors: must have at least 1 items")));
    }

    @ParameterizedTest(name = "{0} with {2} = {3}")
    @MethodSource("invalidRecords")
    void shouldRefuseAValueItsRecordWouldNotMean(String schemaFile, String example, String field, JsonNode value,
                                                 List<String> expected) {
        // given
        ObjectNode tree = (ObjectNode) Json.tree(WireContractExamplesTest.example(example));
        tree.set(field, value);

        // when
        List<String> errors = SchemaAssertions.errors(schemaFile, tree);

        // then
        assertThat(errors).containsExactlyElementsOf(expected);
    }

    @Test
    void shouldRefuseAnUnknownFieldInEveryRecord() {
        for (String example : WireContractExamplesTest.EXAMPLES) {
            // given
            ObjectNode tree = (ObjectNode) Json.tree(WireContractExamplesTest.example(example));
            tree.put("surprise", 1);
            String schema = example.substring(0, example.indexOf('.')) + ".schema.json";

            // when
            List<String> errors = SchemaAssertions.errors(schema, tree);

            // then
            assertThat(errors).as(example).singleElement().asString().startsWith("surprise: unknown field (expected one of ");
        }
    }

    @Test
    void shouldAnchorPatternsAsEcmaScriptDoesNotAsJavaDoes() {
        // given
        var anchored = WireSchemas.ecmaScriptRegex("^[a-z]+$");
        var dollarInClass = WireSchemas.ecmaScriptRegex("^[$a]+$");
        var escapedDollar = WireSchemas.ecmaScriptRegex("^a\\$$");

        // when / then
        assertThat(anchored.matches("scan")).isTrue();
        assertThat(anchored.matches("scan\n")).isFalse();
        assertThat(dollarInClass.matches("$a$")).isTrue();
        assertThat(escapedDollar.matches("a$")).isTrue();
        assertThat(escapedDollar.matches("a$\n")).isFalse();
    }

    @Test
    void shouldLoadEverySchemaFileFromTheClasspath() {
        for (String file : WireSchemas.FILES) {
            // when
            JsonNode raw = WireSchemas.raw(file);

            // then
            assertThat(raw.get("$id").asText()).isEqualTo(WireSchemas.BASE_IRI + file);
            assertThat(raw.get("$schema").asText()).isEqualTo("https://json-schema.org/draft/2020-12/schema");
            assertThat(WireSchemas.schema(file)).isNotNull();
        }
    }
}
