package io.sluice.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A record read from a topic is used only when its schema accepts it: every kind of poison a hostile or broken
 * producer can write is refused with a precise reason, never handed on as a null or an absurd number.
 */
class WireRecordsTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] exampleWith(String example, String field, long value) {
        ObjectNode tree = (ObjectNode) Json.tree(WireContractExamplesTest.example(example));
        tree.put(field, value);
        return Json.write(tree);
    }

    static Stream<Arguments> poison() {
        return Stream.of(
                Arguments.of("tombstone", null, UsageEvent.class, "record has no value (a tombstone), expected a UsageEvent"),
                Arguments.of("empty", new byte[0], Halt.class, "record value is empty, expected a Halt"),
                Arguments.of("JSON null", utf8("null"), UsageEvent.class, "payload: must be an object, got null"),
                Arguments.of("JSON null", utf8("null"), Halt.class, "payload: must be an object, got null"),
                Arguments.of("JSON null", utf8("null"), LeafTask.class, "payload: must be an object, got null"),
                Arguments.of("JSON null", utf8("null"), RunRecord.class, "payload: must be an object, got null"),
                Arguments.of("JSON null", utf8("null"), LedgerEntry.class, "payload: must be an object, got null"),
                Arguments.of("not JSON", utf8("{oops"), Receipt.class, "not a valid Receipt"),
                Arguments.of("an array", utf8("[1]"), Rejection.class, "payload: must be an object, got an array"),
                Arguments.of("absurd tokens", exampleWith("usage-event.step.json", "input_tokens", Long.MAX_VALUE),
                        UsageEvent.class, "input_tokens: must be ≤ 1000000000000000, got 9223372036854775807"),
                Arguments.of("negative steps", exampleWith("usage-event.step.json", "steps", -1), UsageEvent.class,
                        "steps: must be ≥ 0, got -1"),
                Arguments.of("forbidden halt status", utf8(Json.writeString(Json.tree(WireContractExamplesTest.example("halt.json")))
                        .replace("\"cancelled\"", "\"succeeded\"")), Halt.class,
                        "status: must be \"cancelled\" or \"timed_out\", got \"succeeded\""));
    }

    @ParameterizedTest(name = "{0} as {2}")
    @MethodSource("poison")
    void shouldRefusePoisonWithAPreciseReason(String kind, byte[] value, Class<?> type, String reason) {
        assertThatThrownBy(() -> WireRecords.decode(value, type))
                .isInstanceOf(WireFormatException.class)
                .hasMessageContaining(reason);
    }

    @Test
    void shouldDecodeEveryGoldenExample() {
        for (String example : WireContractExamplesTest.EXAMPLES) {
            Class<?> type = switch (example.substring(0, example.indexOf('.'))) {
                case "usage-event" -> UsageEvent.class;
                case "leaf-task" -> LeafTask.class;
                case "ledger-entry" -> LedgerEntry.class;
                case "halt" -> Halt.class;
                case "receipt" -> Receipt.class;
                case "rejection" -> Rejection.class;
                case "run-record" -> RunRecord.class;
                case "heartbeat" -> Heartbeat.class;
                default -> null;
            };
            if (type != null) {
                assertThat(WireRecords.decode(WireContractExamplesTest.example(example), type)).as(example).isInstanceOf(type);
            }
        }
    }

    @Test
    void shouldRefuseTheJsonNullLiteralInPlainReadsToo() {
        // Jackson maps `null` to a null record; every reader that skipped the schema would then throw an NPE.
        assertThatThrownBy(() -> Json.read(utf8("null"), Halt.class))
                .isInstanceOf(WireFormatException.class).hasMessage("not a valid Halt: got null");
        assertThatThrownBy(() -> Json.read(null, Halt.class))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("tombstone");
    }

    @Test
    void shouldRefuseATypeOutsideTheContract() {
        assertThatThrownBy(() -> WireRecords.decode(utf8("{}"), String.class))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** Not a timed assertion: prints what a schema check costs per usage event, for the record. */
    @Test
    void measuresTheCostOfACheckedDecode() {
        byte[] event = WireContractExamplesTest.example("usage-event.step.json");
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            WireRecords.decode(event, UsageEvent.class);
            Json.read(event, UsageEvent.class);
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            WireRecords.decode(event, UsageEvent.class);
        }
        long checked = System.nanoTime() - t0;
        t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Json.read(event, UsageEvent.class);
        }
        long plain = System.nanoTime() - t0;
        System.out.printf("usage event decode: schema-checked %.1f µs, plain %.1f µs%n", checked / 1e3 / n, plain / 1e3 / n);
    }
}
