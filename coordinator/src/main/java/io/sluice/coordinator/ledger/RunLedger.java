package io.sluice.coordinator.ledger;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.PriorityQueue;

import io.sluice.schemas.Halt;
import io.sluice.schemas.Heartbeat;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Reservation;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.Usage;
import io.sluice.schemas.UsageEvent;

/**
 * The budget engine of one run: the single place where Sluice's budget rules live. A deterministic state machine
 * — no I/O, no clock, no randomness, no threads; time comes in as an argument — that turns a submission and the
 * usage its workers report into leaf tasks to dispatch, halts, ledger entries and, at the end, a receipt. The same
 * inputs always give the same outputs.
 *
 * <h2>Accounting</h2>
 * Dimensions: tokens (input + output), input tokens, output tokens, steps. For every workflow/branch node N and
 * dimension d: the limit L (N's own budget; none when null), the spend S of all leaves below N, and the
 * reservation R — the sum of what is left of the grants of attempts in flight below N. A leaf's own budget limits
 * the leaf across its attempts (a retry's grant there is what earlier attempts left of it). Usage is folded per
 * event: S += u along the leaf's path; R -= the part of u its grant covered. S counts every attempt of every leaf,
 * retried or not. A final event refunds what is left of the grant (R -= remaining) and frees the attempt's
 * {@code max_parallel} slot; a refund may admit waiting leaves in the same call.
 *
 * <h2>STRICT (default): zero overshoot</h2>
 * Invariant, for every node and limited dimension, at all times: <b>S + R ≤ L</b>. A leaf attempt is dispatched
 * only with a grant g such that S + R + g ≤ L at every ancestor; workers cap every step to what is left of the
 * grant. Usage beyond the grant is a worker fault: it is charged anyway (spend is truth), stated in the leaf's
 * reason, and shows as overshoot.
 * <p><b>Grant policy</b> (per limited dimension; dimensions nobody on the path limits get no limit):
 * <ol>
 *   <li>desired grant: the leaf's own limit; for tokens, else the nearest {@code leaf_max_tokens} (leaf's branch up to
 *   the workflow); else an estimate learned from finished attempts of leaves under the same parent —
 *   {@code ceil(max observed × estimateMargin)}, at least 1, and at least twice any grant an attempt used up before
 *   ending budget_exceeded. Only attempts that ran to their own end (succeeded, failed, budget_exceeded) make an
 *   estimate known; what cancelled or timed-out ones spent still counts as observed. With no estimate yet the leaf
 *   is a <i>probe</i>: it gets all the headroom on its path, and the leaves of the same parent needing an estimate
 *   wait for its result;</li>
 *   <li>if the desired grant (at least 1) fits every node on the path → dispatch;</li>
 *   <li>else, if some node where it does not fit has attempts in flight below it → wait (a refund may come): waiting
 *   beats a grant too small to be useful. The highest such node pauses: nothing else below it is dispatched ahead
 *   of the waiting leaf (document order), until an attempt below it finishes;</li>
 *   <li>else (every blocking node idle) → last chance: if every blocking node has at least
 *   {@code max(1, ceil(desired × minUsefulFraction))} left, dispatch with what is left (the worker truncates to
 *   it, so nothing overshoots);</li>
 *   <li>otherwise the leaf ends budget_exceeded without spending ("not admitted: grant 750 &gt; remaining 400 at
 *   audit (max_tokens)") and the deepest such node halts (see below); an exhausted node above it halts when one of
 *   its own leaves is refused there. An idle node short even for a last chance can never get a refund (nothing
 *   below it runs, and the waiting leaf keeps everything below it waiting), so this is decided at once, even while
 *   a node above is busy.</li>
 * </ol>
 * A leaf refused by its own limit (e.g. {@code max_tokens: 0}) ends budget_exceeded and halts nothing; an attempt
 * that ends budget_exceeded because it used up its grant halts nothing either.
 *
 * <h2>OPTIMISTIC: the seed system's behaviour</h2>
 * Grants carry only the leaf's own limits (or {@code leaf_max_tokens}). Leaves are dispatched while S &lt; L at every
 * ancestor; the usage that makes S ≥ L at a node halts that node (its in-flight attempts are told to stop and are
 * still charged for what they report). Every node reports {@code overshoot = max(0, S − L)} tokens.
 *
 * <h2>Lost attempts</h2>
 * A final event with status {@code lost} says that a worker received a redelivered attempt whose first delivery
 * never finished (its worker died) and did not run it again. It is taken whatever its sequence number (it comes
 * from another worker), once: the attempt is no longer in flight after it. What the dead delivery spent is
 * unknown, so <b>STRICT charges the attempt its whole grant</b>: in every limited dimension S += (grant − usage
 * the attempt reported) and R -= the same; nothing is refunded ("attempt 1 lost (worker died): charged its whole
 * grant 600 tokens (reported 250)"). Tokens are input + output, so the unreported tokens are charged as limited
 * input/output first, the rest as the unlimited one of the two (see {@link LiveLeaf#lostCharge}). Since the worker
 * capped every step to the grant, what was charged covers what was spent, and S + R ≤ L still holds. OPTIMISTIC
 * mode, and dimensions its grant leaves unlimited, charge only what was reported, and the reason says so. Usage
 * events of the lost attempt arriving later (its worker was only slow) are ignored as duplicates: they are within
 * the grant already charged. What a lost attempt reported is learned as a lower bound, like a cancelled one's.
 *
 * <h2>Abandoned attempts: deadlines end a run whatever usage arrives</h2>
 * An attempt in flight whose final event has not come {@link LedgerConfig#abandonGrace()} after its task's deadline, or
 * after the halt of a node above it, is given up: it ends exactly as a lost notice would end it (strict mode charges
 * its whole grant; it is retried if its parent is open and attempts are left, else ends with its halt's status or
 * {@code failed}), with the reason "no final event from worker w within 30000 ms of its deadline or halt". Its
 * events arriving later are ignored as late. So a run whose worker vanished, or whose events were forged or lost,
 * still ends once a deadline on its path passes. The time is kept per attempt ({@code fold.abandon_at_ms} of its
 * entry) and is part of {@link #nextDeadlineMs()}.
 *
 * <h2>Retries</h2>
 * An attempt that ends {@code failed} or {@code lost} is tried again while the leaf has had fewer than its
 * {@code max_attempts} attempts ({@link LedgerConfig#maxAttempts()} when absent); so is one its worker reports
 * {@code cancelled} with no halt above it — its worker shut down: that is not the leaf's failure, but it counts as
 * an attempt. {@code budget_exceeded}, {@code timed_out} and halt-caused {@code cancelled} attempts are never
 * retried, nor is anything below a halted node. A leaf to be retried goes back to pending, holding neither a
 * {@code max_parallel} slot nor a reservation (its grant was settled), and waits here, not on Kafka, for
 * {@code min(maxBackoff, baseBackoff × 2^(n−1)) × (0.5 + 0.5u)} after attempt n ended, where u ∈ [0, 1) is a hash
 * of (run, path, n) — deterministic, see {@link RetryBackoff}. Once due (checked at the start of every call; its
 * time is part of {@link #nextDeadlineMs()}), attempt n + 1 goes through the normal admission above, in document
 * order ahead of the copies never dispatched: a fresh grant only if every ancestor still covers it, else wait, last
 * chance, or budget_exceeded and halt ("attempt 2 not admitted: grant 750 &gt; remaining 400 at audit (max_tokens);
 * attempt 1 failed (worker: boom)"). A leaf out of attempts ends with its last attempt's status — {@code failed}
 * for a lost one — and a reason naming the count ("failed after 3 attempts: boom"); a leaf that needed more than
 * one attempt says so in every final reason ("succeeded after 2 attempts"), and lost attempts' charges stay in it.
 *
 * <h2>Halts, deadlines, parallelism</h2>
 * A halting node ends budget_exceeded (or timed_out) with its own reason ("audit/scan: max_tokens 600 exhausted
 * (spent 560, remaining 40)"); all its not-yet-dispatched leaves end cancelled ("halted: audit/scan max_tokens
 * exhausted") — counted, never materialised; leaves below it waiting for a retry end cancelled too, with the
 * halt's reason and their last attempt's outcome; a {@link Halt} is emitted for its path (status cancelled, or
 * timed_out for a deadline), and nothing more below it is dispatched. An attempt below it reported lost ends
 * with the halt's status, as its worker would have. The rest of the tree goes on. A workflow or
 * branch {@code timeout_ms} counts from the run's start ({@link #create}'s time); deadlines are applied at the
 * start of every call. A leaf's {@code timeout_ms} is per attempt: a task's deadline is the earliest of dispatch +
 * leaf timeout and every ancestor's deadline; the worker enforces it. At every node the attempts in flight below
 * it never exceed its {@code max_parallel} — for a workflow without one, {@link LedgerConfig#runMaxParallel()};
 * waiting leaves stay here, not on Kafka. One call dispatches at most {@link LedgerConfig#maxDispatchPerCall()}
 * attempts; when that limit cuts a dispatch short, {@link #nextDeadlineMs()} is due at once and the next call of any
 * kind goes on with it first. {@link #nextDeadlineMs()} covers that, workflow/branch deadlines and due retries: workers
 * enforce the deadlines of their tasks.
 *
 * <h2>Statuses</h2>
 * Leaves: pending → running → the final event's status (a leaf to be retried goes back to pending in between;
 * {@code lost} is never a leaf's status). A node ends, exactly once, when every leaf below it has:
 * with its own halt status if it halted, else the worst of its children's ({@link Status#worse}); a node without
 * leaves succeeds at {@link #begin}. The run ends with the workflow; that call's {@link Decisions} carry the
 * receipt.
 *
 * <h2>Usage screening</h2>
 * Before anything is folded, an event is screened. It is <b>refused</b> — not folded, counted in
 * {@link #rejectedEvents()}, its reason in the call's {@link Decisions#rejection()} for the caller to dead-letter —
 * when its path is no leaf of the run; its attempt was never dispatched; an amount is negative, or would take the
 * run's spent input tokens, output tokens or steps beyond {@link #MAX_AMOUNT} (so no sum ever overflows); a final
 * event's status is not terminal, or a step event's not {@code running}; a lost notice has a seq other than 0 or
 * usage of its own; it names another worker than the one whose first event started the attempt (the attempt is
 * bound to that worker; before its first event, a heartbeat's announcement binds it only until another worker's
 * announcement or first event, see {@link #onHeartbeat}); its seq is 0, or skips ahead of the attempt's next one (a
 * worker numbers an attempt's events 1, 2, 3… and writes them in order to one partition, so a gap is a forgery: folding
 * {@code seq: 1000} would make every genuine later event a duplicate and the run never end). It is <b>ignored</b> as a
 * duplicate (counted in {@link #duplicatesIgnored()}) when its attempt is no longer in flight (it ended, was lost, or
 * the leaf ended) or, unless it is a lost notice, its seq was folded before.
 *
 * <h2>Recovery</h2>
 * Each call's {@link Decisions#entries} carry, once per call, the entry of every node whose state changed in it: of
 * each workflow/branch, and of each leaf dispatched ({@code running}: its attempt, grant, what the attempt reported,
 * the last sequence number folded), charged, scheduled for a retry ({@code pending}: the attempt that ended, when
 * the next may start), due for it, or ended. What the other fields do not show of a node not terminal yet is in its
 * {@code fold}: a workflow/branch's learned estimates (attempts learned from, largest spend of one attempt, floor),
 * worst child so far and that child's reason, the limit it halted for, whether it is paused, and whether its parent
 * passes it over until something below it finishes ({@code blocked}); a leaf's lost-attempt history, worker faults,
 * last outcome and whether its retry is due. In runs of more than {@code receiptLeafLimit} leaves, leaves cancelled
 * before they were ever dispatched have no entry: the halted node's status implies them. Ledger entries and consumed
 * offsets are committed in one transaction, so the latest entry per path describes the run exactly as of the last
 * committed input, and {@link #restore} rebuilds it from them:
 * <ul>
 *   <li>every workflow/branch from its entry — spend, reservations, leaf counts (in flight: the running count, for
 *   {@code max_parallel}), status, reason and fold; one that halted closes its subtree, whose nodes take the deepest
 *   halt's reason; deadlines count from the run's start as given;</li>
 *   <li>a leaf whose latest entry is {@code running} is in flight with its attempt, grant, what is left of it (its
 *   reservation, reserved again at every ancestor), what it reported and its last sequence number, so that the same
 *   events pass screening as would have; a {@code pending} one waits for its retry time, or, due, for admission; a
 *   terminal one is kept only for the receipt of a small run;</li>
 *   <li>a leaf without an entry was never dispatched: a leaf definition's copies with entries come first, in document
 *   order, and its cursor follows the last of them; below a halted or ended node the rest were cancelled;</li>
 *   <li>in strict mode, under a node where nothing is learned yet, its leaf in flight that needs an estimate is the
 *   probe;</li>
 *   <li>a branch's runnable bit in its parent is its entry's {@code blocked}; a leaf definition's is whether it has
 *   copies or due retries to admit.</li>
 * </ul>
 * Entries are checked against the submission and each other: entries of another run or mode, of unknown paths, of a
 * kind or status the node cannot have; a workflow/branch without an entry; a running leaf's entry without its
 * attempt state or with more reserved than granted; running or pending counts, or reservations, that the leaf entries
 * below a node do not make; copies with entries out of document order — each throws
 * {@link IllegalArgumentException} naming them. The restored ledger is begun. Its first call, whatever it is (the
 * coordinator ticks it at once), settles nodes left unsettled, hands out the receipt of a run restored terminal, and
 * dispatches what the state admits: with entries this class published, nothing, as every call ends with all that
 * was admissible dispatched; restored from no entries at all, what {@link #begin} does. From then on it decides
 * exactly as the ledger that published the entries does on the same inputs; only {@link #duplicatesIgnored()}
 * counts afresh.
 *
 * <h2>Memory and cost</h2>
 * Tree expansion is lazy: per workflow/branch a fixed set of counters and a cursor per leaf definition; per leaf in
 * flight or waiting for a retry one object; nothing per finished leaf except, in runs of at most
 * {@code receiptLeafLimit} leaves, its ledger entry for the receipt. Dispatch follows depth-first document order;
 * a dispatch costs O(depth) amortised, a retry O(log retries waiting) more. Restoring costs O(entries + nodes +
 * depth × leaves in flight) and keeps nothing more.
 *
 * <p>Not thread-safe: one thread (the coordinator's loop for the run's partition) owns a ledger.
 */
