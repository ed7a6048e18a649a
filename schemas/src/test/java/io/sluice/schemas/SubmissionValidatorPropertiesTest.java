package io.sluice.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/** The validator never crashes, whatever it is given, and accepts every submission that keeps the rules. */
class SubmissionValidatorPropertiesTest {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final byte[] AUDIT = WireContractExamplesTest.example("submission.audit.json");
    private static final List<String> NAMES = List.of("run_id", "mode", "workflow", "id", "kind", "nodes", "budget",
            "max_tokens", "max_input_tokens", "max_output_tokens", "max_steps", "timeout_ms", "max_parallel",
            "leaf_max_tokens", "executor", "input", "repeat", "max_attempts", "x", "a.b", "");
    private static final List<String> TEXTS = List.of("branch", "leaf", "loop", "strict", "optimistic", "audit", "scan",
            "a/b", "p[1]", "simulated", "Simulated", "", " ", "\u0000", "é", "😀".repeat(40));

    private final SubmissionValidator validator = new SubmissionValidator();

    @Property(tries = 500)
    void shouldNeverThrowOnRandomBytes(@ForAll("garbage") byte[] bytes) {
        assertWellFormed(validator.validate(bytes));
    }

    @Property(tries = 500)
    void shouldNeverThrowOnACorruptedValidSubmission(@ForAll("corruptions") byte[] bytes) {
        assertWellFormed(validator.validate(bytes));
    }

    @Property(tries = 1000)
    void shouldNeverThrowOnRandomJsonShapedLikeASubmission(@ForAll("submissionShaped") String json) {
        // when
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        ValidationResult first = validator.validate(bytes);

        // then
        assertWellFormed(first);
        assertThat(validator.validate(bytes)).isEqualTo(first);
    }

    @Property(tries = 300)
    void shouldAcceptEverySubmissionThatKeepsTheRules(@ForAll("seeds") long seed) {
        // given
        Submission submission = RuleKeepingSubmissions.build(new Random(seed));

        // when
        ValidationResult result = validator.validate(Json.write(submission));

        // then
        assertThat(result.errors()).as(Json.writeString(submission)).isEmpty();
        assertThat(result.submission()).isEqualTo(submission);
    }

    private static void assertWellFormed(ValidationResult result) {
        assertThat(result.isValid()).isEqualTo(result.errors().isEmpty());
        assertThat(result.errors()).hasSizeLessThanOrEqualTo(SubmissionValidator.MAX_ERRORS + 1);
        for (String error : result.errors()) {
            assertThat(error).contains(": ").doesNotContain("internal error").doesNotContain("\n");
        }
    }

