package io.sluice.schemas;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * What a worker reports to {@link Topics#USAGE} while it runs an attempt: one event per step (model turn),
 * then a final one carrying the terminal status. Deduplicated by (run, path, attempt, seq).
 *
 * @param seq     per attempt, from 1, without gaps
 * @param inputTokens  input tokens of this increment (not a running total)
 * @param outputTokens output tokens of this increment
 * @param steps   steps of this increment
 * @param isFinal true on the last event of the attempt; then {@code status} is terminal
 * @param status  on a final event: succeeded, failed, budget_exceeded, cancelled or timed_out; else running
 * @param error   why a failed / cancelled / exceeded attempt ended, or null
 * @param retriable on a final failed event: false when another attempt cannot help; null means true
 * @param output  the executor's (possibly partial) output on the final event, or null
 * @param costMicrousd what this increment cost in millionths of a US dollar, as the executor priced it; 0 (and not
 *                written) when it was not priced
 */
public record UsageEvent(String runId, String path, int attempt, String workerId, long seq, long inputTokens,
                         long outputTokens, long steps, @JsonProperty("final") boolean isFinal, Status status,
                         String error, Boolean retriable, JsonNode output, long timestampMs,
                         @JsonInclude(JsonInclude.Include.NON_DEFAULT) Long costMicrousd) {

    public UsageEvent {
        costMicrousd = costMicrousd == null ? 0L : costMicrousd;
    }

    /** An increment that was not priced. */
    public UsageEvent(String runId, String path, int attempt, String workerId, long seq, long inputTokens,
                      long outputTokens, long steps, boolean isFinal, Status status, String error, Boolean retriable,
                      JsonNode output, long timestampMs) {
        this(runId, path, attempt, workerId, seq, inputTokens, outputTokens, steps, isFinal, status, error, retriable,
                output, timestampMs, 0L);
    }

    /** An event that does not say whether a failure is retriable (it is). */
    public UsageEvent(String runId, String path, int attempt, String workerId, long seq, long inputTokens,
                      long outputTokens, long steps, boolean isFinal, Status status, String error, JsonNode output,
                      long timestampMs) {
        this(runId, path, attempt, workerId, seq, inputTokens, outputTokens, steps, isFinal, status, error, null, output,
                timestampMs);
    }

    /** A final failed event that says another attempt cannot help. */
    @JsonIgnore
    public boolean isPermanentFailure() {
        return isFinal && status == Status.FAILED && Boolean.FALSE.equals(retriable);
    }

    @JsonIgnore
    public Usage usage() {
        return new Usage(inputTokens, outputTokens, steps, costMicrousd);
    }
}