public final class RunLedger {

    /** The contract's largest count (10^15): no event amount exceeds it, nor does any sum the ledger keeps. */
    public static final long MAX_AMOUNT = 1_000_000_000_000_000L;
    /** The seq of a lost notice: outside the 1, 2, 3… of the attempt's own events. */
    static final long LOST_SEQ = 0;

    private final String runId;
    private final Mode mode;
    private final LedgerConfig config;
    private final long startedAtMs;
    private final RunTree tree;
    private final GroupNode root;
    /** Attempts in flight, by leaf path. Iterated only to be sorted, so its order does not matter. */
    private final Map<String, LiveLeaf> inFlight = new HashMap<>();
    /** Leaves between two attempts (backing off, or due and waiting for admission), by path; only looked up. */
    private final Map<String, LiveLeaf> betweenAttempts = new HashMap<>();
    /** Retries not due yet, earliest first (ties in document order); due ones move to their {@link LeafSpec}. */
    private final PriorityQueue<LiveLeaf> backingOff = new PriorityQueue<>(
            Comparator.comparingLong((LiveLeaf l) -> l.notBeforeMs).thenComparingInt(l -> l.ordinal));
    /**
     * Attempts in flight by when they are given up for lost, earliest first (ties in document order); an entry whose
     * leaf is no longer in flight, or has another time since, is stale and skipped.
     */
    /** When {@link #extendLeases} last renewed the leases; Long.MIN_VALUE before. */
    private long leasesExtendedAtMs = Long.MIN_VALUE;
    private final PriorityQueue<Abandon> abandoning = new PriorityQueue<>(
            Comparator.comparingLong(Abandon::atMs).thenComparingInt(a -> a.leaf().ordinal));

    private record Abandon(LiveLeaf leaf, long atMs) {
    }

    /** One entry per finished leaf, by ordinal; only in runs of at most receiptLeafLimit leaves, else null. */
    private final LedgerEntry[] leafEntries;
    private final Outbox out = new Outbox();

    private boolean begun;
    /** The last call stopped dispatching at its limit with more admissible: the next call goes on first. */
    private boolean dispatchPending;
    /** While a {@code share: even} node gives one child its turn: the dispatches after which the pump stops. */
    private int quotaEnd = Integer.MAX_VALUE;
    /** Admissions decided (dispatches and refusals), to tell a child's turn that did something from one that did not. */
    private long admissions;
    /** Restored and not called since: the first call settles and dispatches what the restored state allows. */
    private boolean resuming;
    /** Restored from no entries at all: the first call does what {@link #begin} does. */
    private boolean resumingFresh;
    private long lastNowMs;
    private long finishedAtMs;
    private int deadlineCursor;
    private long duplicatesIgnored;
    private long rejectedEvents;
    private Receipt finalReceipt;

