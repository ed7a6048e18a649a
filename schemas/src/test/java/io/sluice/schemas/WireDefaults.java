package io.sluice.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What the records write for a submission's absent optional fields: {@code mode} strict, {@code budget} {},
 * {@code nodes} [], a leaf's {@code input} null. A submission written by hand may leave them out; its round trip
 * through the records is compared after filling them in. The schema declares the same values as {@code default}s
 * (checked by {@link WireContractExamplesTest}).
 */
final class WireDefaults {

    private WireDefaults() {
    }

    /** A copy of {@code submission} with the defaults filled in. */
    static JsonNode fillSubmission(JsonNode submission) {
        ObjectNode copy = submission.deepCopy();
        if (!copy.has("mode")) {
            copy.put("mode", "strict");
        }
        fillNode((ObjectNode) copy.get("workflow"), "workflow");
        return copy;
    }

    private static void fillNode(ObjectNode node, String kind) {
        if (!node.has("budget")) {
            node.putObject("budget");
        }
        if ("leaf".equals(kind)) {
            if (!node.has("input")) {
                node.putNull("input");
            }
            return;
        }
        if (!node.has("nodes")) {
            node.putArray("nodes");
        }
        for (JsonNode child : node.get("nodes")) {
            fillNode((ObjectNode) child, child.get("kind").asText());
        }
    }
}
