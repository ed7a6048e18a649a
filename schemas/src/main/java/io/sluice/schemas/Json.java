package io.sluice.schemas;

import java.io.IOException;
import java.io.UncheckedIOException;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The one Jackson configuration of the wire format: snake_case names, unknown fields rejected, absent
 * (null) fields left out, numbers that do not fit rejected rather than truncated.
 *
 * <p>Thread-safe: the mapper is configured once and only read after.
 */
public final class Json {

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .defaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_NULL, JsonInclude.Include.NON_NULL))
            .build();

    static {
        // Deeply nested JSON is refused by the parser before it can exhaust the stack.
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(200).build());
    }

    private Json() {
    }

    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** Encodes a wire record. */
    public static byte[] write(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName(), e);
        }
    }

    public static String writeString(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName(), e);
        }
    }

    public static String writePretty(Object value) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName(), e);
        }
    }

    /**
     * Decodes a wire record.
     *
     * @throws WireFormatException with a message naming the offending field, when the bytes are not JSON or
     *                             not of the record's shape
     */
    public static <T> T read(byte[] bytes, Class<T> type) {
        if (bytes == null) {
            throw new WireFormatException("no value (a tombstone), expected a " + type.getSimpleName());
        }
        T value;
        try {
            value = MAPPER.readValue(bytes, type);
        } catch (IOException e) {
            throw WireFormatException.from(type, e);
        }
        if (value == null) {
            // Jackson maps the JSON literal null (and a value of only whitespace) to null: never a record.
            throw new WireFormatException("not a valid " + type.getSimpleName() + ": got null");
        }
        return value;
    }

    public static JsonNode tree(byte[] bytes) {
        try {
            return MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw WireFormatException.from(JsonNode.class, e);
        }
    }

    public static <T> T convert(JsonNode tree, Class<T> type) {
        if (tree == null || tree.isNull() || tree.isMissingNode()) {
            throw new WireFormatException("not a valid " + type.getSimpleName() + ": got null");
        }
        try {
            return MAPPER.treeToValue(tree, type);
        } catch (JsonProcessingException e) {
            throw WireFormatException.from(type, e);
        } catch (IllegalArgumentException e) {
            throw WireFormatException.from(type, new UncheckedIOException(new IOException(e.getMessage(), e)));
        }
    }
}