    private RunLedger(Submission submission, LedgerConfig config, long nowMs) {
        this.runId = Objects.requireNonNull(submission.runId(), "submission.runId");
        this.mode = submission.mode();
        this.config = config;
        this.startedAtMs = nowMs;
        this.lastNowMs = nowMs;
        this.tree = RunTree.build(Objects.requireNonNull(submission.workflow(), "submission.workflow"), nowMs,
                config.runMaxParallel());
        this.root = tree.root;
        this.leafEntries = tree.totalLeaves <= config.receiptLeafLimit() ? new LedgerEntry[tree.totalLeaves] : null;
    }

    /** A ledger for a validated submission; nothing is dispatched before {@link #begin}. */
    public static RunLedger create(Submission submission, LedgerConfig config, long nowMs) {
        Objects.requireNonNull(submission, "submission");
        Objects.requireNonNull(config, "config");
        return new RunLedger(submission, config, nowMs);
    }

    /**
     * The ledger of a run taken over from another coordinator, as the latest of the given ledger entries describe it
     * (an entry replaces an earlier one of the same path, as on the compacted ledger topic). It is begun: its first
     * call of any kind — the coordinator ticks it at once — settles what the entries leave unsettled and
     * dispatches what the restored state admits; given no entries at all, that call does what {@link #begin} does.
     * Given the entries published up to some call of another ledger of the same run, it then decides exactly as
     * that ledger does on the same inputs. The rules are in the class Javadoc, under Recovery.
     *
     * @param startedAtMs when the run started ({@link #create}'s time): workflow and branch deadlines count from it
     * @throws IllegalArgumentException naming the entries, when some are of another run or mode, of paths the run
     *                                  does not have, or disagree with each other or with the submission
     */
    public static RunLedger restore(Submission submission, long startedAtMs, Collection<LedgerEntry> entries,
                                    LedgerConfig config) {
        Objects.requireNonNull(submission, "submission");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(entries, "entries");
        RunLedger ledger = new RunLedger(submission, config, startedAtMs);
        ledger.begun = true;
        ledger.resuming = true;
        ledger.resumingFresh = entries.isEmpty();
        if (!entries.isEmpty()) {
            new LedgerRestore(ledger).restore(entries);
        }
        return ledger;
    }

    /** Starts the run: the first wave of tasks and an entry for the workflow and every branch. */
    public Decisions begin(long nowMs) {
        if (begun) {
            throw new IllegalStateException("run " + runId + " has already begun");
        }
        begun = true;
        lastNowMs = nowMs;
        for (GroupNode g : tree.groups) {
            out.changed(g, nowMs);
        }
        for (int i = tree.groups.size() - 1; i >= 0; i--) {
            settle(tree.groups.get(i), nowMs); // nodes without leaves succeed now
        }
        expireDeadlines(nowMs);
        pump(nowMs);
        return drain(nowMs);
    }

    /**
     * Folds one usage event of a worker — or refuses it, unfolded, with the reason in {@link Decisions#rejection()}
     * (see Usage screening in the class Javadoc).
     */
    public Decisions onUsage(UsageEvent event, long nowMs) {
        Objects.requireNonNull(event, "event");
        requireBegun();
        if (!runId.equals(event.runId())) {
            throw new IllegalArgumentException("usage of run " + event.runId() + " given to the ledger of run " + runId);
        }
        LiveLeaf leaf = inFlight.get(event.path());
        // A restored ledger's attempts in flight are those of its entries, with the last seq and the worker folded:
        // the same events pass screening as would have.
        Screening screening = screen(leaf, event);
        enter(nowMs); // (after screening: what a restored ledger's first call dispatches has no usage yet)
        if (screening != Screening.FOLD) {
            if (screening == Screening.DUPLICATE) {
                duplicatesIgnored++;
            } else {
                rejectedEvents++;
            }
            if (dispatchPending) {
                pump(nowMs);
            }
            // Nothing, unless deadlines passed, the last call's dispatch limit left leaves, or this is a restored
            // ledger's first call.
            Decisions d = drain(nowMs);
            return screening.reason == null ? d : d.withRejection(screening.reason);
        }
        if (inFlight.get(leaf.path) != leaf) {
            // Given up as this call began (its deadline, a halt or its lease): the event is late.
            duplicatesIgnored++;
            if (dispatchPending) {
                pump(nowMs);
            }
            return drain(nowMs);
        }
        boolean lostNotice = event.isFinal() && event.status() == Status.LOST;
        if (!lostNotice) {
            if (leaf.lastSeq == 0) {
                leaf.workerId = event.workerId(); // its first event binds the attempt (see onHeartbeat)
            }
            leaf.lastSeq = event.seq();
            renewLease(leaf, nowMs);
        }
        leaf.updatedAtMs = nowMs;
        out.changed(leaf);
        charge(leaf, event, nowMs);
        if (mode == Mode.OPTIMISTIC) {
            haltCrossed(leaf.spec.parent, nowMs);
        }
        if (event.isFinal()) {
            end(leaf, event, nowMs);
        }
        if (releaseDueRetries(nowMs) || event.isFinal() || dispatchPending) {
            pump(nowMs);
        }
        return drain(nowMs);
    }

    /**
     * The start of every call after {@link #begin}: a restored ledger's first call resumes it; then, unless the run
     * is over, the deadlines that passed by {@code nowMs} are applied — before anything more is dispatched.
     */
    private void enter(long nowMs) {
        resume(nowMs);
        if (!root.terminal) {
            lastNowMs = nowMs;
            expireDeadlines(nowMs);
            if (abandonExpired(nowMs)) {
                dispatchPending = true; // slots and retries may have come free
            }
        }
    }

    /** Sets when an attempt in flight is given up for lost, if that is earlier than it was. */
    private void abandonBy(LiveLeaf leaf, long atMs) {
        if (atMs < leaf.abandonAtMs) {
            leaf.abandonAtMs = atMs;
            scheduleAbandon(leaf);
            out.changed(leaf);
        }
    }

    /** Its worker was heard of: the attempt's lease runs from now (not in the entry, so nothing to publish). */
    private void renewLease(LiveLeaf leaf, long nowMs) {
        long lease = config.lease().toMillis();
        if (lease > 0) {
            leaf.leaseUntilMs = Dim.saturatedAdd(nowMs, lease);
            scheduleAbandon(leaf);
        }
    }

    /**
     * Makes sure the queue of attempts to give up holds an entry for the leaf no later than its give-up time. An entry
     * that comes due for a leaf whose time has moved later is queued again at that time ({@link #abandonExpired},
     * {@link #nextAbandonMs}), so renewals — every usage event and heartbeat renews a lease — add nothing.
     */
    private void scheduleAbandon(LiveLeaf leaf) {
        long at = leaf.giveUpAtMs();
        if (at < leaf.queuedAbandonMs) {
            abandoning.add(new Abandon(leaf, at));
            leaf.queuedAbandonMs = at;
        }
    }

    /** Entries in the queue of attempts to give up (for tests: it must not grow with renewals). */
    int queuedGiveUps() {
        return abandoning.size();
    }

    /** Takes the head of the queue off, keeping its leaf's record of what it has queued. */
    private Abandon pollAbandon() {
        Abandon a = abandoning.poll();
        if (a.leaf().queuedAbandonMs == a.atMs()) {
            a.leaf().queuedAbandonMs = Long.MAX_VALUE;
        }
        return a;
    }

    /**
     * Renews every lease of the run from now, without hearing from its workers: the caller could not hear anybody (its
     * partition got no heartbeat from any worker for a while — the broker or the coordinator itself was away), and a
     * silence that is not the workers' must not be taken for their death. Publishes nothing; call it before the
     * call that would otherwise let the leases lapse. Within a quarter lease of the last extension it does nothing:
     * a caller may call it on every event of a silent partition, and each extension walks every attempt in flight.
     */
    public void extendLeases(long nowMs) {
        long lease = config.lease().toMillis();
        if (leasesExtendedAtMs != Long.MIN_VALUE && nowMs - leasesExtendedAtMs < lease / 4) {
            return;
        }
        leasesExtendedAtMs = nowMs;
        renewLeases(l -> l.leaseUntilMs != Long.MAX_VALUE, nowMs);
    }