    @Provide
    Arbitrary<byte[]> garbage() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(2048);
    }

    @Provide
    Arbitrary<byte[]> corruptions() {
        Arbitrary<int[]> edits = Arbitraries.integers().between(0, Integer.MAX_VALUE).array(int[].class).ofMinSize(1).ofMaxSize(8);
        return edits.map(positions -> {
            byte[] bytes = AUDIT.clone();
            for (int p : positions) {
                int at = p % bytes.length;
                // Flip one of a few bytes that matter to JSON, or any bit.
                byte[] pool = {'{', '}', '[', ']', '"', ',', ':', '-', '.', '9', 'e', '/', 0, (byte) 0xFF};
                bytes[at] = p % 3 == 0 ? pool[(p / 3) % pool.length] : (byte) (bytes[at] ^ (1 << (p % 8)));
            }
            return bytes;
        });
    }

    @Provide
    Arbitrary<String> submissionShaped() {
        Arbitrary<JsonNode> body = json(5);
        Arbitrary<JsonNode> wrapped = body.map(b -> {
            ObjectNode root = NODES.objectNode();
            root.set("workflow", b);
            return root;
        });
        return Arbitraries.frequencyOf(Tuple.of(1, body), Tuple.of(4, wrapped)).map(JsonNode::toString);
    }

    @Provide
    Arbitrary<Long> seeds() {
        return Arbitraries.longs();
    }

    private static Arbitrary<JsonNode> json(int depth) {
        Arbitrary<JsonNode> scalar = Arbitraries.oneOf(
                Arbitraries.of(TEXTS).map(NODES::textNode),
                Arbitraries.strings().ofMaxLength(70).map(NODES::textNode),
                Arbitraries.longs().map(NODES::numberNode),
                Arbitraries.integers().between(-3, 1_000_001).map(NODES::numberNode),
                Arbitraries.doubles().map(NODES::numberNode),
                Arbitraries.bigIntegers().between(BigInteger.TWO.pow(62).negate().pow(2).negate(), BigInteger.TWO.pow(124))
                        .map(NODES::numberNode),
                Arbitraries.of(NODES.nullNode(), NODES.booleanNode(true), NODES.booleanNode(false)));
        if (depth == 0) {
            return scalar;
        }
        Arbitrary<JsonNode> child = Arbitraries.lazy(() -> json(depth - 1));
        Arbitrary<JsonNode> object = Arbitraries.maps(Arbitraries.oneOf(Arbitraries.of(NAMES), Arbitraries.strings().ofMaxLength(5)),
                child).ofMaxSize(6).map(fields -> {
                    ObjectNode o = NODES.objectNode();
                    fields.forEach(o::set);
                    return o;
                });
        Arbitrary<JsonNode> array = child.list().ofMaxSize(4).map(items -> {
            ArrayNode a = NODES.arrayNode();
            items.forEach(a::add);
            return a;
        });
        return Arbitraries.frequencyOf(Tuple.of(3, scalar), Tuple.of(3, object), Tuple.of(2, array));
    }

    /** Random trees whose budgets only narrow, with unique sibling ids, within every limit. */
    private static final class RuleKeepingSubmissions {

        private static final long MAX_COUNT = 1_000_000_000_000_000L;

        static Submission build(Random random) {
            Budget budget = budget(random, Budget.NONE, 1_000_000L);
            Long leafMaxTokens = leafMaxTokens(random, budget.maxTokens());
            Workflow workflow = new Workflow("w" + random.nextInt(100), budget, leafMaxTokens,
                    children(random, budget, 1));
            String runId = random.nextBoolean() ? null : "run:" + Long.toHexString(random.nextLong());
            Mode mode = random.nextBoolean() ? null : Mode.values()[random.nextInt(2)];
            return new Submission(runId, mode, workflow);
        }

        /** @param inForce per field, the tightest limit of the node's ancestors */
        private static List<Node> children(Random random, Budget inForce, int depth) {
            List<Node> nodes = new ArrayList<>();
            int count = depth >= 5 ? 0 : random.nextInt(4);
            for (int i = 0; i < count; i++) {
                Budget budget = budget(random, inForce, null);
                Budget below = tightest(inForce, budget);
                String id = "n" + i + (random.nextBoolean() ? "" : ".v-" + random.nextInt(9));
                if (random.nextInt(3) == 0) {
                    nodes.add(new Branch(id, budget, leafMaxTokens(random, below.maxTokens()),
                            children(random, below, depth + 1)));
                } else {
                    ObjectNode input = random.nextBoolean() ? null : NODES.objectNode().put("turns", random.nextInt(5));
                    Integer repeat = random.nextBoolean() ? null : 1 + random.nextInt(1000);
                    Integer attempts = random.nextBoolean() ? null : 1 + random.nextInt(100);
                    nodes.add(new Leaf(id, budget, "simulated", input, repeat, attempts));
                }
            }
            return nodes;
        }

        /** A budget within {@code parent}'s: each field absent, or at most the parent's value. */
        private static Budget budget(Random random, Budget parent, Long tokensIfUnlimited) {
            Long maxTokens = narrower(random, parent.maxTokens(), tokensIfUnlimited == null ? MAX_COUNT : tokensIfUnlimited, 0);
            Long input = narrower(random, min(parent.maxInputTokens(), maxTokens), MAX_COUNT, 0);
            Long output = narrower(random, min(parent.maxOutputTokens(), maxTokens), MAX_COUNT, 0);
            Long steps = narrower(random, parent.maxSteps(), MAX_COUNT, 0);
            Long timeout = narrower(random, parent.timeoutMs(), 604_800_000L, 1);
            Long parallel = narrower(random, parent.maxParallel() == null ? null : parent.maxParallel().longValue(), 100_000L, 1);
            return new Budget(maxTokens, input, output, steps, timeout, parallel == null ? null : parallel.intValue());
        }

        private static Budget tightest(Budget a, Budget b) {
            Long parallel = min(a.maxParallel() == null ? null : a.maxParallel().longValue(),
                    b.maxParallel() == null ? null : b.maxParallel().longValue());
            return new Budget(min(a.maxTokens(), b.maxTokens()), min(a.maxInputTokens(), b.maxInputTokens()),
                    min(a.maxOutputTokens(), b.maxOutputTokens()), min(a.maxSteps(), b.maxSteps()),
                    min(a.timeoutMs(), b.timeoutMs()), parallel == null ? null : parallel.intValue());
        }

        private static Long narrower(Random random, Long limit, long ceiling, long floor) {
            if (random.nextBoolean()) {
                return null;
            }
            long top = limit == null ? ceiling : limit;
            return floor + (long) (random.nextDouble() * (top - floor + 1)) % (top - floor + 1);
        }

        private static Long leafMaxTokens(Random random, Long maxTokens) {
            return random.nextBoolean() ? null : narrower(random, maxTokens, MAX_COUNT, 0);
        }

        private static Long min(Long a, Long b) {
            return a == null ? b : b == null ? a : Long.valueOf(Math.min(a, b));
        }
    }
}
