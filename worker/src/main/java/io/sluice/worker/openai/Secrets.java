package io.sluice.worker.openai;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The API key of an endpoint, and the redaction of it from everything the worker writes: reasons, outputs,
 * exceptions and logs. Besides the key itself, anything shaped like a provider key ({@code sk-…}, {@code Bearer …})
 * is redacted, since a provider may echo a different key back, or part of one.
 *
 * <p>Thread-safety: immutable.
 */
final class Secrets {

    static final String REDACTED = "[REDACTED]";
    private static final Pattern KEY_LIKE = Pattern.compile("(?i)(Bearer\\s+\\S+|\\bsk-[A-Za-z0-9_\\-*.]{6,})");

    private final String key;

    private Secrets(String key) {
        this.key = key;
    }

    /**
     * The key the endpoint names: its variable in {@code env}, or its file (trimmed).
     *
     * @throws IllegalArgumentException naming the variable or file (never the key) when it cannot be read
     */
    static Secrets of(EndpointConfig config, Map<String, String> env) {
        if (config.apiKeyFile() != null) {
            try {
                return new Secrets(blankToNull(Files.readString(config.apiKeyFile(), StandardCharsets.UTF_8)));
            } catch (IOException e) {
                throw new IllegalArgumentException(config.name() + ": cannot read api_key_file " + config.apiKeyFile() + ": "
                        + e.getClass().getSimpleName());
            }
        }
        return new Secrets(config.apiKeyEnv() == null ? null : blankToNull(env.get(config.apiKeyEnv())));
    }

    /** The header value, or null when the endpoint has no key. Never log it. */
    String authorization() {
        return key == null ? null : "Bearer " + key;
    }

    boolean present() {
        return key != null;
    }

    /** {@code text} without the key or anything shaped like one. */
    String redact(String text) {
        if (text == null) {
            return null;
        }
        String s = key != null && key.length() >= 4 ? text.replace(key, REDACTED) : text;
        return KEY_LIKE.matcher(s).replaceAll(REDACTED);
    }

    @Override
    public String toString() {
        return key == null ? "no key" : "a key of " + key.length() + " characters";
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
