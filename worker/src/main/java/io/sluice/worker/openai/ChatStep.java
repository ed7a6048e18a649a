package io.sluice.worker.openai;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.schemas.Json;

/**
 * What one streamed chat completion delivered, folded chunk by chunk ({@link #onChunk}): the assistant's text, tool
 * calls (assembled from their deltas by index), the finish reason, the model and the usage of the final chunk.
 *
 * <p>Not thread-safe: the reading thread folds it; others read a snapshot through {@link #text()}.
 */
final class ChatStep {

    private final StringBuilder text = new StringBuilder();
    private final Map<Integer, ToolCall> toolCalls = new TreeMap<>();
    private String finishReason;
    private String model;
    private Long promptTokens;
    private Long completionTokens;
    private String error;
    private boolean done;

    private static final class ToolCall {
        String id;
        String type;
        String name;
        final StringBuilder arguments = new StringBuilder();
    }

    /**
     * Folds one event's data.
     *
     * @throws IllegalArgumentException when the data is not a chunk (not JSON, not an object)
     */
    void onChunk(String data) {
        if ("[DONE]".equals(data.trim())) {
            done = true;
            return;
        }
        JsonNode chunk;
        try {
            chunk = Json.mapper().readTree(data);
        } catch (Exception e) {
            throw new IllegalArgumentException("the provider sent a stream event that is not JSON");
        }
        if (chunk == null || !chunk.isObject()) {
            throw new IllegalArgumentException("the provider sent a stream event that is not a JSON object");
        }
        if (chunk.hasNonNull("error")) {
            JsonNode e = chunk.get("error");
            error = e.isObject() ? e.path("message").asText(e.toString()) : e.asText();
            return;
        }
        if (chunk.path("model").isTextual()) {
            model = chunk.get("model").asText();
        }
        JsonNode choice = chunk.path("choices").path(0);
        JsonNode delta = choice.path("delta");
        if (delta.path("content").isTextual()) {
            text.append(delta.get("content").asText());
        }
        if (delta.path("refusal").isTextual()) {
            text.append(delta.get("refusal").asText());
        }
        for (JsonNode call : delta.path("tool_calls")) {
            ToolCall t = toolCalls.computeIfAbsent(call.path("index").asInt(toolCalls.size()), i -> new ToolCall());
            if (call.path("id").isTextual()) {
                t.id = call.get("id").asText();
            }
            if (call.path("type").isTextual()) {
                t.type = call.get("type").asText();
            }
            JsonNode fn = call.path("function");
            if (fn.path("name").isTextual()) {
                t.name = fn.get("name").asText();
            }
            if (fn.path("arguments").isTextual()) {
                t.arguments.append(fn.get("arguments").asText());
            }
        }
        if (choice.path("finish_reason").isTextual()) {
            finishReason = choice.get("finish_reason").asText();
        }
        JsonNode usage = chunk.get("usage");
        if (usage != null && usage.isObject() && usage.path("completion_tokens").canConvertToLong()
                && usage.path("prompt_tokens").canConvertToLong()) {
            promptTokens = Math.max(0, usage.get("prompt_tokens").asLong());
            completionTokens = Math.max(0, usage.get("completion_tokens").asLong());
        }
    }

    String text() {
        return text.toString();
    }

    String finishReason() {
        return finishReason;
    }

    String model() {
        return model;
    }

    boolean hasUsage() {
        return promptTokens != null;
    }

    long promptTokens() {
        return promptTokens == null ? 0 : promptTokens;
    }

    long completionTokens() {
        return completionTokens == null ? 0 : completionTokens;
    }

    /** An error the provider sent inside the stream, if any. */
    String error() {
        return error;
    }

    boolean done() {
        return done;
    }

    /** The tool calls, as a chat-completions message carries them; empty when none. */
    List<JsonNode> toolCalls() {
        List<JsonNode> out = new ArrayList<>();
        for (ToolCall t : toolCalls.values()) {
            ObjectNode c = Json.mapper().createObjectNode();
            c.put("id", t.id);
            c.put("type", t.type != null ? t.type : "function");
            c.putObject("function").put("name", t.name).put("arguments", t.arguments.toString());
            out.add(c);
        }
        return out;
    }
}
