package io.sluice.coordinator.ledger;

import java.util.Arrays;
import java.util.Map;

import io.sluice.schemas.Grant;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Reservation;
import io.sluice.schemas.Status;
import io.sluice.schemas.Usage;

/**
 * A leaf the ledger currently holds state for: one whose attempt is in flight, or one between two attempts
 * (backing off before a retry, or due and waiting for admission). These are the only per-leaf objects of a run
 * (besides the receipt entries of small runs): at most the workflow's {@code max_parallel} in flight, plus the
 * leaves waiting for a retry.
 *
 * <p>Spend is kept per leaf (across attempts: what the leaf's entry shows and its own limits cap) and per attempt
 * (what the attempt's worker reported, for learning grants), so that a retry reuses this object with a new attempt
 * number and a fresh grant.
 */
final class LiveLeaf {

    final LeafSpec spec;
    final int copy;
    final int ordinal;
    final String path;
    /** Attempts allowed in all: the leaf's own {@code max_attempts}, else the ledger's default. */
    final int maxAttempts;

    /** The current attempt's number, or, between attempts, the last one's. */
    int attempt;
    /** The highest usage sequence number accepted for the current attempt. */
    long lastSeq;
    /** The worker the current attempt's first event named; null before one arrived. Only its events are folded. */
    String workerId;
    /**
     * In flight: when the attempt is given up for lost without its final event, its deadline or a halt above it plus
     * the grace; Long.MAX_VALUE for never. Only ever earlier; in the entry's fold.
     */
    long abandonAtMs = Long.MAX_VALUE;
    /**
     * In flight: when the attempt's lease lapses unless its worker is heard of again; Long.MAX_VALUE while it has
     * none (its worker was never heard of, or leases are off). Not in the entry: a restored ledger grants fresh leases.
     */
    long leaseUntilMs = Long.MAX_VALUE;
    /**
     * The earliest time this leaf has an entry for in the ledger's queue of attempts to give up, or Long.MAX_VALUE:
     * one entry per leaf, moved later lazily when it comes due (a lease renewed by every event must not add one each).
     * Not persisted.
     */
    long queuedAbandonMs = Long.MAX_VALUE;
    long[] grant;
    /** What is left of the current attempt's grant per dimension ({@link Dim#UNLIMITED} where unlimited). */
    final long[] grantLeft = new long[Dim.COUNT];
    /** What the current attempt's worker reported (a lost attempt's extra charge is not in here). */
    final long[] attemptSpent = new long[Dim.COUNT];
    /** Charged to this leaf over all its attempts: reported usage plus what lost attempts were charged beyond it. */
    final long[] spent = new long[Dim.COUNT];
    boolean probe;
    long updatedAtMs;
    /** Between attempts: when the next one may be dispatched. */
    long notBeforeMs;
    /** Between attempts: how the last one ended, e.g. "attempt 1 failed (worker: boom)". */
    String lastOutcome;
    private boolean lastWasLost;
    /** Between attempts: its backoff is over; it waits in its {@link LeafSpec} for admission. */
    boolean due;
    /** What lost attempts before the current one were charged, or null: it explains the leaf's spend. */
    private String lostHistory;
    /** Usage reported beyond the grant (a worker fault), or null. */
    private String fault;

    LiveLeaf(LeafSpec spec, int copy, String path, int maxAttempts) {
        this.spec = spec;
        this.copy = copy;
        this.ordinal = spec.firstOrdinal + copy;
        this.path = path;
        this.maxAttempts = maxAttempts;
    }

    /** Starts an attempt with the given grant. */
    void startAttempt(int number, long[] newGrant, boolean isProbe, long nowMs) {
        if (lastWasLost) {
            lostHistory = lostHistory == null ? lastOutcome : lostHistory + "; " + lastOutcome;
        }
        lastOutcome = null;
        lastWasLost = false;
        due = false;
        attempt = number;
        lastSeq = 0;
        workerId = null;
        abandonAtMs = Long.MAX_VALUE;
        leaseUntilMs = Long.MAX_VALUE;
        grant = newGrant.clone();
        System.arraycopy(newGrant, 0, grantLeft, 0, Dim.COUNT);
        Arrays.fill(attemptSpent, 0);
        probe = isProbe;
        updatedAtMs = nowMs;
    }