    /**
     * Renews the leases of the attempts in flight that {@code which} picks, in document order, so that the decisions
     * that follow do not depend on the order they went in flight in.
     */
    private void renewLeases(java.util.function.Predicate<LiveLeaf> which, long nowMs) {
        inFlightInOrder(which).forEach(l -> renewLease(l, nowMs));
    }

    /** The attempts in flight that {@code which} picks, in document order: inFlight is a hash map. */
    private List<LiveLeaf> inFlightInOrder(java.util.function.Predicate<LiveLeaf> which) {
        List<LiveLeaf> picked = new ArrayList<>();
        for (LiveLeaf live : inFlight.values()) {
            if (which.test(live)) {
                picked.add(live);
            }
        }
        picked.sort(Comparator.comparingInt(l -> l.ordinal));
        return picked;
    }

    /**
     * A worker's heartbeat: the attempts of this run it names, and runs, have their leases renewed; what it names of
     * another worker or of no attempt in flight is ignored. An attempt no event has bound to a worker yet is bound to
     * the worker of its latest announcement: a worker announces an attempt when its task record is delivered to it and
     * runs it only once its acceptance is committed, and a record is delivered again only when no earlier delivery was
     * accepted — so the latest announcer is the one that may run it (one whose acceptance was refused, e.g. across a
     * broker restart, does not run it and stops naming it). Its first usage event binds it for good. Deadlines and
     * lapsed leases are applied first, so a heartbeat that comes after an attempt's lease lapsed
     * does not bring it back.
     */
    public Decisions onHeartbeat(Heartbeat heartbeat, long nowMs) {
        Objects.requireNonNull(heartbeat, "heartbeat");
        requireBegun();
        if (!runId.equals(heartbeat.runId())) {
            throw new IllegalArgumentException("heartbeat of run " + heartbeat.runId() + " given to the ledger of run " + runId);
        }
        enter(nowMs);
        for (Heartbeat.Attempt a : heartbeat.attempts()) {
            LiveLeaf leaf = inFlight.get(a.path());
            if (leaf == null || leaf.attempt != a.attempt()) {
                continue;
            }
            if (leaf.lastSeq == 0 && !heartbeat.workerId().equals(leaf.workerId)) {
                // Not yet bound by an event: the latest announcement holds it (see the method comment).
                leaf.workerId = heartbeat.workerId();
                out.changed(leaf);
            }
            if (leaf.workerId.equals(heartbeat.workerId())) {
                renewLease(leaf, nowMs);
            }
        }
        if (dispatchPending) {
            pump(nowMs);
        }
        return drain(nowMs);
    }

    /**
     * Gives up for lost the attempts whose final event did not come by their time: each ends exactly as a lost notice
     * from its worker would end it. True if any did.
     */
    private boolean abandonExpired(long nowMs) {
        boolean any = false;
        while (!abandoning.isEmpty() && abandoning.peek().atMs() <= nowMs) {
            Abandon a = pollAbandon();
            LiveLeaf leaf = a.leaf();
            if (inFlight.get(leaf.path) != leaf) {
                continue; // the attempt ended
            }
            if (leaf.giveUpAtMs() > nowMs) {
                scheduleAbandon(leaf); // renewed since: due later
                continue;
            }
            String error;
            if (leaf.leaseUntilMs < leaf.abandonAtMs) {
                error = "lease lapsed: no word from worker " + leaf.workerId + " for " + config.lease().toMillis() + " ms";
                // The worker may only be frozen: tell it to stop this attempt should it wake up.
                out.halts.add(Halt.ofAttempt(runId, leaf.path, leaf.attempt, leaf.path + " attempt " + leaf.attempt + " "
                        + error, nowMs));
            } else {
                error = "no final event" + (leaf.workerId == null ? "" : " from worker " + leaf.workerId) + " within "
                        + config.abandonGrace().toMillis() + " ms of its deadline or halt";
            }
            leaf.updatedAtMs = nowMs;
            out.changed(leaf);
            out.abandoned++;
            end(leaf, new UsageEvent(runId, leaf.path, leaf.attempt, null, LOST_SEQ, 0, 0, 0, true, Status.LOST, error,
                    null, nowMs), nowMs);
            any = true;
        }
        return any;
    }

    /** The time the earliest attempt in flight is given up for lost, or Long.MAX_VALUE. */
    private long nextAbandonMs() {
        while (!abandoning.isEmpty()) {
            Abandon a = abandoning.peek();
            LiveLeaf leaf = a.leaf();
            boolean current = inFlight.get(leaf.path) == leaf;
            if (current && leaf.giveUpAtMs() == a.atMs()) {
                return a.atMs();
            }
            pollAbandon();
            if (current) {
                scheduleAbandon(leaf); // its time moved: queued again at it
            }
        }
        return Long.MAX_VALUE;
    }

    /** What screening decided about a usage event: fold it, ignore it as a duplicate, or refuse it and why. */
    private static final class Screening {
        static final Screening FOLD = new Screening(null);
        static final Screening DUPLICATE = new Screening(null);

        final String reason;

        private Screening(String reason) {
            this.reason = reason;
        }

        static Screening reject(String reason) {
            return new Screening(reason);
        }
    }

    /**
     * Decides whether an event may be folded; see Usage screening in the class Javadoc. The checks that the wire
     * schema makes as well (counts within [0, 10^15], a terminal status on a final event) are repeated here, so that
     * the fold stays sound for callers that did not decode through the schema.
     */
    private Screening screen(LiveLeaf leaf, UsageEvent event) {
        String path = event.path();
        if (leaf == null || event.attempt() != leaf.attempt) {
            RunTree.LeafRef ref = path == null ? null : tree.leaf(path);
            if (ref == null) {
                return Screening.reject("path: run " + runId + " has no leaf '" + path + "'");
            }
            if (event.attempt() < 1) {
                return Screening.reject("attempt: must be ≥ 1, got " + event.attempt());
            }
            LiveLeaf known = leaf != null ? leaf : betweenAttempts.get(path);
            if (known != null && event.attempt() > known.attempt) {
                return Screening.reject("attempt: " + path + " attempt " + event.attempt() + " was never dispatched (the "
                        + (leaf != null ? "attempt in flight is " : "last attempt was ") + known.attempt + ")");
            }
            if (known == null && ref.copy() >= ref.spec().nextCopy) {
                return Screening.reject("path: " + path + " was never dispatched");
            }
            return Screening.DUPLICATE; // late: of an attempt that ended, or of a leaf that ended
        }
        if (event.inputTokens() < 0 || event.outputTokens() < 0 || event.steps() < 0 || event.costMicrousd() < 0) {
            return Screening.reject("usage: negative amounts (input_tokens " + event.inputTokens() + ", output_tokens "
                    + event.outputTokens() + ", steps " + event.steps() + ", cost_microusd " + event.costMicrousd() + ")");
        }
        long[] amounts = Dim.amounts(event.inputTokens(), event.outputTokens(), event.steps(), event.costMicrousd());
        for (Dim d : new Dim[] {Dim.INPUT, Dim.OUTPUT, Dim.STEPS, Dim.COST}) {
            long amount = amounts[d.ordinal()];
            if (amount > MAX_AMOUNT - root.spent[d.ordinal()]) {
                return Screening.reject(d.wireName + ": " + amount + " would take the run's spent " + d.unit + " beyond "
                        + MAX_AMOUNT + " (spent " + root.spent[d.ordinal()] + ")");
            }
        }
        Status status = event.status();
        if (event.isFinal()) {
            if (status == null || !status.isTerminal() || status == Status.REJECTED) {
                return Screening.reject("status: a final event needs a terminal status, got "
                        + (status == null ? "none" : status.wire()));
            }
        } else if (status != Status.RUNNING) {
            return Screening.reject("status: a step event's status is running, got " + (status == null ? "none" : status.wire()));
        }
        if (event.isFinal() && status == Status.LOST) {
            // A lost notice comes from the worker that received the attempt again, so its seq says nothing: it is
            // taken whatever the attempt's seq, once (the attempt is no longer in flight after it). The protocol
            // writes it with seq 0 and no usage of its own.
            if (event.seq() != LOST_SEQ || !event.usage().isZero()) {
                return Screening.reject("a lost notice has seq 0 and no usage, got seq " + event.seq() + " and "
                        + event.usage());
            }
            return Screening.FOLD;
        }
        if (leaf.lastSeq > 0 && leaf.workerId != null && !leaf.workerId.equals(event.workerId())) {
            return Screening.reject("worker_id: '" + event.workerId() + "' is not the worker '" + leaf.workerId
                    + "' that started " + path + " attempt " + leaf.attempt);
        }
        if (event.seq() < 1) {
            return Screening.reject("seq: must be ≥ 1 (0 only on a lost notice), got " + event.seq());
        }
        if (event.seq() <= leaf.lastSeq) {
            return Screening.DUPLICATE;
        }
        if (event.seq() != leaf.lastSeq + 1) {
            // A worker numbers an attempt's events 1, 2, 3… and writes them in order to one partition: a gap is a
            // forgery or a corruption. Folding it would make every genuine later event look like a duplicate.
            return Screening.reject("seq: " + event.seq() + " skips ahead of " + path + " attempt " + leaf.attempt
                    + "'s next seq " + (leaf.lastSeq + 1));
        }
        return Screening.FOLD;
    }

