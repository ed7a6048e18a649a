package io.sluice.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.regex.RegularExpression;

/**
 * The JSON Schema files of the wire contract ({@code src/main/resources/schemas/}), loaded from the classpath once.
 *
 * <p>The files refer to each other by relative {@code $ref} against {@link #BASE_IRI}; every file is handed to the
 * schema factory up front, so no reference is ever fetched over the network.
 *
 * <p>Thread-safe: the holder class is initialised once by the JVM, and compiled {@link JsonSchema}s are immutable
 * and safe for concurrent {@code validate} calls.
 */
final class WireSchemas {

    /** The {@code $id} prefix of every schema file. */
    static final String BASE_IRI = "https://sluice.io/schemas/";

    static final String COMMON = "common.schema.json";
    static final String SUBMISSION = "submission.schema.json";
    static final String LEAF_TASK = "leaf-task.schema.json";
    static final String USAGE_EVENT = "usage-event.schema.json";
    static final String LEDGER_ENTRY = "ledger-entry.schema.json";
    static final String HALT = "halt.schema.json";
    static final String RECEIPT = "receipt.schema.json";
    static final String REJECTION = "rejection.schema.json";
    static final String RUN_RECORD = "run-record.schema.json";
    static final String HEARTBEAT = "heartbeat.schema.json";
    static final String CANCEL_REQUEST = "cancel-request.schema.json";

    static final List<String> FILES = List.of(COMMON, SUBMISSION, LEAF_TASK, USAGE_EVENT, LEDGER_ENTRY, HALT, RECEIPT,
            REJECTION, RUN_RECORD, HEARTBEAT, CANCEL_REQUEST);

    private static final String RESOURCE_DIR = "/schemas/";

    private WireSchemas() {
    }

    /** The compiled schema of one file, e.g. {@link #SUBMISSION}. */
    static JsonSchema schema(String file) {
        JsonSchema schema = Holder.COMPILED.get(file);
        if (schema == null) {
            throw new IllegalArgumentException("no wire schema " + file + " (expected one of " + FILES + ")");
        }
        return schema;
    }

    /** The parsed text of one file, or null when {@code iri} is not one of the contract's schemas. */
    static JsonNode raw(String iri) {
        String file = iri.startsWith(BASE_IRI) ? iri.substring(BASE_IRI.length()) : iri;
        return Holder.RAW.get(file);
    }

    /**
     * A schema {@code pattern} as JSON Schema means it (ECMA-262), run by {@code java.util.regex}. The one difference
     * that matters for the contract's patterns: in Java, {@code $} also matches before a final line break, so
     * {@code "scan\n"} would pass {@code ^[a-z]+$}; in ECMA-262 it ends the input, which is Java's {@code \z}.
     */
    static RegularExpression ecmaScriptRegex(String ecmaPattern) {
        StringBuilder java = new StringBuilder(ecmaPattern.length() + 4);
        boolean inClass = false;
        for (int i = 0; i < ecmaPattern.length(); i++) {
            char c = ecmaPattern.charAt(i);
            if (c == '\\' && i + 1 < ecmaPattern.length()) {
                java.append(c).append(ecmaPattern.charAt(++i));
                continue;
            }
            if (c == '[') {
                inClass = true;
            } else if (c == ']') {
                inClass = false;
            }
            java.append(c == '$' && !inClass ? "\\z" : String.valueOf(c));
        }
        Pattern compiled = Pattern.compile(java.toString());
        return value -> compiled.matcher(value).find();
    }

    /** Initialised on first use, so that a class that only names a file constant loads nothing. */
    private static final class Holder {

        static final Map<String, JsonNode> RAW;
        static final Map<String, JsonSchema> COMPILED;

        static {
            Map<String, String> texts = new LinkedHashMap<>();
            Map<String, JsonNode> raw = new LinkedHashMap<>();
            for (String file : FILES) {
                String text = read(file);
                texts.put(BASE_IRI + file, text);
                raw.put(file, Json.tree(text.getBytes(StandardCharsets.UTF_8)));
            }
            JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012,
                    builder -> builder.schemaLoaders(loaders -> loaders.schemas(texts)));
            SchemaValidatorsConfig config = SchemaValidatorsConfig.builder()
                    .locale(Locale.ENGLISH)
                    .regularExpressionFactory(WireSchemas::ecmaScriptRegex)
                    .build();
            Map<String, JsonSchema> compiled = new LinkedHashMap<>();
            for (String file : FILES) {
                JsonSchema schema = factory.getSchema(SchemaLocation.of(BASE_IRI + file), config);
                // Resolve every $ref now: validate() then only reads, which is what makes it thread-safe.
                schema.initializeValidators();
                compiled.put(file, schema);
            }
            RAW = Map.copyOf(raw);
            COMPILED = Map.copyOf(compiled);
        }

        private static String read(String file) {
            try (InputStream in = WireSchemas.class.getResourceAsStream(RESOURCE_DIR + file)) {
                if (in == null) {
                    throw new IllegalStateException("wire schema " + RESOURCE_DIR + file + " is not on the classpath");
                }
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read wire schema " + file, e);
            }
        }
    }
}
