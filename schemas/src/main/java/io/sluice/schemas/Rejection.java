package io.sluice.schemas;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * What {@link Topics#DLQ} holds for a record Sluice could not accept or process: where it came from (topic,
 * partition, offset, key), why, and the record itself (as text, cut to a bounded length), so nothing is lost.
 *
 * @param key    the record's key as text, or null
 * @param errors one line per problem, each naming the JSON path, e.g. "workflow.nodes[2].budget.max_tokens: must be ≥ 0, got -5"
 */
public record Rejection(String sourceTopic, int partition, long offset, String key, String runId, String kind,
                        List<String> errors, String payload, long atMs) {

    /** How much of a record's value a rejection keeps, in characters. */
    public static final int MAX_PAYLOAD_CHARS = 4096;
    /** How much of a record's key a rejection keeps, in characters. */
    public static final int MAX_KEY_CHARS = 4096;

    public Rejection {
        errors = errors == null ? List.of() : List.copyOf(errors);
    }

    /** A rejection without a source key. */
    public Rejection(String sourceTopic, int partition, long offset, String runId, String kind, List<String> errors,
                     String payload, long atMs) {
        this(sourceTopic, partition, offset, null, runId, kind, errors, payload, atMs);
    }

    /**
     * The rejection of a record read from a topic: its coordinates, its key and value as text (cut to
     * {@link #MAX_KEY_CHARS} and {@link #MAX_PAYLOAD_CHARS}, the cut noted with the full size).
     */
    public static Rejection of(ConsumerRecord<?, byte[]> record, String runId, String kind, List<String> errors, long atMs) {
        Object key = record.key();
        String keyText = key == null ? null : key instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : key.toString();
        return new Rejection(record.topic(), record.partition(), record.offset(), cut(keyText, MAX_KEY_CHARS, -1), runId,
                kind, errors, payload(record.value()), atMs);
    }

    /** A record value as a rejection keeps it: text cut to {@link #MAX_PAYLOAD_CHARS}; null for a tombstone. */
    public static String payload(byte[] value) {
        return value == null ? null : cut(new String(value, StandardCharsets.UTF_8), MAX_PAYLOAD_CHARS, value.length);
    }

    private static String cut(String text, int max, int bytes) {
        if (text == null || text.length() <= max) {
            return text;
        }
        int end = Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : max;
        return text.substring(0, end) + "…" + (bytes >= 0 ? "(" + bytes + " bytes)" : "");
    }
}
