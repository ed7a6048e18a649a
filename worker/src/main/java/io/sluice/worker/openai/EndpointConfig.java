package io.sluice.worker.openai;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

import io.sluice.worker.execute.Price;

/**
 * One OpenAI-compatible chat-completions endpoint, usable as an executor of its {@link #name}.
 *
 * <p>The key is never held here, only where it comes from: the name of an environment variable
 * ({@link #apiKeyEnv}) or a file ({@link #apiKeyFile}); neither set = no {@code Authorization} header (a local
 * vLLM, Ollama or llama.cpp server).
 *
 * @param name                  the executor name tasks use
 * @param baseUrl               e.g. {@code https://api.openai.com/v1}; requests go to {@code {baseUrl}/chat/completions}
 * @param requestTimeout        longest wait for the response headers of one call
 * @param streamIdleTimeout     longest silence inside a streaming response before the call is cut
 * @param maxConcurrentRequests calls in flight at once from this worker; more wait for a turn
 * @param capParameter          the request field that carries the step's output cap
 * @param overheads             what {@link PromptBound} adds for the chat template
 * @param defaultMaxTokens      the cap when neither the grant nor the input bounds the output: no call leaves
 *                              uncapped
 * @param maxRateLimitRetries   429/503 answers retried inside one attempt before the attempt fails
 * @param maxBackoff            the longest wait between such retries when the provider names none
 * @param prices                by the request's {@code model}: what its tokens cost; a leaf under a cost limit whose
 *                              model has none is refused
 */
public record EndpointConfig(String name, URI baseUrl, String apiKeyEnv, Path apiKeyFile, Duration connectTimeout,
                             Duration requestTimeout, Duration streamIdleTimeout, int maxConcurrentRequests,
                             CapParameter capParameter, PromptBound.Overheads overheads, long defaultMaxTokens,
                             int maxRateLimitRetries, Duration maxBackoff, Map<String, Price> prices) {

    public static final String OPENAI = "openai";
    public static final String ENV_BASE_URL = "OPENAI_BASE_URL";
    public static final String ENV_API_KEY = "OPENAI_API_KEY";
    public static final URI DEFAULT_BASE_URL = URI.create("https://api.openai.com/v1");
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(120);
    public static final Duration DEFAULT_STREAM_IDLE_TIMEOUT = Duration.ofSeconds(120);
    public static final int DEFAULT_MAX_CONCURRENT_REQUESTS = 256;
    public static final long DEFAULT_MAX_TOKENS = 4096;
    public static final int DEFAULT_MAX_RATE_LIMIT_RETRIES = 8;
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(30);

    /** The request field of the output cap: {@code max_tokens}, or {@code max_completion_tokens} (newer OpenAI models). */
    public enum CapParameter {
        MAX_TOKENS("max_tokens"), MAX_COMPLETION_TOKENS("max_completion_tokens");

        private final String field;

        CapParameter(String field) {
            this.field = field;
        }

        public String field() {
            return field;
        }

        static CapParameter of(String field) {
            for (CapParameter c : values()) {
                if (c.field.equals(field)) {
                    return c;
                }
            }
            throw new IllegalArgumentException("cap_parameter: must be max_tokens or max_completion_tokens, got '" + field + "'");
        }
    }

    public EndpointConfig {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("name: must not be blank");
        }
        Objects.requireNonNull(baseUrl, "baseUrl");
        String scheme = baseUrl.getScheme() == null ? "" : baseUrl.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || baseUrl.getHost() == null) {
            throw new IllegalArgumentException(name + ": base_url must be an http(s) URL with a host, got '" + baseUrl + "'");
        }
        if (apiKeyEnv != null && apiKeyFile != null) {
            throw new IllegalArgumentException(name + ": set api_key_env or api_key_file, not both");
        }
        requirePositive(name, "connect_timeout", connectTimeout);
        requirePositive(name, "request_timeout", requestTimeout);
        requirePositive(name, "stream_idle_timeout", streamIdleTimeout);
        requirePositive(name, "max_backoff", maxBackoff);
        if (maxConcurrentRequests < 1 || maxConcurrentRequests > 100_000) {
            throw new IllegalArgumentException(name + ": max_concurrent_requests must be 1..100000, got " + maxConcurrentRequests);
        }
        Objects.requireNonNull(capParameter, "capParameter");
        Objects.requireNonNull(overheads, "overheads");
        if (defaultMaxTokens < 1) {
            throw new IllegalArgumentException(name + ": default_max_tokens must be >= 1, got " + defaultMaxTokens);
        }
        if (maxRateLimitRetries < 0 || maxRateLimitRetries > 1_000) {
            throw new IllegalArgumentException(name + ": max_rate_limit_retries must be 0..1000, got " + maxRateLimitRetries);
        }
        prices = prices == null ? Map.of() : Map.copyOf(prices);
    }

    /** An endpoint with every default: no key. */
    public static EndpointConfig of(String name, URI baseUrl) {
        return new EndpointConfig(name, baseUrl, null, null, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT,
                DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_MAX_CONCURRENT_REQUESTS, CapParameter.MAX_TOKENS,
                PromptBound.Overheads.DEFAULTS, DEFAULT_MAX_TOKENS, DEFAULT_MAX_RATE_LIMIT_RETRIES, DEFAULT_MAX_BACKOFF, Map.of());
    }

    /**
     * The built-in {@code openai} executor, configured as the OpenAI SDKs are: {@code OPENAI_BASE_URL} (default
     * {@link #DEFAULT_BASE_URL}) and the key from {@code OPENAI_API_KEY}.
     */
    public static EndpointConfig fromEnvironment(Map<String, String> env) {
        String base = env.get(ENV_BASE_URL);
        URI url = base == null || base.isBlank() ? DEFAULT_BASE_URL : URI.create(base.trim());
        return of(OPENAI, url).withApiKeyEnv(ENV_API_KEY);
    }

    public EndpointConfig withApiKeyEnv(String env) {
        return new EndpointConfig(name, baseUrl, env, null, connectTimeout, requestTimeout, streamIdleTimeout,
                maxConcurrentRequests, capParameter, overheads, defaultMaxTokens, maxRateLimitRetries, maxBackoff, prices);
    }

    public EndpointConfig withRateLimitRetries(int retries, Duration backoff) {
        return new EndpointConfig(name, baseUrl, apiKeyEnv, apiKeyFile, connectTimeout, requestTimeout, streamIdleTimeout,
                maxConcurrentRequests, capParameter, overheads, defaultMaxTokens, retries, backoff, prices);
    }

    public EndpointConfig withPrices(Map<String, Price> p) {
        return new EndpointConfig(name, baseUrl, apiKeyEnv, apiKeyFile, connectTimeout, requestTimeout, streamIdleTimeout,
                maxConcurrentRequests, capParameter, overheads, defaultMaxTokens, maxRateLimitRetries, maxBackoff, p);
    }

    public EndpointConfig withMaxConcurrentRequests(int n) {
        return new EndpointConfig(name, baseUrl, apiKeyEnv, apiKeyFile, connectTimeout, requestTimeout, streamIdleTimeout,
                n, capParameter, overheads, defaultMaxTokens, maxRateLimitRetries, maxBackoff, prices);
    }

    /** The URL of chat completions under {@link #baseUrl}. */
    URI chatCompletionsUrl() {
        String s = baseUrl.toString();
        return URI.create((s.endsWith("/") ? s : s + "/") + "chat/completions");
    }

    private static void requirePositive(String name, String field, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + ": " + field + " must be > 0, got " + d);
        }
    }
}
