package io.sluice.schemas;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * One validation error: where in the payload (field names and array indices from the root) and what is wrong.
 * Rendered as {@code workflow.nodes[2].budget.max_tokens: must be ≥ 0, got -5}; an error about the payload as a
 * whole is rendered with the path {@code payload}.
 *
 * @param path    {@link String} field names and {@link Integer} array indices
 * @param message what is wrong, ending with the offending value where there is one
 */
record Problem(List<Object> path, String message) {

    /** The name of the root in a rendered path. */
    static final String ROOT = "payload";

    private static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final int MAX_SHOWN_CHARS = 64;

    Problem {
        path = List.copyOf(path);
    }

    static Problem at(List<Object> path, String message) {
        return new Problem(path, message);
    }

    static Problem atRoot(String message) {
        return new Problem(List.of(), message);
    }

    /** A copy of {@code path} with {@code more} appended. */
    static List<Object> append(List<Object> path, Object... more) {
        List<Object> longer = new ArrayList<>(path.size() + more.length);
        longer.addAll(path);
        longer.addAll(List.of(more));
        return longer;
    }

    String render() {
        return pathText(path) + ": " + message;
    }

    /** Dots between field names, {@code [i]} for indices, no leading {@code $.}; names that are not plain are quoted. */
    static String pathText(List<Object> path) {
        if (path.isEmpty()) {
            return ROOT;
        }
        StringBuilder sb = new StringBuilder();
        for (Object element : path) {
            if (element instanceof Integer index) {
                sb.append('[').append(index).append(']');
            } else {
                String name = element.toString();
                if (PLAIN_NAME.matcher(name).matches()) {
                    if (sb.length() > 0) {
                        sb.append('.');
                    }
                    sb.append(name);
                } else {
                    sb.append('[').append(quote(name)).append(']');
                }
            }
        }
        return sb.toString();
    }

    /** A value as an error message shows it: strings quoted (and cut), numbers and literals as written, containers by kind. */
    static String describe(JsonNode value) {
        if (value == null || value.isMissingNode()) {
            return "nothing";
        }
        if (value.isTextual()) {
            return quote(value.textValue());
        }
        if (value.isObject()) {
            return "an object";
        }
        if (value.isArray()) {
            return "an array";
        }
        if (value.isNumber() && (value.isDouble() || value.isFloat()) && !Double.isFinite(value.doubleValue())) {
            return "a number out of range";
        }
        return value.toString();
    }

    /** A JSON string literal, cut after {@value #MAX_SHOWN_CHARS} characters. */
    static String quote(String text) {
        boolean cut = text.length() > MAX_SHOWN_CHARS;
        int end = cut && Character.isHighSurrogate(text.charAt(MAX_SHOWN_CHARS - 1)) ? MAX_SHOWN_CHARS - 1 : MAX_SHOWN_CHARS;
        String shown = cut ? text.substring(0, end) : text;
        return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(shown)) + (cut ? "…" : "") + "\"";
    }
}
