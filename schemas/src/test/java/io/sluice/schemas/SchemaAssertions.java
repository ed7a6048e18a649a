package io.sluice.schemas;

import java.util.List;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;

/** Validates a tree against one of the contract's schema files, in the house error format. */
final class SchemaAssertions {

    private SchemaAssertions() {
    }

    static List<String> errors(String schemaFile, JsonNode tree) {
        return WireSchemas.schema(schemaFile).validate(tree).stream()
                .map(SchemaErrors::translate)
                .map(Problem::render)
                .sorted()
                .collect(Collectors.toList());
    }
}
