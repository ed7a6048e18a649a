package io.sluice.schemas;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonNodePath;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.ValidationMessage;

/**
 * Turns the JSON Schema validator's messages into {@link Problem}s a person can act on: the path in the house
 * format, the rule in words, and the offending value ({@code must be ≥ 0, got -5}).
 *
 * <p>Stateless and thread-safe.
 */
final class SchemaErrors {

    /** The contract's patterns in words; a pattern not listed here is quoted as it is. */
    private static final Map<String, String> PATTERN_WORDS = Map.of(
            "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
            "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
            "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
            "1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
            "^[a-z][a-z0-9_-]{0,63}$",
            "1 to 64 lower-case letters, digits, '_' or '-', starting with a letter");

    private SchemaErrors() {
    }

    static Problem translate(ValidationMessage m) {
        List<Object> path = elements(m.getInstanceLocation());
        JsonNode value = m.getInstanceNode();
        JsonNode rule = m.getSchemaNode();
        String type = m.getType() == null ? "" : m.getType();
        switch (type) {
            case "required":
                return Problem.at(Problem.append(path, property(m)), "is required");
            case "additionalProperties":
                return Problem.at(Problem.append(path, property(m)), "unknown field" + expectedFields(m));
            case "propertyNames":
                return Problem.at(Problem.append(path, property(m)), "is not an allowed name");
            case "type":
                return Problem.at(path, "must be " + typeWords(rule) + ", got " + Problem.describe(value));
            case "minimum":
                return Problem.at(path, "must be ≥ " + rule + ", got " + Problem.describe(value));
            case "maximum":
                return Problem.at(path, "must be ≤ " + rule + ", got " + Problem.describe(value));
            case "exclusiveMinimum":
                return Problem.at(path, "must be > " + rule + ", got " + Problem.describe(value));
            case "exclusiveMaximum":
                return Problem.at(path, "must be < " + rule + ", got " + Problem.describe(value));
            case "enum":
                return Problem.at(path, "must be " + oneOf(rule) + ", got " + Problem.describe(value));
            case "const":
                return Problem.at(path, "must be " + Problem.describe(rule) + ", got " + Problem.describe(value));
            case "pattern":
                return Problem.at(path, "must be " + patternWords(rule) + ", got " + Problem.describe(value));
            case "minItems":
                return Problem.at(path, "must have at least " + rule + " items");
            default:
                return Problem.at(path, withoutLocation(m));
        }
    }

    /** The elements of a validator path: field names as strings, array indices as integers. */
    static List<Object> elements(JsonNodePath location) {
        List<Object> path = new ArrayList<>();
        if (location == null) {
            return path;
        }
        for (int i = 0; i < location.getNameCount(); i++) {
            Object element = location.getElement(i);
            path.add(element instanceof Integer ? element : String.valueOf(element));
        }
        return path;
    }

    private static String property(ValidationMessage m) {
        if (m.getProperty() != null) {
            return m.getProperty();
        }
        Object[] args = m.getArguments();
        return args != null && args.length > 0 ? String.valueOf(args[0]) : "?";
    }

    /** " (expected one of a, b, c)" from the {@code properties} beside the failed {@code additionalProperties}. */
    private static String expectedFields(ValidationMessage m) {
        SchemaLocation location = m.getSchemaLocation();
        if (location == null || location.getAbsoluteIri() == null || location.getFragment() == null) {
            return "";
        }
        JsonNode schema = WireSchemas.raw(location.getAbsoluteIri().toString());
        JsonNodePath fragment = location.getFragment();
        for (int i = 0; schema != null && i < fragment.getNameCount() - 1; i++) {
            Object element = fragment.getElement(i);
            schema = element instanceof Integer index ? schema.get(index) : schema.get(String.valueOf(element));
        }
        JsonNode properties = schema == null ? null : schema.get("properties");
        if (properties == null || !properties.isObject() || properties.isEmpty()) {
            return "";
        }
        List<String> names = new ArrayList<>();
        properties.fieldNames().forEachRemaining(names::add);
        return " (expected one of " + String.join(", ", names) + ")";
    }

    private static String typeWords(JsonNode rule) {
        if (rule == null) {
            return "of another type";
        }
        if (rule.isArray()) {
            List<String> words = new ArrayList<>();
            rule.forEach(t -> words.add(typeWord(t.asText())));
            return alternatives(words);
        }
        return typeWord(rule.asText());
    }

    private static String typeWord(String type) {
        switch (type) {
            case "integer":
                return "an integer";
            case "object":
                return "an object";
            case "array":
                return "an array";
            case "null":
                return "null";
            default:
                return "a " + type;
        }
    }

    private static String oneOf(JsonNode values) {
        List<String> words = new ArrayList<>();
        if (values != null) {
            values.forEach(v -> words.add(Problem.describe(v)));
        }
        return words.isEmpty() ? "one of no values" : alternatives(words);
    }

    /** "a", "a or b", "a, b or c". */
    private static String alternatives(List<String> words) {
        if (words.size() == 1) {
            return words.get(0);
        }
        return String.join(", ", words.subList(0, words.size() - 1)) + " or " + words.get(words.size() - 1);
    }

    private static String patternWords(JsonNode rule) {
        String pattern = rule == null ? "" : rule.asText();
        String words = PATTERN_WORDS.get(pattern);
        return words != null ? words : "a string matching " + pattern;
    }

    /** The validator's own text without its leading "/json/pointer: ". */
    private static String withoutLocation(ValidationMessage m) {
        String text = m.getMessage() == null ? "is invalid" : m.getMessage();
        String prefix = m.getInstanceLocation() == null ? null : m.getInstanceLocation() + ": ";
        return prefix != null && text.startsWith(prefix) ? text.substring(prefix.length()) : text;
    }
}