    /**
     * An operator's cancel of the workflow or branch at {@code path} (null: the whole run): halted exactly as a budget
     * halt would halt it — its queued leaves end cancelled, its attempts in flight are told to stop (and given up for
     * lost if no final event follows within the grace), and it ends {@code cancelled} with the reason
     * "{@code <path>: cancelled by <cancelledBy>}", restorable like any halt. A cancel that cannot be carried out (the
     * run or the node ended, the node is halted already, or there is no such workflow or branch) changes nothing:
     * {@link Decisions#rejection()} says why.
     *
     * @param cancelledBy who asks, and why: "alice@ops-1: not needed"
     */
    public Decisions cancel(String path, String cancelledBy, long nowMs) {
        requireBegun();
        if (cancelledBy == null || cancelledBy.isBlank()) {
            throw new IllegalArgumentException("cancelledBy: must name who cancels");
        }
        enter(nowMs);
        String target = path == null ? root.path : path;
        GroupNode node = tree.groupsByPath.get(target);
        String refusal = null;
        if (root.terminal) {
            refusal = "run " + runId + " already ended " + root.status().wire();
        } else if (node == null) {
            refusal = "path: " + target + " is no workflow or branch of run " + runId
                    + " (a leaf is cancelled with its branch)";
        } else if (node.terminal) {
            refusal = "path: " + target + " already ended " + node.status().wire();
        } else if (node.closed) {
            refusal = "path: " + target + " is halted already (" + node.closedReason + ")";
        }
        if (refusal != null) {
            return drain(nowMs).withRejection(refusal);
        }
        halt(node, HaltCause.cancel(cancelledBy), nowMs);
        if (!root.terminal) {
            pump(nowMs); // a share or max_parallel the cancelled node held may admit its siblings now
        }
        return drain(nowMs);
    }

    /** Applies deadlines that have passed by {@code nowMs}, then admits the retries due by then. */
    public Decisions onTick(long nowMs) {
        requireBegun();
        enter(nowMs);
        if (isTerminal()) {
            return drain(nowMs); // nothing, unless a restored ledger's first call ended the run
        }
        if (releaseDueRetries(nowMs) || dispatchPending) {
            pump(nowMs);
        }
        return drain(nowMs);
    }

    /**
     * A restored ledger's first call begins with this. Restored from entries: groups left unfinished with nothing
     * unfinished below them end (never the case for entries this ledger published, as it settles nodes in the call
     * their last leaf ends), a run restored terminal hands out its receipt, and whatever the restored state admits
     * is dispatched after the deadlines that passed (with entries this ledger published, nothing, unless the last
     * call's dispatch limit cut its dispatch short: every other call ends with the pump having found all that was
     * admissible). Restored from nothing: what {@link #begin} does.
     */
    private void resume(long nowMs) {
        if (!resuming) {
            return;
        }
        resuming = false;
        if (resumingFresh) {
            lastNowMs = nowMs;
            for (GroupNode g : tree.groups) {
                out.changed(g, nowMs);
            }
        } else if (root.terminal) {
            out.runEnded = true;
            return;
        }
        for (int i = tree.groups.size() - 1; i >= 0; i--) {
            settle(tree.groups.get(i), nowMs);
        }
        // Leases are not on the ledger: every attempt whose worker was heard of gets a fresh one from now, so that a
        // coordinator that takes a run over gives its workers a whole lease to be heard from before it gives their
        // attempts up.
        renewLeases(l -> l.workerId != null, nowMs);
        // Whatever the restored state admits is dispatched in this call, after its deadlines (see enter).
        dispatchPending = true;
    }

    /**
     * When the caller must call {@link #onTick} next: at once when the last call's dispatch limit left leaves to
     * dispatch; else the earliest of the deadlines of workflows/branches still running and of the times retries
     * become due; empty when none is pending.
     */
    public OptionalLong nextDeadlineMs() {
        if (dispatchPending && !root.terminal) {
            return OptionalLong.of(lastNowMs); // at once: the last call's dispatch limit left admissible leaves
        }
        long next = Long.MAX_VALUE;
        boolean any = false;
        for (int i = deadlineCursor; i < tree.byDeadline.length; i++) {
            GroupNode g = tree.byDeadline[i];
            if (!g.closed && !g.terminal) {
                next = g.deadlineMs;
                any = true;
                break;
            }
        }
        LiveLeaf retry = backingOff.peek();
        if (retry != null) {
            next = Math.min(next, retry.notBeforeMs);
            any = true;
        }
        long abandon = nextAbandonMs();
        if (abandon != Long.MAX_VALUE) {
            next = Math.min(next, abandon);
            any = true;
        }
        return any ? OptionalLong.of(next) : OptionalLong.empty();
    }

    public boolean isTerminal() {
        return root.terminal;
    }

    /** What the run has spent so far (its workflow's spend), without building an entry. */
    public Usage spent() {
        return Dim.usage(root.spent);
    }

    /** Tokens reserved now by the grants of attempts in flight (its workflow's reservation). */
    public long reservedTokens() {
        return root.reserved[Dim.TOKENS.ordinal()];
    }

    /** The workflow's status: pending, running, then terminal. */
    public Status status() {
        return root.status();
    }

    public String runId() {
        return runId;
    }

    public Mode mode() {
        return mode;
    }

    /**
     * The current entry of a workflow/branch path, or of a leaf while in flight (and, in runs small enough for
     * leaf-level receipts, once finished); null for any other path.
     */
    public LedgerEntry entry(String path) {
        GroupNode g = tree.groupsByPath.get(path);
        if (g != null) {
            return g.entry(runId, mode);
        }
        LiveLeaf live = inFlight.get(path);
        if (live == null) {
            live = betweenAttempts.get(path);
        }
        if (live != null) {
            return liveEntry(live);
        }
        if (leafEntries == null) {
            return null;
        }
        int ordinal = ordinalOf(path);
        return ordinal < 0 ? null : leafEntries[ordinal];
    }

    /** The receipt: final once the run is terminal, else a snapshot of the run so far. */
    public Receipt receipt() {
        return finalReceipt != null ? finalReceipt : buildReceipt();
    }

    /** True when the last call's dispatch limit left admissible leaves: the next call of any kind dispatches them. */
    public boolean hasPendingDispatch() {
        return dispatchPending && !root.terminal;
    }

    /** Usage events ignored as duplicate or late. */
    public long duplicatesIgnored() {
        return duplicatesIgnored;
    }

    /** Usage events refused by screening (each with its reason in its call's {@link Decisions#rejection()}). */
    public long rejectedEvents() {
        return rejectedEvents;
    }

    /**
     * Per-leaf objects alive now: at most the workflow's max_parallel in flight, plus leaves waiting for a retry.
     * For tests of the memory bound.
     */
    int liveLeafObjects() {
        return inFlight.size() + betweenAttempts.size();
    }

    /** Leaf entries retained for the receipt (0 in runs larger than receiptLeafLimit). */
    int retainedLeafEntries() {
        return leafEntries == null ? 0 : leafEntries.length;
    }

    // ------------------------------------------------------------------------------------------------- dispatch

    /**
     * Dispatches, in document order, every leaf admissible now — at most {@link LedgerConfig#maxDispatchPerCall()}
     * in one call; when that stops it, {@link #dispatchPending} asks for the next call at once.
     */
    private void pump(long nowMs) {
        dispatchPending = false;
        if (!root.terminal) {
            pumpGroup(root, nowMs);
        }
    }

    /** True when this call dispatched as many attempts as one call may. */
    private boolean callFull() {
        if (out.tasks.size() >= config.maxDispatchPerCall()) {
            dispatchPending = true;
            return true;
        }
        return false;
    }

    private boolean quotaReached() {
        return out.tasks.size() >= quotaEnd;
    }

