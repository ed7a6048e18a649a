package io.sluice.client;

/**
 * What became of a cancel request ({@link SluiceClient#cancel}).
 *
 * @param verdict what the run's coordinator did
 * @param detail  the halt's reason ("w/b: cancelled by alice@ops-1: not needed"), the refusal's ("path: w/x is no
 *                workflow or branch of run …"), or why there is no answer
 * @param where   where the request was written: {@code sluice.cancellations-P@O}
 */
public record CancelOutcome(Verdict verdict, String detail, String where) {

    public enum Verdict {
        /** The node is halted: its leaves are stopping; the run's receipt follows when they have. */
        CANCELLED,
        /** The coordinator dead-letters the request: {@link #detail} says why. */
        REFUSED,
        /** Neither within the timeout: no coordinator owns the run's partition now, or it is far behind. */
        NO_ANSWER
    }
}
