package io.sluice.schemas;

import java.util.List;

/**
 * What {@link Topics#DLQ} holds for a record Sluice could not accept or process: where it came from, why,
 * and the record itself (as text, cut to a bounded length), so nothing is lost.
 *
 * @param errors one line per problem, each naming the JSON path, e.g. "workflow.nodes[2].budget.max_tokens: must be ≥ 0, got -5"
 */
public record Rejection(String sourceTopic, int partition, long offset, String runId, String kind, List<String> errors,
                        String payload, long atMs) {

    public Rejection {
        errors = errors == null ? List.of() : List.copyOf(errors);
    }
}
