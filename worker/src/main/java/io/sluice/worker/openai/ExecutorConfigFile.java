package io.sluice.worker.openai;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.schemas.Json;
import io.sluice.worker.execute.Price;

/**
 * The worker's {@code --executor-config} file: named OpenAI-compatible endpoints, each an executor of its name.
 * <pre>{@code
 * {"endpoints": {
 *   "openai": {"base_url": "https://api.openai.com/v1", "api_key_env": "OPENAI_API_KEY",
 *              "cap_parameter": "max_completion_tokens"},
 *   "local":  {"base_url": "http://127.0.0.1:8000/v1", "max_concurrent_requests": 32,
 *              "request_overhead_tokens": 128}
 * }}
 * }</pre>
 * Fields (all but {@code base_url} optional): {@code api_key_env} (the <em>name</em> of the variable holding the key),
 * {@code api_key_file} (a file holding it; relative to the config file), {@code connect_timeout_ms},
 * {@code request_timeout_ms}, {@code stream_idle_timeout_ms}, {@code max_concurrent_requests}, {@code cap_parameter},
 * {@code message_overhead_tokens}, {@code request_overhead_tokens}, {@code tools_overhead_tokens},
 * {@code default_max_tokens}, {@code max_rate_limit_retries}, {@code max_backoff_ms}, {@code prices} (by model:
 * {@code {"gpt-4o-mini": {"input_per_million_microusd": 150000, "output_per_million_microusd": 600000}}}). An
 * unknown field is refused by
 * name, so that a typo never silently falls back to a default.
 */
public final class ExecutorConfigFile {

    private static final Set<String> FIELDS = Set.of("base_url", "api_key_env", "api_key_file", "connect_timeout_ms",
            "request_timeout_ms", "stream_idle_timeout_ms", "max_concurrent_requests", "cap_parameter",
            "message_overhead_tokens", "request_overhead_tokens", "tools_overhead_tokens", "default_max_tokens",
            "max_rate_limit_retries", "max_backoff_ms", "prices");
    private static final Set<String> PRICE_FIELDS = Set.of("input_per_million_microusd", "output_per_million_microusd");

    private ExecutorConfigFile() {
    }

    /**
     * @throws IllegalArgumentException naming the file and the field when it is not a valid configuration
     */
    public static List<EndpointConfig> read(Path file) {
        JsonNode root;
        try {
            root = Json.mapper().readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read the executor configuration: " + e.getMessage(), e);
        }
        try {
            return parse(root, file.toAbsolutePath().getParent());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    static List<EndpointConfig> parse(JsonNode root, Path base) {
        if (root == null || !root.isObject() || !root.path("endpoints").isObject()) {
            throw new IllegalArgumentException("must be a JSON object with an \"endpoints\" object");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals("endpoints")) {
                throw new IllegalArgumentException(f + ": unknown field");
            }
        }
        List<EndpointConfig> out = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : root.get("endpoints").properties()) {
            out.add(endpoint(e.getKey(), e.getValue(), base));
        }
        return out;
    }

    private static EndpointConfig endpoint(String name, JsonNode n, Path base) {
        String at = "endpoints." + name;
        if (!n.isObject()) {
            throw new IllegalArgumentException(at + ": must be an object");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw new IllegalArgumentException(at + "." + f + ": unknown field");
            }
        }
        if (!n.path("base_url").isTextual()) {
            throw new IllegalArgumentException(at + ".base_url: required, a URL");
        }
        URI url;
        try {
            url = new URI(n.get("base_url").asText());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(at + ".base_url: not a URL: " + e.getMessage());
        }
        EndpointConfig d = EndpointConfig.of(name, url);
        Path keyFile = n.hasNonNull("api_key_file") ? base.resolve(text(n, at, "api_key_file")) : null;
        return new EndpointConfig(name, url, n.hasNonNull("api_key_env") ? text(n, at, "api_key_env") : null, keyFile,
                millis(n, at, "connect_timeout_ms", d.connectTimeout()), millis(n, at, "request_timeout_ms", d.requestTimeout()),
                millis(n, at, "stream_idle_timeout_ms", d.streamIdleTimeout()),
                (int) number(n, at, "max_concurrent_requests", d.maxConcurrentRequests()),
                n.hasNonNull("cap_parameter") ? EndpointConfig.CapParameter.of(text(n, at, "cap_parameter")) : d.capParameter(),
                new PromptBound.Overheads(number(n, at, "message_overhead_tokens", d.overheads().perMessage()),
                        number(n, at, "request_overhead_tokens", d.overheads().perRequest()),
                        number(n, at, "tools_overhead_tokens", d.overheads().tools())),
                number(n, at, "default_max_tokens", d.defaultMaxTokens()),
                (int) number(n, at, "max_rate_limit_retries", d.maxRateLimitRetries()),
                millis(n, at, "max_backoff_ms", d.maxBackoff()), prices(n.get("prices"), at + ".prices"));
    }

    private static Map<String, Price> prices(JsonNode node, String at) {
        if (node == null || node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException(at + ": must be an object of model name → price");
        }
        Map<String, Price> out = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            String where = at + "." + e.getKey();
            JsonNode p = e.getValue();
            if (!p.isObject()) {
                throw new IllegalArgumentException(where + ": must be an object");
            }
            for (Iterator<String> it = p.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!PRICE_FIELDS.contains(f)) {
                    throw new IllegalArgumentException(where + "." + f + ": unknown field");
                }
            }
            if (!p.has("input_per_million_microusd") || !p.has("output_per_million_microusd")) {
                throw new IllegalArgumentException(where + ": needs input_per_million_microusd and output_per_million_microusd");
            }
            out.put(e.getKey(), new Price(number(p, where, "input_per_million_microusd", 0),
                    number(p, where, "output_per_million_microusd", 0)));
        }
        return out;
    }

    private static String text(JsonNode n, String at, String field) {
        JsonNode v = n.get(field);
        if (!v.isTextual() || v.asText().isBlank()) {
            throw new IllegalArgumentException(at + "." + field + ": must be a non-empty string");
        }
        return v.asText();
    }

    private static long number(JsonNode n, String at, String field, long dflt) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0) {
            throw new IllegalArgumentException(at + "." + field + ": must be a non-negative integer");
        }
        return v.longValue();
    }

    private static Duration millis(JsonNode n, String at, String field, Duration dflt) {
        return n.hasNonNull(field) ? Duration.ofMillis(number(n, at, field, 0)) : dflt;
    }
}
