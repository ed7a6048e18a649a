package io.sluice.worker.openai;

import java.util.Iterator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.schemas.Json;

/**
 * A leaf's input for the {@code openai} executor: a chat-completions request body ({@code model}, {@code messages}
 * and any other parameters, passed through), plus Sluice's own {@code "continue": true}, which is not sent.
 *
 * <p>What the executor owns and overwrites on every call: {@code stream}, {@code stream_options.include_usage} and the
 * output cap ({@code max_tokens} or {@code max_completion_tokens}: the input's own value can only narrow the grant's).
 * Refused as permanent failures: a body that is not an object, no {@code model}, no {@code messages}, and
 * {@code n} other than 1 (each choice would spend up to the cap).
 *
 * <p>Immutable.
 */
final class ChatInput {

    static final String CONTINUE = "continue";
    static final String CONTINUE_PROMPT = "Continue exactly where you stopped, without repeating anything.";
    static final String WRAP_UP_PROMPT = "You are out of budget. Without calling any tool, summarise concisely what you "
            + "have found or produced so far, so that the work is not lost.";
    /** What a wrap-up call leaves out: it must not call tools. */
    private static final java.util.List<String> TOOL_FIELDS = java.util.List.of("tools", "tool_choice", "functions",
            "function_call", "parallel_tool_calls");

    private final ObjectNode body;
    private final Long wantedOutput;
    private final boolean continueOnLength;

    private ChatInput(ObjectNode body, Long wantedOutput, boolean continueOnLength) {
        this.body = body;
        this.wantedOutput = wantedOutput;
        this.continueOnLength = continueOnLength;
    }

    /** @throws IllegalArgumentException saying what is wrong with the input */
    static ChatInput parse(JsonNode input) {
        if (input == null || !input.isObject()) {
            throw new IllegalArgumentException("openai input: must be a chat-completions request object");
        }
        ObjectNode body = input.deepCopy();
        if (!body.path("model").isTextual() || body.get("model").asText().isBlank()) {
            throw new IllegalArgumentException("openai input: model is required (a string)");
        }
        if (!body.path("messages").isArray() || body.get("messages").isEmpty()) {
            throw new IllegalArgumentException("openai input: messages is required (a non-empty array)");
        }
        for (Iterator<JsonNode> it = body.get("messages").elements(); it.hasNext(); ) {
            if (!it.next().isObject()) {
                throw new IllegalArgumentException("openai input: every message must be an object");
            }
        }
        JsonNode n = body.get("n");
        if (n != null && !n.isNull() && !(n.isIntegralNumber() && n.asLong() == 1)) {
            throw new IllegalArgumentException("openai input: n must be 1 (each of n choices would spend up to the cap)");
        }
        JsonNode cont = body.remove(CONTINUE);
        if (cont != null && !cont.isBoolean()) {
            throw new IllegalArgumentException("openai input: continue must be true or false");
        }
        Long wanted = null;
        for (String field : new String[] {"max_completion_tokens", "max_tokens"}) {
            JsonNode v = body.remove(field);
            if (v == null || v.isNull()) {
                continue;
            }
            if (!v.isIntegralNumber() || v.asLong() < 1) {
                throw new IllegalArgumentException("openai input: " + field + " must be a positive integer");
            }
            wanted = wanted == null ? v.asLong() : Math.min(wanted, v.asLong());
        }
        body.remove("stream");
        return new ChatInput(body, wanted, cont != null && cont.asBoolean());
    }

    /** The output a step asks for: the input's own cap, else {@code dflt}. */
    long wantedOutput(long dflt) {
        return wantedOutput != null ? wantedOutput : dflt;
    }

    boolean continueOnLength() {
        return continueOnLength;
    }

    /** The conversation so far: the input's messages, a copy to extend. */
    ArrayNode messages() {
        return body.get("messages").deepCopy();
    }

    /** The body of one call: the input with {@code messages}, streaming with usage, capped at {@code cap}. */
    ObjectNode request(ArrayNode messages, EndpointConfig.CapParameter capParameter, long cap) {
        ObjectNode b = body.deepCopy();
        b.set("messages", messages);
        b.put("stream", true);
        JsonNode options = b.get("stream_options");
        ObjectNode so = options != null && options.isObject() ? (ObjectNode) options : Json.mapper().createObjectNode();
        so.put("include_usage", true);
        b.set("stream_options", so);
        b.put(capParameter.field(), cap);
        return b;
    }

    /** The body of the wrap-up call: as {@link #request}, without tools. */
    ObjectNode wrapUpRequest(ArrayNode messages, EndpointConfig.CapParameter capParameter, long cap) {
        ObjectNode b = request(messages, capParameter, cap);
        b.remove(TOOL_FIELDS);
        return b;
    }

    /** {@link #wrapUpRequest} without a cap: what its prompt bound is computed from. */
    ObjectNode wrapUp(ArrayNode messages) {
        ObjectNode b = uncapped(messages);
        b.remove(TOOL_FIELDS);
        return b;
    }

    /** {@link #request} without a cap: what the prompt bound is computed from. */
    ObjectNode uncapped(ArrayNode messages) {
        ObjectNode b = body.deepCopy();
        b.set("messages", messages);
        return b;
    }
}
