package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

/** The metrics endpoint: loopback, a free port when asked, {@code /health} and {@code /ready} beside {@code /metrics}. */
class MetricsServerTest {

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void shouldServeMetricsHealthAndReadinessOnAFreeLoopbackPort() throws Exception {
        AtomicBoolean running = new AtomicBoolean();
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0, "worker")) {
            server.readiness(running::get);
            String base = server.url().replace("/metrics", "");
            assertThat(base).startsWith("http://127.0.0.1:");

            assertThat(get(base + "/health")).isEqualTo(200);
            assertThat(get(base + "/ready")).isEqualTo(503);
            running.set(true);
            assertThat(get(base + "/ready")).isEqualTo(200);
            assertThat(get(base + "/metrics")).isEqualTo(200);
            assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body()).contains("sluice_build_info{java=\"")
                    .contains("role=\"worker\"");
        }
    }

    @Test
    void shouldServeNothingWhenOff() {
        try (MetricsServer server = MetricsServer.start("127.0.0.1", -1, "worker")) {
            assertThat(server.url()).isNull();
        }
    }

    private int get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
