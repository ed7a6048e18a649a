package io.sluice.schemas;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/** Tokens and steps: an increment reported by a worker, or a total kept by the ledger. */
@JsonIgnoreProperties(value = "total_tokens", allowGetters = true)
public record Usage(long inputTokens, long outputTokens, long steps) {

    public static final Usage ZERO = new Usage(0, 0, 0);

    @JsonProperty("total_tokens")
    public long totalTokens() {
        return inputTokens + outputTokens;
    }

    public Usage plus(Usage o) {
        return new Usage(Math.addExact(inputTokens, o.inputTokens), Math.addExact(outputTokens, o.outputTokens),
                Math.addExact(steps, o.steps));
    }

    public Usage minus(Usage o) {
        return new Usage(inputTokens - o.inputTokens, outputTokens - o.outputTokens, steps - o.steps);
    }

    @JsonIgnore
    public boolean isZero() {
        return inputTokens == 0 && outputTokens == 0 && steps == 0;
    }
}
