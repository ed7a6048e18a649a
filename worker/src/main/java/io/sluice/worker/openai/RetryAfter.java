package io.sluice.worker.openai;

import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * How long a provider asks to be left alone after a 429 or 503: {@code retry-after-ms} (OpenAI's, in milliseconds)
 * when present, else {@code Retry-After} in seconds or as an HTTP date. Pure.
 */
final class RetryAfter {

    private RetryAfter() {
    }

    static Optional<Duration> of(HttpHeaders headers, Instant now) {
        Optional<String> ms = headers.firstValue("retry-after-ms");
        if (ms.isPresent()) {
            try {
                return Optional.of(Duration.ofMillis(Math.max(0, (long) Double.parseDouble(ms.get().trim()))));
            } catch (NumberFormatException e) {
                // fall back to Retry-After
            }
        }
        return headers.firstValue("retry-after").flatMap(v -> parse(v.trim(), now));
    }

    static Optional<Duration> parse(String value, Instant now) {
        try {
            return Optional.of(Duration.ofMillis(Math.max(0, (long) (Double.parseDouble(value) * 1000))));
        } catch (NumberFormatException e) {
            try {
                Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                return Optional.of(at.isAfter(now) ? Duration.between(now, at) : Duration.ZERO);
            } catch (DateTimeParseException e2) {
                return Optional.empty();
            }
        }
    }
}
