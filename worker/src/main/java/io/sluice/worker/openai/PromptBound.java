package io.sluice.worker.openai;

import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A proven upper bound of a chat request's prompt tokens, computed without a tokenizer — what strict mode reserves
 * before the call and settles to the provider's {@code prompt_tokens} after it.
 *
 * <p>The bound: the UTF-8 byte length of the request's text — every message's role, name and text (a string
 * {@code content} or its {@code text} parts), its tool calls' names and arguments and its {@code tool_call_id} —
 * plus {@link Overheads#perMessage} per message, {@link Overheads#perRequest} per request, and, when the request
 * defines {@code tools} (or the legacy {@code functions}) or a {@code response_format} schema, the byte length of
 * their JSON plus {@link Overheads#tools}.
 *
 * <p>Why it holds: byte-level BPE tokenizers (GPT-2, cl100k, o200k, Llama 3) and SentencePiece tokenizers with byte
 * fallback (Llama 2, Mistral) emit at least one byte of the text per token, so a text of n bytes is at most n tokens
 * (SentencePiece's leading-space marker adds at most one per text segment: within the per-message overhead). What
 * the bound must assume, and the overheads stand for: the chat template's special tokens and fixed text (role
 * markers, a reply primer, a default system prompt some templates inject, the preamble that introduces tools), and
 * that tools and schemas are rendered into the prompt no longer than their JSON. Parts that are not text (images,
 * audio, files) have no byte bound and are refused.
 *
 * <p>Pure; thread-safe.
 */
public final class PromptBound {

    /**
     * Tokens the bound adds for what a chat template puts around the text.
     *
     * @param perMessage role markers and separators of one message
     * @param perRequest the reply primer, begin-of-text, and any default system prompt of the template
     * @param tools      the fixed text that introduces tool definitions or a response schema
     */
    public record Overheads(long perMessage, long perRequest, long tools) {
        public static final long DEFAULT_PER_MESSAGE = 8;
        public static final long DEFAULT_PER_REQUEST = 64;
        public static final long DEFAULT_TOOLS = 512;
        public static final Overheads DEFAULTS = new Overheads(DEFAULT_PER_MESSAGE, DEFAULT_PER_REQUEST, DEFAULT_TOOLS);

        public Overheads {
            if (perMessage < 0 || perRequest < 0 || tools < 0) {
                throw new IllegalArgumentException("prompt overheads: must be >= 0, got " + perMessage + ", " + perRequest
                        + ", " + tools);
            }
        }
    }

    /** A request whose prompt size has no byte bound. */
    public static final class UnboundedPromptException extends IllegalArgumentException {
        UnboundedPromptException(String message) {
            super(message);
        }
    }

    private PromptBound() {
    }

    /**
     * @throws UnboundedPromptException when a message holds a part that is not text, or the messages are not an array
     */
    public static long of(JsonNode body, Overheads o) {
        JsonNode messages = body.path("messages");
        if (!messages.isArray()) {
            throw new UnboundedPromptException("messages: must be an array");
        }
        long n = o.perRequest();
        int i = 0;
        for (JsonNode m : messages) {
            n += o.perMessage() + bytes(m.path("role")) + bytes(m.path("name")) + bytes(m.path("tool_call_id"));
            JsonNode content = m.path("content");
            if (content.isTextual()) {
                n += bytes(content);
            } else if (content.isArray()) {
                for (JsonNode part : content) {
                    String type = part.path("type").asText("");
                    if (!"text".equals(type) && !"refusal".equals(type)) {
                        throw new UnboundedPromptException("messages[" + i + "]: a content part of type '" + type
                                + "' has no byte bound on its tokens; only text parts can be budgeted");
                    }
                    n += bytes(part.path("text")) + bytes(part.path("refusal"));
                }
            } else if (!content.isMissingNode() && !content.isNull()) {
                throw new UnboundedPromptException("messages[" + i + "].content: must be a string or an array of parts");
            }
            for (JsonNode call : m.path("tool_calls")) {
                n += bytes(call.path("id")) + bytes(call.path("function").path("name"))
                        + bytes(call.path("function").path("arguments"));
            }
            JsonNode legacyCall = m.path("function_call");
            n += bytes(legacyCall.path("name")) + bytes(legacyCall.path("arguments"));
            i++;
        }
        long schemas = json(body.path("tools")) + json(body.path("functions")) + json(body.path("response_format"))
                + json(body.path("tool_choice"));
        if (schemas > 0) {
            n += schemas + o.tools();
        }
        return n;
    }

    private static long bytes(JsonNode text) {
        return text.isTextual() ? text.asText().getBytes(StandardCharsets.UTF_8).length : 0;
    }

    private static long json(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return 0;
        }
        return node.toString().getBytes(StandardCharsets.UTF_8).length;
    }
}
