package io.sluice.worker.openai;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class SecretsTest {

    private final EndpointConfig config = EndpointConfig.of("openai", URI.create("http://h/v1")).withApiKeyEnv("KEY");

    @Test
    void shouldRedactTheKeyAndAnythingShapedLikeOne() {
        Secrets s = Secrets.of(config, Map.of("KEY", "abcd-secret-value"));
        assertThat(s.redact("bad key abcd-secret-value; also sk-proj-AbC123xyz and Bearer zzz"))
                .isEqualTo("bad key [REDACTED]; also [REDACTED] and [REDACTED]");
        assertThat(s.toString()).doesNotContain("abcd-secret-value");
        assertThat(s.authorization()).isEqualTo("Bearer abcd-secret-value");
    }

    @Test
    void shouldSendNoAuthorizationWithoutAKey() {
        assertThat(Secrets.of(config, Map.of()).authorization()).isNull();
        assertThat(Secrets.of(config, Map.of("KEY", "  ")).present()).isFalse();
    }

    @Test
    void shouldPreferRetryAfterMsThenSecondsThenADate() {
        Instant now = Instant.parse("2026-12-02T10:00:00Z");
        assertThat(RetryAfter.of(headers(Map.of("retry-after-ms", "150", "retry-after", "9")), now)).contains(Duration.ofMillis(150));
        assertThat(RetryAfter.of(headers(Map.of("retry-after", "2")), now)).contains(Duration.ofSeconds(2));
        assertThat(RetryAfter.of(headers(Map.of("retry-after", "Wed, 02 Dec 2026 10:00:05 GMT")), now)).contains(Duration.ofSeconds(5));
        assertThat(RetryAfter.of(headers(Map.of("retry-after", "soon")), now)).isEmpty();
    }

    private static HttpHeaders headers(Map<String, String> h) {
        Map<String, List<String>> m = new java.util.HashMap<>();
        h.forEach((k, v) -> m.put(k, List.of(v)));
        return HttpHeaders.of(m, (a, b) -> true);
    }
}
