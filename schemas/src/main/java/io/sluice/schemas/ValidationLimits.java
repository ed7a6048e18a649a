package io.sluice.schemas;

/**
 * The size limits {@link SubmissionValidator} enforces on top of the JSON Schema, validated here once.
 *
 * @param maxPayloadBytes largest submission accepted, in bytes of JSON; checked before anything is parsed.
 *                        At most {@link Topics#MAX_MESSAGE_BYTES}, the largest record the topics accept
 * @param maxDepth        deepest node accepted: the workflow's children are at depth 1. At most
 *                        {@value #MAX_DEPTH_CEILING}, which keeps the JSON within the parser's nesting limit
 * @param maxNodes        most branches and leaves a submission may declare (a repeated leaf counts once)
 * @param maxLeaves       most leaves a submission may stand for, every copy of a repeated leaf counted
 */
public record ValidationLimits(int maxPayloadBytes, int maxDepth, int maxNodes, int maxLeaves) {

    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
    public static final int DEFAULT_MAX_DEPTH = 16;
    public static final int DEFAULT_MAX_NODES = 100_000;
    public static final int DEFAULT_MAX_LEAVES = 1_000_000;

    /** Each node level nests two JSON levels (object, array); the parser refuses more than 200. */
    static final int MAX_DEPTH_CEILING = 64;

    public static final ValidationLimits DEFAULTS = new ValidationLimits(DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_MAX_DEPTH,
            DEFAULT_MAX_NODES, DEFAULT_MAX_LEAVES);

    public ValidationLimits {
        if (maxPayloadBytes < 1 || maxPayloadBytes > Topics.MAX_MESSAGE_BYTES) {
            throw new IllegalArgumentException("maxPayloadBytes must be between 1 and " + Topics.MAX_MESSAGE_BYTES
                    + ", got " + maxPayloadBytes);
        }
        if (maxDepth < 1 || maxDepth > MAX_DEPTH_CEILING) {
            throw new IllegalArgumentException("maxDepth must be between 1 and " + MAX_DEPTH_CEILING + ", got " + maxDepth);
        }
        if (maxNodes < 1) {
            throw new IllegalArgumentException("maxNodes must be at least 1, got " + maxNodes);
        }
        if (maxLeaves < 1) {
            throw new IllegalArgumentException("maxLeaves must be at least 1, got " + maxLeaves);
        }
    }
}