    /** The attempt ended and another one will follow, not before {@code notBefore}. */
    void awaitRetry(String outcome, boolean lost, long notBefore, long nowMs) {
        lastOutcome = outcome;
        lastWasLost = lost;
        notBeforeMs = notBefore;
        updatedAtMs = nowMs;
    }

    /** When the attempt is given up, for a deadline, a halt or a lapsed lease, whichever comes first. */
    long giveUpAtMs() {
        return Math.min(abandonAtMs, leaseUntilMs);
    }

    Grant grantRecord() {
        return Dim.grant(grant).withWrapUpTokens(spec.leaf.wrapUpTokens());
    }

    /** The grant still outstanding, as reserved at every ancestor. */
    long[] outstanding() {
        long[] r = new long[Dim.COUNT];
        for (int i = 0; i < Dim.COUNT; i++) {
            r[i] = grantLeft[i] == Dim.UNLIMITED ? 0 : grantLeft[i];
        }
        return r;
    }

    /**
     * STRICT: what a lost attempt is charged beyond what it reported — in every limited dimension what is left of
     * its grant, which a worker capping every step to the grant may have spent unreported. Tokens are input +
     * output, so the tokens remainder is charged as input or output: limited input and output first (up to what
     * is left of their own grants and of the tokens grant), the rest of the tokens grant as the unlimited one of
     * the two. Where input, output and tokens are all limited and the tokens grant is the smaller, the charge
     * covers tokens in full and input or output only in part (no single split covers every split the worker may
     * have spent); where input and output grants add up to less than the tokens grant, the tokens beyond them
     * cannot have been spent and are refunded.
     */
    long[] lostCharge() {
        int t = Dim.TOKENS.ordinal();
        int in = Dim.INPUT.ordinal();
        int out = Dim.OUTPUT.ordinal();
        int st = Dim.STEPS.ordinal();
        boolean tokens = grantLeft[t] != Dim.UNLIMITED;
        boolean input = grantLeft[in] != Dim.UNLIMITED;
        boolean output = grantLeft[out] != Dim.UNLIMITED;
        long eIn = input ? (tokens ? Math.min(grantLeft[in], grantLeft[t]) : grantLeft[in]) : 0;
        long eOut = output ? (tokens ? Math.min(grantLeft[out], grantLeft[t] - eIn) : grantLeft[out]) : 0;
        if (tokens) {
            long rest = grantLeft[t] - eIn - eOut;
            if (!input) {
                eIn += rest;
            } else if (!output) {
                eOut += rest;
            }
        }
        long[] extra = new long[Dim.COUNT];
        extra[t] = Dim.saturatedAdd(eIn, eOut);
        extra[in] = eIn;
        extra[out] = eOut;
        extra[st] = grantLeft[st] == Dim.UNLIMITED ? 0 : grantLeft[st];
        int cost = Dim.COST.ordinal();
        extra[cost] = grantLeft[cost] == Dim.UNLIMITED ? 0 : grantLeft[cost];
        return extra;
    }

    /**
     * The reason text of a lost attempt charged {@code extra} beyond its report, e.g. "attempt 1 lost (worker
     * died): charged its whole grant 600 tokens (reported 250)".
     */
    String lostNote(long[] extra, boolean strict) {
        return lostNote(extra, strict, "worker died");
    }

