package io.sluice.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;

import io.sluice.schemas.Json;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class SimulatedExecutorTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "[]                                                          | input: must be an object with a \"turns\" array",
            "{}                                                          | input.turns: must be an array",
            "{\"turns\": 3}                                              | input.turns: must be an array",
            "{\"turns\": [], \"speed\": 1}                               | input.speed: unknown field (expected one of [fail_at_turn, price, turns, wrap_up])",
            "{\"turns\": [7]}                                            | input.turns[0]: must be an object",
            "{\"turns\": [{\"output_tokens\": 1}]}                       | input.turns[0].input_tokens: required",
            "{\"turns\": [{\"input_tokens\": 1.5, \"output_tokens\": 1}]} | input.turns[0].input_tokens: must be a non-negative integer, got 1.5",
            "{\"turns\": [{\"input_tokens\": 1, \"output_tokens\": \"2\"}]} | input.turns[0].output_tokens: must be a non-negative integer, got \"2\"",
            "{\"turns\": [{\"input_tokens\": 1, \"output_tokens\": 2, \"latency_ms\": -1}]} | input.turns[0].latency_ms: must be a non-negative integer, got -1",
            "{\"turns\": [{\"input_tokens\": 1, \"output_tokens\": 2, \"cost\": 1}]} | input.turns[0].cost: unknown field (expected one of [input_tokens, latency_ms, output_tokens])",
            "{\"turns\": [{\"input_tokens\": 1, \"output_tokens\": 2}], \"fail_at_turn\": 2} | input.fail_at_turn: must be an integer from 1 to the number of turns (1), got 2",
    })
    void shouldRejectInputNotOfTheScriptShapeNamingTheField(String json, String message) {
        var input = Json.tree(json.getBytes(StandardCharsets.UTF_8));

        assertThatThrownBy(() -> SimulatedExecutor.Script.parse(input)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    @Test
    void shouldAcceptAnEmptyScriptAndOptionalFields() {
        assertThat(SimulatedExecutor.Script.parse(Json.tree("{\"turns\": []}".getBytes(StandardCharsets.UTF_8))).turns().size()).isZero();
        assertThat(SimulatedExecutor.Script.parse(Json.tree(
                "{\"turns\": [{\"input_tokens\": 0, \"output_tokens\": 0}], \"fail_at_turn\": null}".getBytes(StandardCharsets.UTF_8)))
                .turns()).containsExactly(new SimulatedExecutor.Turn(0, 0, 0));
        assertThat(new SimulatedExecutor().name()).isEqualTo("simulated");
    }
}
