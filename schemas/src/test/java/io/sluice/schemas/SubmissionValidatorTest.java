package io.sluice.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SubmissionValidatorTest {

    private static final String ID_RULE = "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit";
    private static final String RUN_ID_RULE =
            "must be 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit";
    private static final String EXECUTOR_RULE = "must be 1 to 64 lower-case letters, digits, '_' or '-', starting with a letter";
    private static final String AUDIT = """
            {"run_id": "audit-42", "mode": "strict",
             "workflow": {"id": "audit", "budget": {"max_tokens": 1000, "max_parallel": 4, "timeout_ms": 60000},
               "nodes": [
                 {"kind": "branch", "id": "scan", "budget": {"max_tokens": 600},
                  "nodes": [{"kind": "leaf", "id": "readme", "budget": {"max_tokens": 300, "max_steps": 3},
                             "executor": "simulated", "input": {"turns": [{"input_tokens": 120, "output_tokens": 80}]}}]},
                 {"kind": "leaf", "id": "summary", "executor": "simulated", "input": {"turns": []}}]}}
            """;

    private final SubmissionValidator validator = new SubmissionValidator();

    /** Test payloads are written with ' for " so that the tables stay readable. */
    private static byte[] json(String singleQuoted) {
        return singleQuoted.replace('\'', '"').getBytes(StandardCharsets.UTF_8);
    }

    /** A workflow 'audit' (max_tokens 1000, max_steps 10, timeout_ms 60000, max_parallel 8) with the given nodes. */
    private static String audit(String nodes) {
        return "{'workflow': {'id': 'audit', 'budget': {'max_tokens': 1000, 'max_steps': 10, 'timeout_ms': 60000,"
                + " 'max_parallel': 8}, 'nodes': [" + nodes + "]}}";
    }

    private static String leaf(String id) {
        return "{'kind': 'leaf', 'id': '" + id + "', 'executor': 'simulated'}";
    }

    @Test
    void shouldAcceptTheDocumentedExampleAndParseItIntoRecords() {
        // given
        byte[] payload = AUDIT.getBytes(StandardCharsets.UTF_8);

        // when
        ValidationResult result = validator.validate(payload);

        // then
        assertThat(result.errors()).isEmpty();
        Submission submission = result.submission();
        assertThat(submission.runId()).isEqualTo("audit-42");
        assertThat(submission.mode()).isEqualTo(Mode.STRICT);
        assertThat(submission.workflow().budget()).isEqualTo(new Budget(1000L, null, null, null, 60000L, 4));
        Branch scan = (Branch) submission.workflow().nodes().get(0);
        Leaf readme = (Leaf) scan.nodes().get(0);
        assertThat(readme.budget().maxSteps()).isEqualTo(3L);
        assertThat(readme.input().get("turns").get(0).get("input_tokens").asLong()).isEqualTo(120);
        assertThat(((Leaf) submission.workflow().nodes().get(1)).id()).isEqualTo("summary");
    }

    @Test
    void shouldDefaultModeToStrictAndLeaveRunIdToTheCaller() {
        // given
        byte[] payload = json("{'workflow': {'id': 'w'}}");

        // when
        Submission submission = validator.parse(payload);

        // then
        assertThat(submission.mode()).isEqualTo(Mode.STRICT);
        assertThat(submission.runId()).isNull();
        assertThat(submission.workflow().nodes()).isEmpty();
    }

    @Test
    void shouldAcceptAWideFanOutDescribedByRepeatUpToTheLeafLimit() {
        // given: exactly 1,000,000 leaves
        byte[] payload = json(audit("{'kind': 'leaf', 'id': 'page', 'executor': 'simulated', 'repeat': 999999}, "
                + leaf("report")));

        // when
        ValidationResult result = validator.validate(payload);

        // then
        assertThat(result.isValid()).isTrue();
        assertThat(((Leaf) result.submission().workflow().nodes().get(0)).copies()).isEqualTo(999_999);
    }

    @Test
    void shouldAcceptLimitsEqualToTheAncestorsAndNarrowerOnes() {
        // given
        byte[] payload = json(audit("{'kind': 'branch', 'id': 'b', 'budget': {'max_tokens': 1000, 'max_steps': 10,"
                + " 'timeout_ms': 60000, 'max_parallel': 8, 'max_input_tokens': 1000, 'max_output_tokens': 0},"
                + " 'leaf_max_tokens': 1000, 'nodes': [{'kind': 'leaf', 'id': 'l', 'executor': 'x',"
                + " 'budget': {'max_tokens': 1, 'max_steps': 1, 'timeout_ms': 1, 'max_parallel': 1}}]}"));

        // when / then
        assertThat(validator.validate(payload).errors()).isEmpty();
    }

    static Stream<Arguments> invalidSubmissions() {
        return Stream.of(
                Arguments.of("malformed JSON", "{'workflow': {'id': 'w',}}", List.of(
                        "payload: not valid JSON at line 1, column 25: Unexpected character ('}' (code 125)): was"
                                + " expecting double-quote to start field name")),
                Arguments.of("malformed JSON on a later line", "{\n  'workflow': {\n    'id': 'w'\n  }\n", List.of(
                        "payload: not valid JSON at line 5, column 1: Unexpected end-of-input: expected close marker"
                                + " for Object (start marker at line 1, column 1)")),
                Arguments.of("empty body", "", List.of("payload: is empty")),
                Arguments.of("blank body", " \n\t ", List.of("payload: is empty")),
                Arguments.of("duplicate key", "{'workflow': {'id': 'w'}, 'workflow': {'id': 'v'}}", List.of(
                        "payload: not valid JSON at line 1, column 39: duplicate field 'workflow'")),
                Arguments.of("trailing data", "{'workflow': {'id': 'w'}} {}", List.of(
                        "payload: not valid JSON at line 1, column 27: more data after the JSON value")),
                Arguments.of("not an object", "[{'workflow': {'id': 'w'}}]", List.of(
                        "payload: must be an object, got an array")),
                Arguments.of("a bare string", "'workflow'", List.of("payload: must be an object, got \"workflow\"")),
                Arguments.of("unknown top-level field", "{'workflow': {'id': 'w'}, 'priority': 1}", List.of(
                        "priority: unknown field (expected one of run_id, mode, workflow)")),
                Arguments.of("unknown budget field", "{'workflow': {'id': 'w', 'budget': {'max_token': 5}}}", List.of(
                        "workflow.budget.max_token: unknown field (expected one of max_tokens, max_input_tokens,"
                                + " max_output_tokens, max_steps, timeout_ms, max_parallel, max_cost_microusd)")),
                Arguments.of("unknown leaf field", audit("{'kind': 'leaf', 'id': 'l', 'executor': 'x', 'nodes': []}"),
                        List.of("workflow.nodes[0].nodes: unknown field (expected one of kind, id, budget, executor,"
                                + " input, repeat, max_attempts, wrap_up_tokens)")),
                Arguments.of("even shares over a leaf", "{'workflow': {'id': 'w', 'share': 'even', 'nodes': [{'kind': 'branch',"
                        + " 'id': 'b'}, {'kind': 'leaf', 'id': 'l', 'executor': 'x'}]}}", List.of(
                        "workflow.share: even shares divide the budget among child branches, but nodes[1] is a leaf: put"
                                + " leaves in branches of their own")),
                Arguments.of("wrap-up reserve as large as the leaf's budget", audit("{'kind': 'leaf', 'id': 'l', 'executor': 'x',"
                        + " 'budget': {'max_tokens': 500}, 'wrap_up_tokens': 500}"), List.of(
                        "workflow.nodes[0].wrap_up_tokens: 500 leaves nothing of the leaf's max_tokens 500 for its work")),
                Arguments.of("missing workflow", "{'run_id': 'r1'}", List.of("workflow: is required")),
                Arguments.of("missing workflow id", "{'workflow': {'nodes': []}}", List.of("workflow.id: is required")),
                Arguments.of("missing node id", audit("{'kind': 'leaf', 'executor': 'x'}"), List.of(
                        "workflow.nodes[0].id: is required")),
                Arguments.of("id with a space", audit(leaf("read me")), List.of(
                        "workflow.nodes[0].id: " + ID_RULE + ", got \"read me\"")),
                Arguments.of("id with a slash", audit(leaf("scan/readme")), List.of(
                        "workflow.nodes[0].id: " + ID_RULE + ", got \"scan/readme\"")),
                Arguments.of("id with brackets", audit(leaf("page[1]")), List.of(
                        "workflow.nodes[0].id: " + ID_RULE + ", got \"page[1]\"")),
                Arguments.of("id ending in a line break", "{'workflow': {'id': 'audit\\n'}}", List.of(
                        "workflow.id: " + ID_RULE + ", got \"audit\\n\"")),
                Arguments.of("id starting with a dot", "{'workflow': {'id': '.hidden'}}", List.of(
                        "workflow.id: " + ID_RULE + ", got \".hidden\"")),
                Arguments.of("id of 65 characters", audit(leaf("a".repeat(65))), List.of(
                        "workflow.nodes[0].id: " + ID_RULE + ", got \"" + "a".repeat(64) + "…\"")),
                Arguments.of("negative max_tokens", audit(leaf("a") + ", " + leaf("b") + ", {'kind': 'leaf', 'id': 'c',"
                        + " 'executor': 'x', 'budget': {'max_tokens': -5}}"), List.of(
                        "workflow.nodes[2].budget.max_tokens: must be ≥ 0, got -5")),
                Arguments.of("fractional tokens", "{'workflow': {'id': 'w', 'budget': {'max_tokens': 1.5}}}", List.of(
                        "workflow.budget.max_tokens: must be an integer, got 1.5")),
                Arguments.of("integral value written as a fraction", "{'workflow': {'id': 'w', 'budget': {'max_steps': 3.0}}}",
                        List.of("workflow.budget.max_steps: must be an integer, got 3.0")),
                Arguments.of("number beyond a long", "{'workflow': {'id': 'w', 'budget': {'max_tokens': 9223372036854775808}}}",
                        List.of("workflow.budget.max_tokens: must be ≤ 1000000000000000, got 9223372036854775808")),
                Arguments.of("tokens beyond 10^15", "{'workflow': {'id': 'w', 'leaf_max_tokens': 1000000000000001}}",
                        List.of("workflow.leaf_max_tokens: must be ≤ 1000000000000000, got 1000000000000001")),
                Arguments.of("tokens as a string", "{'workflow': {'id': 'w', 'budget': {'max_tokens': '100'}}}", List.of(
                        "workflow.budget.max_tokens: must be an integer, got \"100\"")),
                Arguments.of("max_parallel 0", "{'workflow': {'id': 'w', 'budget': {'max_parallel': 0}}}", List.of(
                        "workflow.budget.max_parallel: must be ≥ 1, got 0")),
                Arguments.of("max_parallel over 100000", "{'workflow': {'id': 'w', 'budget': {'max_parallel': 100001}}}",
                        List.of("workflow.budget.max_parallel: must be ≤ 100000, got 100001")),
                Arguments.of("timeout over 7 days", "{'workflow': {'id': 'w', 'budget': {'timeout_ms': 604800001}}}",
                        List.of("workflow.budget.timeout_ms: must be ≤ 604800000, got 604800001")),
                Arguments.of("timeout 0", "{'workflow': {'id': 'w', 'budget': {'timeout_ms': 0}}}", List.of(
                        "workflow.budget.timeout_ms: must be ≥ 1, got 0")),
                Arguments.of("budget null", "{'workflow': {'id': 'w', 'budget': null}}", List.of(
                        "workflow.budget: must be an object, got null")),
                Arguments.of("unknown mode", "{'mode': 'eager', 'workflow': {'id': 'w'}}", List.of(
                        "mode: must be \"strict\" or \"optimistic\", got \"eager\"")),
                Arguments.of("unknown kind", audit("{'kind': 'loop', 'id': 'l'}"), List.of(
                        "workflow.nodes[0].kind: must be \"branch\" or \"leaf\", got \"loop\"")),
                Arguments.of("missing kind", audit("{'id': 'l', 'executor': 'x'}"), List.of(
                        "workflow.nodes[0].kind: is required")),
                Arguments.of("node not an object", audit("42"), List.of("workflow.nodes[0]: must be an object, got 42")),
                Arguments.of("leaf without executor", audit("{'kind': 'leaf', 'id': 'l'}"), List.of(
                        "workflow.nodes[0].executor: is required")),
                Arguments.of("bad executor name", audit("{'kind': 'leaf', 'id': 'l', 'executor': 'Simulated'}"), List.of(
                        "workflow.nodes[0].executor: " + EXECUTOR_RULE + ", got \"Simulated\"")),
                Arguments.of("nodes not an array", "{'workflow': {'id': 'w', 'nodes': {'a': 1}}}", List.of(
                        "workflow.nodes: must be an array, got an object")),
                Arguments.of("branch nodes not an array", audit("{'kind': 'branch', 'id': 'b', 'nodes': 'none'}"), List.of(
                        "workflow.nodes[0].nodes: must be an array, got \"none\"")),
                Arguments.of("run_id with spaces", "{'run_id': 'audit 42', 'workflow': {'id': 'w'}}", List.of(
                        "run_id: " + RUN_ID_RULE + ", got \"audit 42\"")),
                Arguments.of("run_id ending in a line break", "{'run_id': 'r1\\n', 'workflow': {'id': 'w'}}", List.of(
                        "run_id: " + RUN_ID_RULE + ", got \"r1\\n\"")),
                Arguments.of("run_id empty", "{'run_id': '', 'workflow': {'id': 'w'}}", List.of(
                        "run_id: " + RUN_ID_RULE + ", got \"\"")),
                Arguments.of("duplicate sibling ids", audit("{'kind': 'branch', 'id': 'scan'}, " + leaf("scan")), List.of(
                        "workflow.nodes[1].id: duplicate id 'scan' among siblings (first at workflow.nodes[0])")),
                Arguments.of("child wider than parent: tokens", audit(
                        "{'kind': 'branch', 'id': 'scan', 'budget': {'max_tokens': 2000}}"), List.of(
                        "workflow.nodes[0].budget.max_tokens: 2000 is wider than the 1000 allowed by ancestor 'audit'")),
                Arguments.of("child wider than parent: steps", audit(
                        "{'kind': 'leaf', 'id': 'l', 'executor': 'x', 'budget': {'max_steps': 11}}"), List.of(
                        "workflow.nodes[0].budget.max_steps: 11 is wider than the 10 allowed by ancestor 'audit'")),
                Arguments.of("child wider than parent: timeout", audit(
                        "{'kind': 'leaf', 'id': 'l', 'executor': 'x', 'budget': {'timeout_ms': 60001}}"), List.of(
                        "workflow.nodes[0].budget.timeout_ms: 60001 is wider than the 60000 allowed by ancestor 'audit'")),
                Arguments.of("child wider than parent: parallel", audit(
                        "{'kind': 'branch', 'id': 'b', 'budget': {'max_parallel': 9}}"), List.of(
                        "workflow.nodes[0].budget.max_parallel: 9 is wider than the 8 allowed by ancestor 'audit'")),
                Arguments.of("grandchild wider than the tightest ancestor", audit(
                        "{'kind': 'branch', 'id': 'scan', 'budget': {'max_tokens': 600}, 'nodes': [{'kind': 'branch',"
                                + " 'id': 'inner', 'nodes': [{'kind': 'leaf', 'id': 'l', 'executor': 'x',"
                                + " 'budget': {'max_tokens': 700}}]}]}"), List.of(
                        "workflow.nodes[0].nodes[0].nodes[0].budget.max_tokens: 700 is wider than the 600 allowed by"
                                + " ancestor 'audit/scan'")),
                Arguments.of("input tokens more than total", "{'workflow': {'id': 'w', 'budget': {'max_tokens': 500,"
                        + " 'max_input_tokens': 800}}}", List.of(
                        "workflow.budget.max_input_tokens: 800 is more than this node's max_tokens 500")),
                Arguments.of("output tokens more than total", audit("{'kind': 'leaf', 'id': 'l', 'executor': 'x',"
                        + " 'budget': {'max_tokens': 100, 'max_output_tokens': 101}}"), List.of(
                        "workflow.nodes[0].budget.max_output_tokens: 101 is more than this node's max_tokens 100")),
                Arguments.of("leaf_max_tokens more than own max_tokens", "{'workflow': {'id': 'w', 'budget':"
                        + " {'max_tokens': 1000}, 'leaf_max_tokens': 2000}}", List.of(
                        "workflow.leaf_max_tokens: 2000 is more than this node's max_tokens 1000")),
                Arguments.of("leaf_max_tokens more than an ancestor's max_tokens", audit(
                        "{'kind': 'branch', 'id': 'b', 'leaf_max_tokens': 1001}"), List.of(
                        "workflow.nodes[0].leaf_max_tokens: 1001 is wider than the 1000 max_tokens allowed by ancestor"
                                + " 'audit'")),
                Arguments.of("too many leaves via repeat", audit(
                        "{'kind': 'leaf', 'id': 'a', 'executor': 'x', 'repeat': 1000000}, " + leaf("b")), List.of(
                        "workflow: 1000001 leaves (repeat counted) exceed the limit of 1000000")),
                Arguments.of("repeat 0", audit("{'kind': 'leaf', 'id': 'l', 'executor': 'x', 'repeat': 0}"), List.of(
                        "workflow.nodes[0].repeat: must be ≥ 1, got 0")),
                Arguments.of("repeat over 1000000", audit("{'kind': 'leaf', 'id': 'l', 'executor': 'x', 'repeat': 1000001}"),
                        List.of("workflow.nodes[0].repeat: must be ≤ 1000000, got 1000001")),
                Arguments.of("max_attempts 0", audit("{'kind': 'leaf', 'id': 'l', 'executor': 'x', 'max_attempts': 0}"),
                        List.of("workflow.nodes[0].max_attempts: must be ≥ 1, got 0")),
                Arguments.of("max_attempts over 100", audit("{'kind': 'leaf', 'id': 'l', 'executor': 'x',"
                        + " 'max_attempts': 101}"), List.of("workflow.nodes[0].max_attempts: must be ≤ 100, got 101")),
                Arguments.of("field name that is not plain", "{'workflow': {'id': 'w'}, 'a.b c': true}", List.of(
                        "[\"a.b c\"]: unknown field (expected one of run_id, mode, workflow)")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidSubmissions")
    void shouldRejectAnInvalidSubmissionWithAPreciseMessage(String name, String payload, List<String> expected) {
        // given
        byte[] bytes = json(payload);

        // when
        ValidationResult result = validator.validate(bytes);

        // then
        assertThat(result.isValid()).as(name).isFalse();
        assertThat(result.submission()).isNull();
        assertThat(result.errors()).as(name).containsExactlyElementsOf(expected);
    }

    @Test
    void shouldRejectAnOversizedPayloadBeforeParsingIt() {
        // given: 2 MiB that are not even JSON, so only the size check can be what answers
        byte[] payload = new byte[2 * 1024 * 1024];
        Arrays.fill(payload, (byte) '{');

        // when
        ValidationResult result = validator.validate(payload);

        // then
        assertThat(result.errors()).containsExactly("payload: 2097152 bytes exceeds the limit of 1048576");
    }

    @Test
    void shouldAcceptAPayloadOfExactlyTheSizeLimit() {
        // given
        byte[] valid = json("{'workflow': {'id': 'w'}}");
        ValidationLimits limits = new ValidationLimits(valid.length, 16, 10, 10);

        // when / then
        assertThat(new SubmissionValidator(limits).validate(valid).isValid()).isTrue();
        assertThat(new SubmissionValidator(new ValidationLimits(valid.length - 1, 16, 10, 10)).validate(valid).errors())
                .containsExactly("payload: " + valid.length + " bytes exceeds the limit of " + (valid.length - 1));
    }

    @Test
    void shouldRejectATreeDeeperThanTheLimitAtItsFirstTooDeepNode() {
        // given: 17 nested branches under the workflow
        String deep = "{'kind': 'leaf', 'id': 'l', 'executor': 'x'}";
        for (int i = 0; i < 16; i++) {
            deep = "{'kind': 'branch', 'id': 'b" + i + "', 'nodes': [" + deep + "]}";
        }
        byte[] payload = json("{'workflow': {'id': 'w', 'nodes': [" + deep + "]}}");

        // when
        ValidationResult result = validator.validate(payload);

        // then
        assertThat(result.errors()).containsExactly(
                "workflow" + ".nodes[0]".repeat(17) + ": depth 17 exceeds the limit of 16");
    }

    @Test
    void shouldAcceptATreeExactlyAsDeepAsTheLimit() {
        // given
        String deep = "{'kind': 'leaf', 'id': 'l', 'executor': 'x'}";
        for (int i = 0; i < 15; i++) {
            deep = "{'kind': 'branch', 'id': 'b" + i + "', 'nodes': [" + deep + "]}";
        }

        // when / then
        assertThat(validator.validate(json("{'workflow': {'id': 'w', 'nodes': [" + deep + "]}}")).errors()).isEmpty();
    }

    @Test
    void shouldRejectJsonNestedBeyondTheParsersLimitWithoutRecursingIntoIt() {
        // given
        byte[] payload = ("{\"workflow\":" + "[".repeat(300) + "]".repeat(300) + "}").getBytes(StandardCharsets.UTF_8);

        // when
        ValidationResult result = validator.validate(payload);

        // then
        assertThat(result.errors()).containsExactly(
                "payload: not valid JSON: nested deeper than 200 levels");
    }

    @Test
    void shouldRejectMoreNodesThanTheLimitCountingARepeatedLeafOnce() {
        // given
        SubmissionValidator strict = new SubmissionValidator(new ValidationLimits(1 << 20, 16, 3, 1000));
        byte[] fourNodes = json(audit("{'kind': 'branch', 'id': 'b', 'nodes': [" + leaf("x") + "]}, " + leaf("y") + ", "
                + "{'kind': 'leaf', 'id': 'z', 'executor': 'x', 'repeat': 50}"));

        // when
        ValidationResult result = strict.validate(fourNodes);

        // then
        assertThat(result.errors()).containsExactly("workflow: 4 nodes exceed the limit of 3");
    }

    @Test
    void shouldCollectEveryErrorInDocumentOrder() {
        // given: problems spread over the tree, schema and semantic ones mixed
        byte[] payload = json("{'run_id': 'bad id', 'workflow': {'id': 'audit', 'budget': {'max_tokens': 1000},"
                + " 'nodes': [{'kind': 'branch', 'id': 'scan', 'budget': {'max_tokens': 2000}, 'nodes': ["
                + "{'kind': 'leaf', 'id': 'a', 'executor': 'X'}]}, {'kind': 'leaf', 'id': 'scan', 'executor': 'x',"
                + " 'repeat': 0}]}, 'extra': 1}");

        // when
        ValidationResult result = validator.validate(payload);

        // then
        assertThat(result.errors()).containsExactly(
                "run_id: " + RUN_ID_RULE + ", got \"bad id\"",
                "workflow.nodes[0].budget.max_tokens: 2000 is wider than the 1000 allowed by ancestor 'audit'",
                "workflow.nodes[0].nodes[0].executor: " + EXECUTOR_RULE + ", got \"X\"",
                "workflow.nodes[1].id: duplicate id 'scan' among siblings (first at workflow.nodes[0])",
                "workflow.nodes[1].repeat: must be ≥ 1, got 0",
                "extra: unknown field (expected one of run_id, mode, workflow)");
    }

    @Test
    void shouldCapTheErrorsReportedAndSayHowManyMoreThereWere() {
        // given: 150 leaves with a negative budget each
        List<String> leaves = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            leaves.add("{'kind': 'leaf', 'id': 'l" + i + "', 'executor': 'x', 'budget': {'max_tokens': -1}}");
        }
        byte[] payload = json(audit(String.join(", ", leaves)));

        // when
        List<String> errors = validator.validate(payload).errors();

        // then
        assertThat(errors).hasSize(SubmissionValidator.MAX_ERRORS + 1);
        assertThat(errors.get(0)).isEqualTo("workflow.nodes[0].budget.max_tokens: must be ≥ 0, got -1");
        assertThat(errors.get(99)).isEqualTo("workflow.nodes[99].budget.max_tokens: must be ≥ 0, got -1");
        assertThat(errors.get(100)).isEqualTo("payload: 50 more errors not shown");
    }

    @Test
    void shouldGiveTheSameErrorsEveryTime() {
        // given
        byte[] payload = json("{'mode': 'x', 'workflow': {'id': 'a/b', 'nodes': [" + leaf("d") + ", " + leaf("d")
                + ", {'kind': 'leaf'}, 7], 'budget': {'max_tokens': -1, 'max_steps': 1.5}}}");

        // when
        List<String> first = validator.validate(payload).errors();
        List<String> second = new SubmissionValidator().validate(payload).errors();

        // then
        assertThat(first).hasSize(8).isEqualTo(second);
    }

    @Test
    void shouldThrowTheErrorsFromParse() {
        // given
        byte[] payload = json(audit("{'kind': 'branch', 'id': 'scan', 'budget': {'max_tokens': 2000}}, " + leaf("scan")));

        // when / then
        assertThatThrownBy(() -> validator.parse(payload))
                .isInstanceOfSatisfying(SubmissionRejectedException.class, e -> assertThat(e.errors()).containsExactly(
                        "workflow.nodes[0].budget.max_tokens: 2000 is wider than the 1000 allowed by ancestor 'audit'",
                        "workflow.nodes[1].id: duplicate id 'scan' among siblings (first at workflow.nodes[0])"))
                .hasMessage("submission rejected: workflow.nodes[0].budget.max_tokens: 2000 is wider than the 1000"
                        + " allowed by ancestor 'audit' (and 1 more)");
    }

    @Test
    void shouldTreatNullLikeAnEmptyPayload() {
        // when / then
        assertThat(validator.validate(null).errors()).containsExactly("payload: is empty");
    }

    @Test
    void shouldRejectBytesThatAreNotUtf8() {
        // given
        byte[] payload = {'{', '"', (byte) 0xC3, '"', ':', '1', '}'};

        // when
        ValidationResult result = validator.validate(payload);

        // then
        assertThat(result.errors()).singleElement().asString().startsWith("payload: not valid JSON at line 1, column");
    }

    @Test
    void shouldValidateConcurrentlyWithTheSameResultsAsSequentially() throws Exception {
        // given
        List<byte[]> payloads = new ArrayList<>();
        invalidSubmissions().forEach(args -> payloads.add(json((String) args.get()[1])));
        payloads.add(AUDIT.getBytes(StandardCharsets.UTF_8));
        List<List<String>> expected = new ArrayList<>();
        for (byte[] p : payloads) {
            expected.add(validator.validate(p).errors());
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        CountDownLatch start = new CountDownLatch(1);
        try {
            // when
            List<Future<List<List<String>>>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                futures.add(pool.submit(() -> {
                    start.await();
                    List<List<String>> seen = new ArrayList<>();
                    for (int round = 0; round < 5; round++) {
                        for (byte[] p : payloads) {
                            seen.add(validator.validate(p).errors());
                        }
                    }
                    return seen;
                }));
            }
            start.countDown();

            // then
            for (Future<List<List<String>>> f : futures) {
                List<List<String>> seen = f.get(60, TimeUnit.SECONDS);
                for (int i = 0; i < seen.size(); i++) {
                    assertThat(seen.get(i)).isEqualTo(expected.get(i % payloads.size()));
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void shouldRefuseInconsistentLimitsNamingTheField() {
        // when / then
        assertThatThrownBy(() -> new ValidationLimits(0, 16, 1, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxPayloadBytes must be between 1 and 4194304, got 0");
        assertThatThrownBy(() -> new ValidationLimits(Topics.MAX_MESSAGE_BYTES + 1, 16, 1, 1))
                .hasMessage("maxPayloadBytes must be between 1 and 4194304, got 4194305");
        assertThatThrownBy(() -> new ValidationLimits(1024, 0, 1, 1)).hasMessage("maxDepth must be between 1 and 64, got 0");
        assertThatThrownBy(() -> new ValidationLimits(1024, 65, 1, 1)).hasMessage("maxDepth must be between 1 and 64, got 65");
        assertThatThrownBy(() -> new ValidationLimits(1024, 16, 0, 1)).hasMessage("maxNodes must be at least 1, got 0");
        assertThatThrownBy(() -> new ValidationLimits(1024, 16, 1, -1)).hasMessage("maxLeaves must be at least 1, got -1");
    }

    @Test
    void shouldDefaultTheLimitsToTheDocumentedValues() {
        // when
        ValidationLimits limits = new SubmissionValidator().limits();

        // then
        assertThat(limits).isEqualTo(ValidationLimits.DEFAULTS);
        assertThat(limits.maxPayloadBytes()).isEqualTo(1_048_576);
        assertThat(limits.maxDepth()).isEqualTo(16);
        assertThat(limits.maxNodes()).isEqualTo(100_000);
        assertThat(limits.maxLeaves()).isEqualTo(1_000_000);
    }

    @Test
    void shouldHoldEitherASubmissionOrErrorsInAResult() {
        // when / then
        assertThatThrownBy(() -> new ValidationResult(null, List.of()))
                .hasMessage("a validation result has either a submission or errors, got neither");
        Submission submission = new Submission(null, null, new Workflow("w", null, null, null));
        assertThatThrownBy(() -> new ValidationResult(submission, List.of("x: y")))
                .hasMessage("a validation result has either a submission or errors, got both");
        assertThat(new ValidationResult(submission, null).orElseThrow()).isSameAs(submission);
    }
}