    /** As {@link #lostNote(long[], boolean)}, saying why the attempt was lost. */
    String lostNote(long[] extra, boolean strict, String why) {
        StringBuilder sb = new StringBuilder("attempt ").append(attempt).append(" lost (").append(why).append("): ");
        boolean anyLimited = false;
        boolean whole = true;
        for (Dim d : Dim.ALL) {
            int i = d.ordinal();
            if (grant[i] != Dim.UNLIMITED) {
                anyLimited = true;
                whole &= Dim.saturatedAdd(attemptSpent[i], extra[i]) >= grant[i];
            }
        }
        if (!strict || !anyLimited) {
            return sb.append("charged only what it reported, ").append(amount(Dim.TOKENS, attemptSpent))
                    .append(" and ").append(amount(Dim.STEPS, attemptSpent)).append(" (")
                    .append(strict ? "its grant limits nothing" : "optimistic mode charges no grant").append(')')
                    .toString();
        }
        sb.append(whole ? "charged its whole grant " : "charged what its grant allows: ");
        String sep = "";
        for (Dim d : Dim.ALL) {
            int i = d.ordinal();
            if (grant[i] == Dim.UNLIMITED) {
                continue;
            }
            long charged = Dim.saturatedAdd(attemptSpent[i], extra[i]);
            sb.append(sep);
            if (charged < grant[i]) {
                sb.append(charged).append(" of ");
            }
            sb.append(amount(d, grant)).append(" (reported ").append(attemptSpent[i]).append(')');
            sep = ", ";
        }
        return sb.toString();
    }

    /** "600 tokens", "1 step". */
    private static String amount(Dim d, long[] amounts) {
        long n = amounts[d.ordinal()];
        return n + " " + (n == 1 && d.unit.endsWith("s") ? d.unit.substring(0, d.unit.length() - 1) : d.unit);
    }

    void noteFault(String text) {
        fault = fault == null ? text : fault + "; " + text;
    }

    /**
     * The reason of a leaf whose last attempt ended with {@code status}: "failed (worker: boom)", "succeeded after
     * 2 attempts", "failed after 3 attempts: boom", "failed: attempt 1 lost (worker died): …".
     */
    String reason(Status status, String error, String lostNote) {
        StringBuilder sb = new StringBuilder(status.wire());
        if (attempt > 1) {
            sb.append(" after ").append(attempt).append(" attempts");
        }
        if (lostNote != null) {
            sb.append(": ").append(lostNote);
        } else if (status == Status.BUDGET_EXCEEDED) {
            sb.append(": ").append(exhausted());
        }
        if (error != null && !error.isBlank()) {
            if (attempt > 1 && status == Status.FAILED && lostNote == null) {
                sb.append(": ").append(error);
            } else {
                sb.append(" (worker: ").append(error).append(')');
            }
        }
        return describe(sb.toString());
    }

    /** The reason of an attempt that ends with a retry to follow: "attempt 1 failed (worker: boom)". */
    String outcome(String what, String error) {
        String base = "attempt " + attempt + " " + what;
        return error == null || error.isBlank() ? base : base + " (worker: " + error + ")";
    }

    /** The reason shown while the leaf waits for its next attempt. */
    String waitingReason() {
        return describe(lastOutcome + "; attempt " + (attempt + 1) + " not before " + notBeforeMs);
    }

    /** {@code main}, followed by what earlier lost attempts were charged and by worker faults. */
    String describe(String main) {
        String s = lostHistory == null ? main : main + "; " + lostHistory;
        return fault == null ? s : s + "; worker fault: " + fault;
    }

    private String exhausted() {
        StringBuilder sb = new StringBuilder();
        for (Dim d : Dim.ALL) {
            int i = d.ordinal();
            if (grant[i] != Dim.UNLIMITED && attemptSpent[i] >= grant[i]) {
                sb.append(sb.length() == 0 ? "used its grant of " : ", ").append(d.field).append(' ').append(grant[i]);
            }
        }
        return sb.length() == 0 ? "stopped by its worker" : sb.toString();
    }