    private void pumpGroup(GroupNode g, long nowMs) {
        if (g.shareEven) {
            pumpShared(g, nowMs);
            return;
        }
        int i = g.runnable.nextSetBit(0);
        while (i >= 0 && open(g)) {
            if (callFull() || quotaReached()) {
                return; // the bits of what is left stay set: the next call goes on from here
            }
            Child child = g.children[i];
            if (child instanceof LeafSpec spec) {
                if (spec.hasPending()) {
                    admit(spec, nowMs); // dispatches, refuses or pauses an ancestor; the loop condition sees which
                    continue;
                }
                g.runnable.clear(i);
            } else {
                GroupNode sub = (GroupNode) child;
                pumpGroup(sub, nowMs);
                if (!open(g) || dispatchPending || quotaReached()) {
                    return;
                }
                // The child cannot dispatch more until an attempt below it finishes (which sets the bit again). This
                // is history, not a function of the numbers, so the child's entry shows it (fold.blocked) while it
                // has not ended.
                g.runnable.clear(i);
                if (!sub.terminal) {
                    out.changed(sub, nowMs);
                }
            }
            i = g.runnable.nextSetBit(i + 1);
        }
    }

    /**
     * {@code share: even}: the children (branches) take turns, one dispatch each per round, until a round in which
     * none decides anything; a child whose turn decides nothing is passed over until an attempt below its parent ends.
     */
    private void pumpShared(GroupNode g, long nowMs) {
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int i = g.runnable.nextSetBit(0); i >= 0; i = g.runnable.nextSetBit(i + 1)) {
                if (!open(g) || callFull() || quotaReached()) {
                    return;
                }
                GroupNode sub = (GroupNode) g.children[i];
                long before = admissions;
                int outer = quotaEnd;
                quotaEnd = (int) Math.min(outer, (long) out.tasks.size() + 1);
                try {
                    pumpGroup(sub, nowMs);
                } finally {
                    quotaEnd = outer;
                }
                if (!open(g) || dispatchPending) {
                    return;
                }
                if (admissions != before) {
                    progress = true;
                    continue;
                }
                g.runnable.clear(i);
                if (!sub.terminal) {
                    out.changed(sub, nowMs); // its entry shows it (fold.blocked)
                }
            }
        }
    }

    /** True when a leaf below {@code g} may be dispatched as far as {@code g} and its ancestors go. */
    private static boolean open(GroupNode g) {
        for (GroupNode n = g; n != null; n = n.parent) {
            if (n.closed || n.paused || n.terminal || !n.hasSlot()) {
                return false;
            }
        }
        return true;
    }

    /** Admits the spec's next leaf in document order: a due retry (an earlier copy) before a fresh copy. */
    private void admit(LeafSpec spec, long nowMs) {
        LiveLeaf retry = spec.peekDueRetry();
        long[] spentBefore = retry == null ? null : retry.spent;
        GrantPolicy.Verdict verdict = mode == Mode.STRICT ? GrantPolicy.strict(spec, spentBefore, config)
                : GrantPolicy.optimistic(spec, spentBefore);
        if (!(verdict instanceof GrantPolicy.Wait)) {
            admissions++;
        }
        if (verdict instanceof GrantPolicy.Dispatch d) {
            if (retry != null) {
                spec.pollDueRetry();
                betweenAttempts.remove(retry.path);
                launch(retry, retry.attempt + 1, d.grant(), d.probe(), nowMs);
            } else {
                int copy = spec.nextCopy++;
                launch(new LiveLeaf(spec, copy, spec.path(copy), maxAttempts(spec)), 1, d.grant(), d.probe(), nowMs);
            }
        } else if (verdict instanceof GrantPolicy.Wait w) {
            GroupNode pauseAt = w.pauseAt();
            if (!pauseAt.paused) {
                pauseAt.paused = true;
                out.changed(pauseAt, nowMs); // its entry shows it (fold.paused)
            }
        } else if (retry != null) {
            spec.pollDueRetry();
            refuseRetry(retry, (GrantPolicy.Refuse) verdict, nowMs);
        } else {
            refuse(spec, (GrantPolicy.Refuse) verdict, nowMs);
        }
    }

    int maxAttempts(LeafSpec spec) {
        Integer own = spec.leaf.maxAttempts();
        return own == null ? config.maxAttempts() : Math.max(1, own);
    }

    private void launch(LiveLeaf leaf, int attempt, long[] grant, boolean probe, long nowMs) {
        LeafSpec spec = leaf.spec;
        leaf.startAttempt(attempt, grant, probe, nowMs);
        for (GroupNode a = spec.parent; a != null; a = a.parent) {
            a.inFlight++;
            a.started = true;
            a.leafCounts[Status.PENDING.ordinal()]--;
            a.leafCounts[Status.RUNNING.ordinal()]++;
            for (int i = 0; i < Dim.COUNT; i++) {
                if (grant[i] != Dim.UNLIMITED) {
                    a.reserved[i] += grant[i];
                }
            }
            out.changed(a, nowMs);
        }
        if (probe) {
            spec.parent.probe = leaf;
        }
        inFlight.put(leaf.path, leaf);
        out.changed(leaf);
        Long leafTimeout = spec.leaf.budget().timeoutMs();
        Long deadline = leafTimeout == null ? null : Dim.saturatedAdd(nowMs, leafTimeout);
        Long cap = spec.parent.pathDeadlineMs;
        if (cap != null) {
            deadline = deadline == null ? cap : Math.min(deadline, cap);
        }
        if (deadline != null) {
            abandonBy(leaf, Dim.saturatedAdd(deadline, config.abandonGrace().toMillis()));
        }
        out.tasks.add(new LeafTask(runId, leaf.path, leaf.attempt, leaf.grantRecord(), deadline, spec.leaf.executor(),
                spec.leaf.input(), nowMs));
    }

    private void refuse(LeafSpec spec, GrantPolicy.Refuse refusal, long nowMs) {
        int copy = spec.nextCopy++;
        String path = spec.path(copy);
        if (refusal.haltAt() != null) {
            // Halt first, while the refused leaf still counts as unfinished: the node must end with its own cause.
            halt(refusal.haltAt(), refusal.share() ? HaltCause.share(refusal.dim(), refusal.limit())
                    : HaltCause.budget(refusal.dim(), refusal.limit()), nowMs);
        }
        LedgerEntry entry = new LedgerEntry(runId, path, "leaf", mode, Status.BUDGET_EXCEEDED, refusal.reason(),
                spec.leaf.budget(), Reservation.ZERO, Usage.ZERO, Map.of(Status.BUDGET_EXCEEDED, 1L), 0, nowMs);
        leafEnded(spec.parent, spec.firstOrdinal + copy, Status.PENDING, Status.BUDGET_EXCEEDED,
                path + ": " + refusal.reason(), entry, nowMs);
    }

    /** A due retry is refused like a fresh copy; it keeps what its earlier attempts were charged. */
    private void refuseRetry(LiveLeaf leaf, GrantPolicy.Refuse refusal, long nowMs) {
        betweenAttempts.remove(leaf.path);
        if (refusal.haltAt() != null) {
            halt(refusal.haltAt(), refusal.share() ? HaltCause.share(refusal.dim(), refusal.limit())
                    : HaltCause.budget(refusal.dim(), refusal.limit()), nowMs);
        }
        String reason = leaf.describe("attempt " + (leaf.attempt + 1) + " " + refusal.reason() + "; " + leaf.lastOutcome);
        leaf.updatedAtMs = nowMs;
        leafEnded(leaf.spec.parent, leaf.ordinal, Status.PENDING, Status.BUDGET_EXCEEDED, leaf.path + ": " + reason,
                leaf.entry(runId, mode, Status.BUDGET_EXCEEDED, reason), nowMs);
    }

    // ------------------------------------------------------------------------------------------------- retries

    /** Moves the retries due by {@code nowMs} to their specs for admission; true if there were any. */
    private boolean releaseDueRetries(long nowMs) {
        boolean released = false;
        while (!backingOff.isEmpty() && backingOff.peek().notBeforeMs <= nowMs) {
            LiveLeaf leaf = backingOff.poll();
            LeafSpec spec = leaf.spec;
            spec.addDueRetry(leaf);
            leaf.due = true;
            leaf.updatedAtMs = nowMs;
            out.changed(leaf);
            spec.parent.runnable.set(spec.indexInParent());
            for (GroupNode g = spec.parent; g.parent != null; g = g.parent) {
                if (g.blocked()) {
                    g.parent.runnable.set(g.indexInParent());
                    out.changed(g, nowMs);
                }
            }
            released = true;
        }
        return released;
    }

    /** The attempt ended and the leaf will be tried again: back to pending, its slot and grant already freed. */
    private void scheduleRetry(LiveLeaf leaf, String outcome, boolean lost, long nowMs) {
        long notBefore = Dim.saturatedAdd(nowMs, RetryBackoff.delayMs(config, runId, leaf.path, leaf.attempt));
        leaf.awaitRetry(outcome, lost, notBefore, nowMs);
        backingOff.add(leaf);
        betweenAttempts.put(leaf.path, leaf);
        out.changed(leaf);
        for (GroupNode a = leaf.spec.parent; a != null; a = a.parent) {
            a.leafCounts[Status.RUNNING.ordinal()]--;
            a.leafCounts[Status.PENDING.ordinal()]++;
            out.changed(a, nowMs);
        }
    }

    /** Ends a leaf waiting for a retry below a halted node; the halt settles the nodes afterwards. */
    private void cancelRetry(LiveLeaf leaf, String cancelled, long nowMs) {
        betweenAttempts.remove(leaf.path);
        String reason = leaf.describe(cancelled + "; " + leaf.lastOutcome);
        leaf.updatedAtMs = nowMs;
        countLeafEnd(leaf.spec.parent, leaf.ordinal, Status.PENDING, Status.CANCELLED, cancelled,
                leaf.entry(runId, mode, Status.CANCELLED, reason), nowMs);
    }

    // ------------------------------------------------------------------------------------------------- usage

    private void charge(LiveLeaf leaf, UsageEvent event, long nowMs) {
        // Screening refused negative amounts and sums beyond MAX_AMOUNT: nothing here can overflow.
        spend(leaf, Dim.amounts(event.inputTokens(), event.outputTokens(), event.steps(), event.costMicrousd()), true, nowMs);
    }

    /**
     * Charges {@code u} to the leaf and its ancestors, taking it out of the attempt's grant (and so out of the
     * reservations) as far as the grant covers it. {@code reported}: usage its worker reported, else what a lost
     * attempt is charged beyond that (always within the grant).
     */
    private void spend(LiveLeaf leaf, long[] u, boolean reported, long nowMs) {
        boolean any = false;
        for (Dim d : Dim.ALL) {
            int i = d.ordinal();
            if (u[i] == 0) {
                continue;
            }
            any = true;
            long released = 0;
            if (leaf.grantLeft[i] != Dim.UNLIMITED) {
                released = Math.min(u[i], leaf.grantLeft[i]);
                leaf.grantLeft[i] -= released;
                if (u[i] > released) {
                    leaf.noteFault("reported " + (u[i] - released) + " beyond its grant of " + d.field + " " + leaf.grant[i]);
                }
            }
            if (reported) {
                leaf.attemptSpent[i] = Dim.saturatedAdd(leaf.attemptSpent[i], u[i]);
            }
            leaf.spent[i] = Dim.saturatedAdd(leaf.spent[i], u[i]);
            for (GroupNode a = leaf.spec.parent; a != null; a = a.parent) {
                a.spent[i] = Dim.saturatedAdd(a.spent[i], u[i]);
                a.reserved[i] -= released;
            }
        }
        if (any) {
            leaf.updatedAtMs = nowMs;
            for (GroupNode a = leaf.spec.parent; a != null; a = a.parent) {
                out.changed(a, nowMs);
            }
        }
    }

    /**
     * An attempt below an even-share node ended: a child waiting for its share (paused, or passed over) looks again,
     * since the end may finish a sibling and leave its share to the others.
     */
    private void wakeShares(GroupNode g, long nowMs) {
        for (Child c : g.children) {
            GroupNode child = (GroupNode) c;
            if (child.terminal) {
                continue;
            }
            boolean changed = false;
            if (child.paused) {
                child.paused = false;
                changed = true;
            }
            if (child.totalLeaves > 0 && !g.runnable.get(child.indexInParent())) {
                g.runnable.set(child.indexInParent());
                changed = true;
            }
            if (changed) {
                out.changed(child, nowMs); // its entry shows it (fold.paused, fold.blocked)
            }
        }
    }

    /** OPTIMISTIC: every node on the path whose spend reached a limit halts, deepest first. */
    private void haltCrossed(GroupNode from, long nowMs) {
        for (GroupNode a = from; a != null; a = a.parent) {
            if (a.closed) {
                continue;
            }
            for (Dim d : Dim.ALL) {
                Long limit = d.limit(a.limits);
                if (limit != null && a.spent[d.ordinal()] >= limit) {
                    halt(a, HaltCause.budget(d, limit), nowMs);
                    break;
                }
            }
        }
    }

    /**
     * Ends the attempt: charge a lost one, refund, free the slot, learn, then either schedule the leaf's next
     * attempt or record its status.
     */
    private void end(LiveLeaf leaf, UsageEvent event, long nowMs) {
        Status status = event.status(); // terminal: screened
        String lostNote = null;
        if (status == Status.LOST) {
            // What the dead delivery spent is unknown: STRICT charges all of the grant it may have used.
            long[] extra = mode == Mode.STRICT ? leaf.lostCharge() : new long[Dim.COUNT];
            // A notice comes from a worker that found the attempt redelivered; the ledger gives one up on its own
            // (a deadline, a halt or a lapsed lease), and then says why.
            lostNote = event.workerId() == null && event.error() != null
                    ? leaf.lostNote(extra, mode == Mode.STRICT, event.error())
                    : leaf.lostNote(extra, mode == Mode.STRICT);
            spend(leaf, extra, false, nowMs);
        }
        inFlight.remove(leaf.path);
        GroupNode parent = leaf.spec.parent;
        long[] refund = leaf.outstanding();
        for (GroupNode a = parent; a != null; a = a.parent) {
            for (int i = 0; i < Dim.COUNT; i++) {
                a.reserved[i] -= refund[i];
            }
            a.inFlight--;
            a.paused = false; // whatever waited for a refund below it may now fit
            if (a.parent != null) {
                a.parent.runnable.set(a.indexInParent());
            }
            if (a.shareEven) {
                wakeShares(a, nowMs);
            }
        }
        for (int i = 0; i < Dim.COUNT; i++) {
            if (leaf.grantLeft[i] != Dim.UNLIMITED) {
                leaf.grantLeft[i] = 0;
            }
        }
        parent.learn(leaf.attemptSpent, leaf.grant, status);
        if (parent.probe == leaf) {
            parent.probe = null;
        }
        leaf.updatedAtMs = nowMs;
        // A worker's own cancel with no halt above means its worker shut down: not the leaf's failure, tried again.
        boolean shutdown = status == Status.CANCELLED && !parent.closed;
        boolean permanent = event.isPermanentFailure();
        boolean retriable = (status == Status.FAILED && !permanent) || status == Status.LOST || shutdown;
        if (retriable && !parent.closed && leaf.attempt < leaf.maxAttempts) {
            String outcome = status == Status.LOST ? lostNote
                    : leaf.outcome(shutdown ? "cancelled by its worker (not halted)" : "failed", event.error());
            scheduleRetry(leaf, outcome, status == Status.LOST, nowMs);
            return;
        }
        Status to = status;
        String reason;
        if (status == Status.LOST && parent.closed) {
            to = parent.closedLeafStatus; // as its worker would have reported had it lived to see the halt
            reason = leaf.describe(parent.closedReason + "; " + lostNote);
        } else if (status == Status.LOST) {
            to = Status.FAILED;
            reason = leaf.reason(Status.FAILED, event.error(), lostNote);
        } else {
            reason = leaf.reason(status, event.error(), null);
            if (permanent && leaf.attempt < leaf.maxAttempts && !parent.closed) {
                reason = reason + "; not retried: its worker reports the failure as permanent";
            }
        }
        leafEnded(parent, leaf.ordinal, Status.RUNNING, to, leaf.path + ": " + reason, leaf.entry(runId, mode, to, reason),
                nowMs);
    }

    /** A leaf below {@code parent} ended (finished, refused): count it, and end the nodes it completes. */
    private void leafEnded(GroupNode parent, int ordinal, Status from, Status to, String childReason, LedgerEntry entry,
                           long nowMs) {
        countLeafEnd(parent, ordinal, from, to, childReason, entry, nowMs);
        settle(parent, nowMs);
    }

    private void countLeafEnd(GroupNode parent, int ordinal, Status from, Status to, String childReason,
                              LedgerEntry entry, long nowMs) {
        for (GroupNode a = parent; a != null; a = a.parent) {
            a.leafCounts[from.ordinal()]--;
            a.leafCounts[to.ordinal()]++;
            a.unfinishedLeaves--;
            out.changed(a, nowMs);
        }
        parent.childEnded(to, childReason);
        if (leafEntries != null) {
            leafEntries[ordinal] = entry;
        }
        out.ended(entry);
    }

    // ------------------------------------------------------------------------------------------------- halts

    private void halt(GroupNode node, HaltCause cause, long nowMs) {
        node.halt = cause;
        String cancelled = cause.cancels(node.path);
        int end = node.index + node.subtreeGroups;
        for (int gi = node.index; gi < end; gi++) {
            GroupNode g = tree.groups.get(gi);
            if (g.closed) {
                continue; // halted before: nothing pending below it
            }
            g.closed = true;
            g.closedReason = cancelled;
            g.closedLeafStatus = cause.haltStatus();
            if (g.paused) {
                g.paused = false;
                out.changed(g, nowMs);
            }
            long n = 0;
            for (Child c : g.children) {
                if (!(c instanceof LeafSpec spec)) {
                    continue;
                }
                for (LiveLeaf due = spec.pollDueRetry(); due != null; due = spec.pollDueRetry()) {
                    cancelRetry(due, cancelled, nowMs);
                }
                if (spec.pending() > 0) {
                    if (leafEntries != null) {
                        for (int copy = spec.nextCopy; copy < spec.copies; copy++) {
                            LedgerEntry e = new LedgerEntry(runId, spec.path(copy), "leaf", mode, Status.CANCELLED,
                                    cancelled, spec.leaf.budget(), Reservation.ZERO, Usage.ZERO,
                                    Map.of(Status.CANCELLED, 1L), 0, nowMs);
                            leafEntries[spec.firstOrdinal + copy] = e;
                            out.ended(e);
                        }
                    }
                    n += spec.pending();
                    spec.nextCopy = spec.copies;
                }
            }
            if (n > 0) {
                for (GroupNode a = g; a != null; a = a.parent) {
                    a.leafCounts[Status.PENDING.ordinal()] -= n;
                    a.leafCounts[Status.CANCELLED.ordinal()] += n;
                    a.unfinishedLeaves -= n;
                    out.changed(a, nowMs);
                }
                g.childEnded(Status.CANCELLED, cancelled);
            }
        }
        if (!backingOff.isEmpty()) {
            List<LiveLeaf> below = new ArrayList<>();
            for (LiveLeaf l : backingOff) {
                int gi = l.spec.parent.index;
                if (gi >= node.index && gi < end) {
                    below.add(l);
                }
            }
            below.sort(Comparator.comparingInt(l -> l.ordinal));
            backingOff.removeAll(below);
            for (LiveLeaf l : below) {
                cancelRetry(l, cancelled, nowMs);
            }
        }
        // Its attempts in flight are told to stop; one whose final event does not follow within the grace is lost.
        // (inFlight is a hash map: the leaves below are taken in document order, so that the decisions are the same
        // whatever order they went in flight in — as in a ledger restored from entries.)
        long giveUp = Dim.saturatedAdd(nowMs, config.abandonGrace().toMillis());
        for (LiveLeaf live : inFlightInOrder(l -> l.spec.parent.index >= node.index && l.spec.parent.index < end)) {
            abandonBy(live, giveUp);
        }
        out.changed(node, nowMs);
        out.halts.add(new Halt(runId, node.path, cause.haltStatus(), cause.nodeStatus(), node.reason(), nowMs));
        for (int gi = end - 1; gi >= node.index; gi--) {
            settle(tree.groups.get(gi), nowMs);
        }
    }

    private void expireDeadlines(long nowMs) {
        while (deadlineCursor < tree.byDeadline.length && tree.byDeadline[deadlineCursor].deadlineMs <= nowMs) {
            GroupNode g = tree.byDeadline[deadlineCursor++];
            if (!g.closed && !g.terminal) {
                halt(g, HaltCause.timeout(g.limits.timeoutMs()), nowMs);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------- endings

    /** Ends {@code g} and then its ancestors, for as long as each has nothing left unfinished below it. */
    private void settle(GroupNode g, long nowMs) {
        while (g != null && !g.terminal && g.unfinishedLeaves == 0 && g.openChildGroups == 0) {
            g.finish();
            out.changed(g, nowMs);
            GroupNode parent = g.parent;
            if (parent == null) {
                finishedAtMs = nowMs;
                out.runEnded = true;
            } else {
                parent.openChildGroups--;
                parent.childEnded(g.finalStatus, g.finalReason);
                out.changed(parent, nowMs); // its worst child may have changed (fold.worst)
            }
            g = parent;
        }
    }

    private Decisions drain(long nowMs) {
        if (out.isEmpty()) {
            return Decisions.NONE;
        }
        List<LedgerEntry> entries = new ArrayList<>(out.endedLeaves.values());
        for (LiveLeaf leaf : out.changedLeaves) {
            LedgerEntry e = liveEntry(leaf);
            if (e != null) { // else it ended later in the call: its final entry is above
                entries.add(e);
            }
        }
        for (int i = out.changed.nextSetBit(0); i >= 0; i = out.changed.nextSetBit(i + 1)) {
            entries.add(tree.groups.get(i).entry(runId, mode));
        }
        Receipt receipt = null;
        if (out.runEnded) {
            finalReceipt = buildReceipt();
            receipt = finalReceipt;
        }
        Decisions d = new Decisions(out.tasks, out.halts, entries, receipt, null, out.abandoned);
        out.clear();
        return d;
    }

    /** The entry of a leaf in flight or between attempts; null when it is neither (any more). */
    private LedgerEntry liveEntry(LiveLeaf leaf) {
        if (inFlight.get(leaf.path) == leaf) {
            return leaf.entry(runId, mode, Status.RUNNING, null);
        }
        if (betweenAttempts.get(leaf.path) == leaf) {
            return leaf.entry(runId, mode, Status.PENDING, leaf.waitingReason());
        }
        return null;
    }

    private Receipt buildReceipt() {
        List<LedgerEntry> nodes = new ArrayList<>();
        collect(root, nodes, leafEntries != null);
        long finished = root.terminal ? finishedAtMs : lastNowMs;
        return new Receipt(runId, mode, root.status(), root.reason(), startedAtMs, finished, nodes);
    }

    private void collect(GroupNode g, List<LedgerEntry> nodes, boolean withLeaves) {
        nodes.add(g.entry(runId, mode));
        for (Child c : g.children) {
            if (c instanceof GroupNode child) {
                collect(child, nodes, withLeaves);
            } else if (withLeaves) {
                LeafSpec spec = (LeafSpec) c;
                for (int copy = 0; copy < spec.copies; copy++) {
                    nodes.add(leafEntry(spec, copy));
                }
            }
        }
    }

    private LedgerEntry leafEntry(LeafSpec spec, int copy) {
        LedgerEntry done = leafEntries[spec.firstOrdinal + copy];
        if (done != null) {
            return done;
        }
        String path = spec.path(copy);
        LiveLeaf live = inFlight.get(path);
        if (live == null) {
            live = betweenAttempts.get(path);
        }
        if (live != null) {
            return liveEntry(live);
        }
        return new LedgerEntry(runId, path, "leaf", mode, Status.PENDING, null, spec.leaf.budget(), Reservation.ZERO,
                Usage.ZERO, Map.of(Status.PENDING, 1L), 0, startedAtMs);
    }

    /** The ordinal of a leaf path, or -1 when the path names no leaf of this run. */
    private int ordinalOf(String path) {
        RunTree.LeafRef ref = tree.leaf(path);
        return ref == null ? -1 : ref.ordinal();
    }

    // ------------------------------------------------------------------------------------------------- restore

    RunTree tree() {
        return tree;
    }

    long startedAtMs() {
        return startedAtMs;
    }

    void adoptInFlight(LiveLeaf leaf) {
        inFlight.put(leaf.path, leaf);
        if (leaf.abandonAtMs != Long.MAX_VALUE) {
            scheduleAbandon(leaf);
        }
    }

    void adoptBetweenAttempts(LiveLeaf leaf) {
        betweenAttempts.put(leaf.path, leaf);
        if (leaf.due) {
            leaf.spec.addDueRetry(leaf);
        } else {
            backingOff.add(leaf);
        }
    }

    /** The final entry of a finished leaf (null: not finished), kept for the receipt in runs small enough. */
    void adoptFinished(int ordinal, LedgerEntry entry) {
        if (leafEntries != null) {
            leafEntries[ordinal] = entry;
        }
    }

    /** @param lastNowMs the latest time the entries show */
    void adoptClock(long lastNowMs) {
        this.lastNowMs = lastNowMs;
        if (root.terminal) {
            finishedAtMs = root.updatedAtMs; // a node's entry is last updated when it ends
        }
    }

    private void requireBegun() {
        if (!begun) {
            throw new IllegalStateException("run " + runId + " has not begun");
        }
    }
}
