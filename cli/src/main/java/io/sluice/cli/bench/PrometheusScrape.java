package io.sluice.cli.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a process's Prometheus endpoint ({@code GET /metrics}, the text format) and sums samples of one metric whose
 * labels include the given ones: e.g. {@code jvm_memory_used_bytes{area="heap"}} summed over the heap pools is the
 * heap in use.
 *
 * <p>Thread-safe (the HTTP client is).
 */
final class PrometheusScrape {

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)\\})?\\s+(\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final URI uri;

    PrometheusScrape(int port) {
        this.uri = URI.create("http://127.0.0.1:" + port + "/metrics");
    }

    /** The endpoint's text now. */
    String scrape() throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET().build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException(uri + " answered " + response.statusCode());
        }
        return response.body();
    }

    /** The sum of the samples of {@code metric} whose labels include {@code labels}; empty when there is none. */
    static OptionalDouble sum(String text, String metric, Map<String, String> labels) {
        double sum = 0;
        boolean found = false;
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.charAt(0) == '#') {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            if (!m.find() || !m.group(1).equals(metric) || !matches(m.group(3), labels)) {
                continue;
            }
            try {
                sum += Double.parseDouble(m.group(4));
                found = true;
            } catch (NumberFormatException e) {
                // NaN spelled otherwise: not a sample to add
            }
        }
        return found ? OptionalDouble.of(sum) : OptionalDouble.empty();
    }

    private static boolean matches(String labelText, Map<String, String> wanted) {
        if (wanted.isEmpty()) {
            return true;
        }
        if (labelText == null) {
            return false;
        }
        Map<String, String> have = new java.util.HashMap<>();
        Matcher m = LABEL.matcher(labelText);
        while (m.find()) {
            have.put(m.group(1), m.group(2));
        }
        return wanted.entrySet().stream().allMatch(e -> e.getValue().equals(have.get(e.getKey())));
    }
}