    /**
     * The leaf's entry: while in flight ({@code running}) with its attempt, grant, what the attempt reported and the
     * last sequence number folded; between attempts ({@code pending}) with the attempt that ended and when the next
     * may start; once terminal only what the receipt shows. What else a restoring coordinator needs is in its fold.
     */
    LedgerEntry entry(String runId, Mode mode, Status status, String reason) {
        Reservation reserved = status.isTerminal() ? Reservation.ZERO : Dim.reservation(outstanding());
        Long max = spec.leaf.budget().maxTokens();
        long over = max == null ? 0 : Math.max(0, spent[Dim.TOKENS.ordinal()] - max);
        Usage charged = Dim.usage(spent);
        Map<Status, Long> counts = Map.of(status, 1L);
        if (status == Status.RUNNING) {
            return new LedgerEntry(runId, path, "leaf", mode, status, reason, spec.leaf.budget(), reserved, charged,
                    counts, over, updatedAtMs, attempt, grantRecord(), Dim.usage(attemptSpent), lastSeq, workerId,
                    null, fold(false));
        }
        if (status == Status.PENDING) {
            return new LedgerEntry(runId, path, "leaf", mode, status, reason, spec.leaf.budget(), reserved, charged,
                    counts, over, updatedAtMs, attempt, null, null, null, notBeforeMs, fold(true));
        }
        return new LedgerEntry(runId, path, "leaf", mode, status, reason, spec.leaf.budget(), reserved, charged, counts,
                over, updatedAtMs);
    }

    /** The texts and flags its later reasons and admission depend on; null when there are none. */
    private LedgerEntry.Fold fold(boolean between) {
        String outcome = between ? lastOutcome : null;
        Boolean lost = between && lastWasLost ? Boolean.TRUE : null;
        Boolean isDue = between && due ? Boolean.TRUE : null;
        Long abandon = !between && abandonAtMs != Long.MAX_VALUE ? abandonAtMs : null;
        if (lostHistory == null && fault == null && outcome == null && lost == null && isDue == null && abandon == null) {
            return null;
        }
        return LedgerEntry.Fold.ofLeaf(lostHistory, fault, outcome, lost, isDue, abandon);
    }

    // ------------------------------------------------------------------------------------------------- restore

    /**
     * A leaf whose attempt is in flight, as its entry says.
     *
     * @param grant     the attempt's grant ({@link Dim#UNLIMITED} where unlimited)
     * @param grantLeft what is left of it, as reserved at every ancestor
     */
    static LiveLeaf inFlight(LeafSpec spec, int copy, int maxAttempts, LedgerEntry e, long[] grant, long[] grantLeft,
                             long[] attemptSpent, long[] spent) {
        LiveLeaf leaf = new LiveLeaf(spec, copy, e.path(), maxAttempts);
        leaf.attempt = e.attempt();
        leaf.lastSeq = e.lastSeq();
        leaf.workerId = e.workerId();
        if (e.fold() != null && e.fold().abandonAtMs() != null) {
            leaf.abandonAtMs = e.fold().abandonAtMs();
        }
        leaf.grant = grant;
        System.arraycopy(grantLeft, 0, leaf.grantLeft, 0, Dim.COUNT);
        System.arraycopy(attemptSpent, 0, leaf.attemptSpent, 0, Dim.COUNT);
        leaf.restoreCommon(e, spent);
        return leaf;
    }

    /** A leaf between two attempts, as its entry says; it holds no grant. */
    static LiveLeaf between(LeafSpec spec, int copy, int maxAttempts, LedgerEntry e, long[] spent) {
        LiveLeaf leaf = new LiveLeaf(spec, copy, e.path(), maxAttempts);
        leaf.attempt = e.attempt();
        leaf.notBeforeMs = e.retryAtMs();
        leaf.grant = new long[Dim.COUNT];
        LedgerEntry.Fold f = e.fold();
        if (f != null) {
            leaf.lastOutcome = f.lastOutcome();
            leaf.lastWasLost = Boolean.TRUE.equals(f.lastLost());
            leaf.due = Boolean.TRUE.equals(f.due());
        }
        leaf.restoreCommon(e, spent);
        return leaf;
    }

    private void restoreCommon(LedgerEntry e, long[] charged) {
        System.arraycopy(charged, 0, spent, 0, Dim.COUNT);
        updatedAtMs = e.updatedAtMs();
        LedgerEntry.Fold f = e.fold();
        if (f != null) {
            lostHistory = f.lostHistory();
            fault = f.fault();
        }
    }
}
