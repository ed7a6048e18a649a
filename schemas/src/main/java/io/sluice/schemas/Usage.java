package io.sluice.schemas;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Tokens, steps and cost: an increment reported by a worker, or a total kept by the ledger.
 *
 * @param costMicrousd what it cost in millionths of a US dollar, as the executor priced it; 0 (and not written) where
 *                     nothing was priced
 */
@JsonIgnoreProperties(value = "total_tokens", allowGetters = true)
public record Usage(long inputTokens, long outputTokens, long steps,
                    @JsonInclude(JsonInclude.Include.NON_DEFAULT) Long costMicrousd) {

    public Usage {
        costMicrousd = costMicrousd == null ? 0L : costMicrousd;
    }

    public static final Usage ZERO = new Usage(0, 0, 0, 0L);

    /** Usage that was not priced. */
    public Usage(long inputTokens, long outputTokens, long steps) {
        this(inputTokens, outputTokens, steps, 0L);
    }

    @JsonProperty("total_tokens")
    public long totalTokens() {
        return inputTokens + outputTokens;
    }

    public Usage plus(Usage o) {
        return new Usage(Math.addExact(inputTokens, o.inputTokens), Math.addExact(outputTokens, o.outputTokens),
                Math.addExact(steps, o.steps), Math.addExact(costMicrousd, o.costMicrousd));
    }

    public Usage minus(Usage o) {
        return new Usage(inputTokens - o.inputTokens, outputTokens - o.outputTokens, steps - o.steps,
                costMicrousd - o.costMicrousd);
    }

    @JsonIgnore
    public boolean isZero() {
        return inputTokens == 0 && outputTokens == 0 && steps == 0 && costMicrousd == 0;
    }
}
