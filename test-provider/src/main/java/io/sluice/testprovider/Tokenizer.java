package io.sluice.testprovider;

import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * How the test provider counts a prompt, as a chat template and a tokenizer would: per message a fixed overhead
 * (the role markers) plus the tokens of its role, name and text; per request a primer for the reply; tool
 * definitions as their JSON text.
 *
 * <ul>
 *   <li>{@link #WORDS}, the default, is a plausible BPE: runs of letters and digits in pieces of up to four, every
 *       other visible character one token, whitespace free; 3 tokens per message, 3 for the primer (OpenAI's
 *       documented accounting for its chat models);</li>
 *   <li>{@link #BYTES} is the worst case of a byte-level tokenizer: one token per UTF-8 byte, 4 per message, 3 for
 *       the primer and 20 for tools — so a client's upper bound can be shown to hold where it is tightest;</li>
 *   <li>{@link #O200K} is GPT-4o's real tokenizer ({@code o200k_base}, by JTokkit) with OpenAI's documented chat
 *       accounting (3 per message, 1 per name, 3 for the primer): a bill as OpenAI would count it.</li>
 * </ul>
 * A content part that is not text (an image, audio) costs 85 tokens, as a low-detail image does at OpenAI.
 */
public enum Tokenizer {
    WORDS(3, 3, 10),
    BYTES(4, 3, 20),
    O200K(3, 3, 10);

    static final int NON_TEXT_PART_TOKENS = 85;

    /** Loaded on first use: the vocabulary takes a moment and some memory. */
    private static final class O200kHolder {
        static final com.knuddels.jtokkit.api.Encoding ENCODING = com.knuddels.jtokkit.Encodings.newLazyEncodingRegistry()
                .getEncoding(com.knuddels.jtokkit.api.EncodingType.O200K_BASE);
    }

    private final int perMessage;
    private final int primer;
    private final int tools;

    Tokenizer(int perMessage, int primer, int tools) {
        this.perMessage = perMessage;
        this.primer = primer;
        this.tools = tools;
    }

    /** The prompt tokens of a chat-completions request body. */
    public long promptTokens(JsonNode body) {
        long n = primer;
        for (JsonNode m : body.path("messages")) {
            n += perMessage + text(m.path("role").asText("")) + (m.hasNonNull("name") ? 1 + text(m.get("name").asText()) : 0);
            JsonNode content = m.path("content");
            if (content.isTextual()) {
                n += text(content.asText());
            } else if (content.isArray()) {
                for (JsonNode part : content) {
                    n += "text".equals(part.path("type").asText()) ? text(part.path("text").asText("")) : NON_TEXT_PART_TOKENS;
                }
            }
            for (JsonNode call : m.path("tool_calls")) {
                n += text(call.path("function").path("name").asText("")) + text(call.path("function").path("arguments").asText(""));
            }
        }
        if (body.path("tools").isArray() && !body.path("tools").isEmpty()) {
            n += tools + text(body.get("tools").toString());
        }
        return n;
    }

    long text(String s) {
        if (this == BYTES) {
            return s.getBytes(StandardCharsets.UTF_8).length;
        }
        if (this == O200K) {
            return O200kHolder.ENCODING.countTokensOrdinary(s);
        }
        long n = 0;
        int run = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isLetterOrDigit(cp)) {
                if (run % 4 == 0) {
                    n++;
                }
                run++;
            } else {
                run = 0;
                if (!Character.isWhitespace(cp)) {
                    n++;
                }
            }
        }
        return n;
    }
}
