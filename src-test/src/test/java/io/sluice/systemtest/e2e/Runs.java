package io.sluice.systemtest.e2e;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Submission;
import io.sluice.schemas.SubmissionValidator;
import io.sluice.schemas.Usage;
import io.sluice.schemas.UsageEvent;

/** Helpers for end-to-end tests: submissions written as JSON, and facts read off receipts and usage. */
final class Runs {

    private static final SubmissionValidator VALIDATOR = new SubmissionValidator();

    private Runs() {
    }

    /** Parses (and so validates) a submission written as JSON; {@code RUN} in it is replaced by the run id. */
    static Submission submission(String runId, String json) {
        return VALIDATOR.parse(json.replace("RUN", runId).getBytes(StandardCharsets.UTF_8));
    }

    /** A simulated leaf: {@code turns} as [input, output, latency] triples. */
    static String leaf(String id, String budget, long[]... turns) {
        StringBuilder sb = new StringBuilder("{\"kind\":\"leaf\",\"id\":\"").append(id).append("\",\"executor\":\"simulated\"");
        if (budget != null) {
            sb.append(",\"budget\":").append(budget);
        }
        sb.append(",\"input\":{\"turns\":[");
        for (int i = 0; i < turns.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append("{\"input_tokens\":").append(turns[i][0]).append(",\"output_tokens\":").append(turns[i][1])
                    .append(",\"latency_ms\":").append(turns[i].length > 2 ? turns[i][2] : 5).append('}');
        }
        return sb.append("]}}").toString();
    }

    static long[] turn(long in, long out, long latencyMs) {
        return new long[] {in, out, latencyMs};
    }

    static LedgerEntry node(Receipt receipt, String path) {
        return receipt.nodes().stream().filter(e -> e.path().equals(path)).findFirst()
                .orElseThrow(() -> new AssertionError("no node " + path + " in receipt " + receipt.nodes().stream().map(LedgerEntry::path).toList()));
    }

    /** Usage per leaf path, summed over attempts and steps, duplicates (same attempt and seq) counted once. */
    static Map<String, Usage> usageByLeaf(Collection<UsageEvent> events) {
        Set<String> seen = new HashSet<>();
        Map<String, Usage> byLeaf = new TreeMap<>();
        for (UsageEvent e : events) {
            if (seen.add(e.path() + "#" + e.attempt() + "#" + e.seq())) {
                byLeaf.merge(e.path(), e.usage(), Usage::plus);
            }
        }
        return byLeaf;
    }

    static Usage total(Collection<UsageEvent> events) {
        return usageByLeaf(events).values().stream().reduce(Usage.ZERO, Usage::plus);
    }

    /** Leaf paths that took at least one step (were really executed). */
    static Set<String> executedLeaves(Collection<UsageEvent> events) {
        return events.stream().filter(e -> !e.isFinal()).map(UsageEvent::path).collect(Collectors.toSet());
    }
}
