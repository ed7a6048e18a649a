package io.sluice.cli.bench;

import java.time.Duration;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import io.sluice.schemas.Json;

/**
 * The bench report as JSON: the wire format's conventions ({@link Json#mapper()}: snake_case, absent values left
 * out), durations as ISO-8601 text ("PT2S"), indented.
 */
final class BenchJson {

    private static final ObjectMapper MAPPER = Json.mapper().copy()
            .registerModule(new SimpleModule("bench-durations").addSerializer(Duration.class, ToStringSerializer.instance))
            .enable(SerializationFeature.INDENT_OUTPUT);

    private BenchJson() {
    }

    static String write(BenchReport report) {
        try {
            return MAPPER.writeValueAsString(report);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode the bench report: " + e.getMessage(), e);
        }
    }
}
