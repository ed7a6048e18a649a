package io.sluice.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.schemas.Grant;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;

/** Test tasks for the simulated executor. */
final class Tasks {

    private Tasks() {
    }

    /** turns as {input, output, latencyMs} triples. */
    static JsonNode script(long[]... turns) {
        ObjectNode input = Json.mapper().createObjectNode();
        ArrayNode array = input.putArray("turns");
        for (long[] t : turns) {
            ObjectNode turn = array.addObject();
            turn.put("input_tokens", t[0]);
            turn.put("output_tokens", t[1]);
            if (t.length > 2) {
                turn.put("latency_ms", t[2]);
            }
        }
        return input;
    }

    static long[] turn(long input, long output) {
        return new long[] {input, output};
    }

    static long[] turn(long input, long output, long latencyMs) {
        return new long[] {input, output, latencyMs};
    }

    static LeafTask task(String runId, String path, Grant grant, JsonNode input) {
        return new LeafTask(runId, path, 1, grant, null, "simulated", input, System.currentTimeMillis());
    }

    static LeafTask task(Grant grant, JsonNode input) {
        return task("run-1", "wf/leaf", grant, input);
    }

    static Grant grant(Long maxTokens, Long maxInput, Long maxOutput, Long maxSteps) {
        return new Grant(maxTokens, maxInput, maxOutput, maxSteps);
    }
}
