package io.sluice.testprovider;

import java.util.Iterator;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * How the test provider answers one request, read from the request body's {@code test_provider} object (a field
 * no real provider knows; absent = a well-behaved model that writes 16 tokens at once):
 * <pre>{@code
 * "test_provider": {
 *   "scenario": "run-42",          // groups requests in the bill, and counts them for fail_first
 *   "completion_tokens": 16,       // what the model would write before it stops on its own
 *   "first_token_ms": 0,           // thinking time before the response headers and the first token
 *   "token_interval_ms": 0,        // time between tokens
 *   "status": 429,                 // answer with this error status instead ...
 *   "fail_first": 2,               // ... only for the scenario's first N requests (0 = always)
 *   "retry_after": "1",            // Retry-After header of the error
 *   "retry_after_ms": 50,          // retry-after-ms header of the error (as OpenAI sends)
 *   "error_message": "…",          // the error's message
 *   "disconnect_after_tokens": 5,  // reset the connection after N tokens, before any usage
 *   "omit_usage": false,           // never send the usage chunk
 *   "extra_completion_tokens": 0   // report this many completion tokens more than were written (and bill them)
 * }
 * }</pre>
 */
record Scenario(String id, int completionTokens, long firstTokenMs, long tokenIntervalMs, Integer status, int failFirst,
                String retryAfter, Long retryAfterMs, String errorMessage, Integer disconnectAfterTokens, boolean omitUsage,
                int extraCompletionTokens) {

    static final int DEFAULT_COMPLETION_TOKENS = 16;
    private static final Set<String> FIELDS = Set.of("scenario", "completion_tokens", "first_token_ms", "token_interval_ms",
            "status", "fail_first", "retry_after", "retry_after_ms", "error_message", "disconnect_after_tokens", "omit_usage",
            "extra_completion_tokens");

    static final Scenario DEFAULT = new Scenario(null, DEFAULT_COMPLETION_TOKENS, 0, 0, null, 0, null, null, null, null,
            false, 0);

    /** @throws IllegalArgumentException naming the field that is wrong */
    static Scenario of(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return DEFAULT;
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException("test_provider: must be an object");
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw new IllegalArgumentException("test_provider." + f + ": unknown field");
            }
        }
        Integer status = optInt(node, "status", 400, 599);
        return new Scenario(node.hasNonNull("scenario") ? node.get("scenario").asText() : null,
                orDefault(optInt(node, "completion_tokens", 0, 1_000_000), DEFAULT_COMPLETION_TOKENS),
                orDefault(optInt(node, "first_token_ms", 0, 600_000), 0), orDefault(optInt(node, "token_interval_ms", 0, 60_000), 0),
                status, orDefault(optInt(node, "fail_first", 0, 1_000_000), 0),
                node.hasNonNull("retry_after") ? node.get("retry_after").asText() : null,
                node.hasNonNull("retry_after_ms") ? (long) optInt(node, "retry_after_ms", 0, 600_000) : null,
                node.hasNonNull("error_message") ? node.get("error_message").asText() : null,
                optInt(node, "disconnect_after_tokens", 0, 1_000_000), node.path("omit_usage").asBoolean(false),
                orDefault(optInt(node, "extra_completion_tokens", 0, 1_000_000), 0));
    }

    private static Integer optInt(JsonNode node, String field, int min, int max) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.intValue() < min || v.intValue() > max) {
            throw new IllegalArgumentException("test_provider." + field + ": must be an integer in " + min + ".." + max);
        }
        return v.intValue();
    }

    private static int orDefault(Integer v, int d) {
        return v != null ? v : d;
    }
}
