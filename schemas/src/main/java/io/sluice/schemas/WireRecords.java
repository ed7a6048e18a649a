package io.sluice.schemas;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.ValidationMessage;

/**
 * Decodes a record read from a Sluice topic defensively: a record is used only when it is exactly what its JSON
 * Schema file says (the contract's source of truth), so that what reaches a fold or a worker never holds a
 * {@code null} where a value is required, a negative or absurd count, or a status its place forbids.
 *
 * <p>Every failure is a {@link WireFormatException} whose message names the problem precisely — "record has no
 * value (a tombstone)", "payload: must be an object, got null", "input_tokens: must be ≤ 1000000000000000, got
 * 9223372036854775807" — ready for a dead-letter record. Submissions are checked by {@link SubmissionValidator},
 * which adds the size and tree rules.
 *
 * <p>Thread-safe: the compiled schemas are immutable.
 */
public final class WireRecords {

    /** How many problems a message lists; the rest are counted. */
    private static final int MAX_PROBLEMS = 5;

    private static final Map<Class<?>, String> SCHEMAS = Map.of(
            UsageEvent.class, WireSchemas.USAGE_EVENT,
            LeafTask.class, WireSchemas.LEAF_TASK,
            LedgerEntry.class, WireSchemas.LEDGER_ENTRY,
            Halt.class, WireSchemas.HALT,
            Receipt.class, WireSchemas.RECEIPT,
            Rejection.class, WireSchemas.REJECTION,
            RunRecord.class, WireSchemas.RUN_RECORD,
            Heartbeat.class, WireSchemas.HEARTBEAT,
            CancelRequest.class, WireSchemas.CANCEL_REQUEST);

    private WireRecords() {
    }

    /**
     * The record the bytes hold.
     *
     * @param value a record's value as read from Kafka; null for a tombstone
     * @throws WireFormatException when the value is null, not JSON, or not valid against the type's schema
     * @throws IllegalArgumentException when {@code type} is not a record of the wire contract
     */
    public static <T> T decode(byte[] value, Class<T> type) {
        String file = SCHEMAS.get(type);
        if (file == null) {
            throw new IllegalArgumentException(type.getSimpleName() + " is not a record of the wire contract");
        }
        if (value == null) {
            throw new WireFormatException("record has no value (a tombstone), expected a " + type.getSimpleName());
        }
        if (value.length == 0) {
            throw new WireFormatException("record value is empty, expected a " + type.getSimpleName());
        }
        JsonNode tree;
        try {
            tree = Json.mapper().readTree(value);
        } catch (IOException e) {
            throw WireFormatException.from(type, e);
        }
        if (tree == null || tree.isMissingNode()) {
            throw new WireFormatException("record value holds no JSON, expected a " + type.getSimpleName());
        }
        List<String> problems = new ArrayList<>();
        for (ValidationMessage m : WireSchemas.schema(file).validate(tree)) {
            problems.add(SchemaErrors.translate(m).render());
        }
        if (!problems.isEmpty()) {
            throw new WireFormatException("not a valid " + type.getSimpleName() + ": " + summary(problems));
        }
        return Json.convert(tree, type);
    }

    private static String summary(List<String> problems) {
        List<String> sorted = problems.stream().distinct().sorted().toList();
        if (sorted.size() <= MAX_PROBLEMS) {
            return String.join("; ", sorted);
        }
        return String.join("; ", sorted.subList(0, MAX_PROBLEMS)) + "; and " + (sorted.size() - MAX_PROBLEMS) + " more";
    }
}
