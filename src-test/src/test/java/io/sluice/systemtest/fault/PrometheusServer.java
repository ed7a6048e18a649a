package io.sluice.systemtest.fault;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A real Prometheus (Debian's {@code prometheus} package; {@code .ci/run} installs it) in a process of its own on a
 * free loopback port, scraping given targets every second and evaluating the given rule files every second; its
 * HTTP API answers queries; {@code promtool} beside the binary checks files.
 */
final class PrometheusServer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final String baseUrl;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private PrometheusServer(Process process, String baseUrl, Path log) {
        this.process = process;
        this.baseUrl = baseUrl;
        this.log = log;
    }

    /**
     * Starts Prometheus and waits until it is ready.
     *
     * @param jobs      job name → the {@code host:port} targets it scrapes at {@code /metrics}
     * @param ruleFiles rule files it loads and evaluates
     * @param dir       its configuration, data and log go here
     */
    static PrometheusServer start(Path binary, Map<String, List<String>> jobs, List<Path> ruleFiles, Path dir)
            throws IOException {
        Files.createDirectories(dir);
        StringBuilder config = new StringBuilder("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n");
        config.append("rule_files:\n");
        ruleFiles.forEach(f -> config.append("  - '").append(f.toAbsolutePath()).append("'\n"));
        config.append("scrape_configs:\n");
        jobs.forEach((job, targets) -> config.append("  - job_name: ").append(job).append("\n    static_configs:\n")
                .append("      - targets: [").append(targets.stream().map(t -> "'" + t + "'").collect(Collectors.joining(", ")))
                .append("]\n"));
        Path configFile = dir.resolve("prometheus.yml");
        Files.writeString(configFile, config);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path log = dir.resolve("prometheus.log");
        Process process = new ProcessBuilder(binary.toString(), "--config.file=" + configFile,
                "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        PrometheusServer server = new PrometheusServer(process, "http://127.0.0.1:" + port, log);
        try {
            await("prometheus to be ready").atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(200)).until(() -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("prometheus exited with " + process.exitValue() + ":\n" + Files.readString(log));
                }
                return server.status("/-/ready") == 200;
            });
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /**
     * Runs {@code promtool} (beside the binary) with {@code args}; its exit code and output.
     */
    static Map.Entry<Integer, String> promtool(Path prometheus, String... args) throws IOException, InterruptedException {
        Path promtool = prometheus.resolveSibling("promtool");
        List<String> command = Stream.concat(Stream.of(promtool.toString()), Stream.of(args)).toList();
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(command + " did not end within 60 s");
        }
        return Map.entry(p.exitValue(), out);
    }

    /** {@code GET /api/v1/query}: the answer's {@code data}, or an exception naming Prometheus's error. */
    JsonNode query(String promql) {
        JsonNode answer = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        if (!"success".equals(answer.path("status").asText())) {
            throw new IllegalArgumentException(answer.path("errorType").asText() + ": " + answer.path("error").asText());
        }
        return answer.path("data");
    }

    /** {@code GET /api/v1/targets}: the active targets. */
    JsonNode targets() {
        return get("/api/v1/targets").path("data").path("activeTargets");
    }

    /** {@code GET /api/v1/rules}: the rule groups, each rule with its query, health and last error. */
    JsonNode ruleGroups() {
        return get("/api/v1/rules").path("data").path("groups");
    }

    String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private JsonNode get(String path) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(baseUrl + path))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private int status(String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
