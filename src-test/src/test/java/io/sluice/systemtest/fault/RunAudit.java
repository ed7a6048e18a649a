package io.sluice.systemtest.fault;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import io.sluice.schemas.Halt;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import io.sluice.schemas.Usage;
import io.sluice.schemas.UsageEvent;
import io.sluice.systemtest.kafka.RunTopics;
import org.assertj.core.api.SoftAssertions;

/**
 * The test's own account of a strict-mode run, computed from the raw facts on Kafka — the tasks the coordinator
 * published and the usage events workers wrote, in the order of the run's usage partition — independently of
 * the coordinator's ledger, which it is then held against.
 *
 * <p>The fold is the accounting contract, per attempt (run, path, attempt):
 * <ul>
 *   <li>events are taken in partition order until the attempt's first final event; a step event whose seq is not
 *       above the last one taken is a duplicate; anything after the first final event is late and ignored;</li>
 *   <li>a first final event with status {@code lost} (a worker got a redelivery of an attempt whose first delivery
 *       never finished) ends the attempt <em>charged its whole grant</em>: max(grant, what it reported) tokens;</li>
 *   <li>any other first final event ends it charged what it reported;</li>
 *   <li>an attempt the coordinator gave up when its lease lapsed (a halt of that one attempt on the control topic)
 *       ends lost, charged its whole grant; only the events its worker wrote before the halt count (a frozen worker
 *       that wakes up writes more, which the coordinator ignores).</li>
 * </ul>
 * A leaf is charged the sum over its attempts, the workflow the sum over its leaves.
 *
 * <p>Not thread-safe; built once, then read.
 */
final class RunAudit {

    /** One attempt of one leaf. */
    record AttemptKey(String path, int attempt) {
    }

    /** What the topics say about one attempt. */
    static final class Attempt {
        final AttemptKey key;
        /** The task the coordinator published for it; null when usage names an attempt never dispatched. */
        LeafTask task;
        int tasksPublished;
        /** Usage the coordinator took into account (up to and including the first final event). */
        Usage accepted = Usage.ZERO;
        long lastSeq;
        /** Status of the first final event (lost included); null while the attempt never ended. */
        Status outcome;
        /** Workers that reported steps of this attempt: more than one means it ran twice. */
        final Set<String> stepWorkers = new TreeSet<>();
        /** Distinct seqs of non-lost final events, late ones included: more than one means two endings. */
        final Set<Long> normalFinalSeqs = new TreeSet<>();
        int lostNotices;
        /** Epoch millis of the first and last usage event of this attempt, by the events' own timestamps. */
        long firstEventMs = Long.MAX_VALUE;
        long lastEventMs = Long.MIN_VALUE;

        Attempt(AttemptKey key) {
            this.key = key;
        }

        boolean lost() {
            return outcome == Status.LOST;
        }

        /** Tokens charged for this attempt under the contract above. */
        long chargedTokens() {
            long reported = accepted.totalTokens();
            if (lost() && task != null && task.grant() != null && task.grant().maxTokens() != null) {
                return Math.max(task.grant().maxTokens(), reported);
            }
            return reported;
        }

        /** Steps charged: a lost attempt's whole step grant when it had one, else what it reported. */
        long chargedSteps() {
            if (lost() && task != null && task.grant() != null && task.grant().maxSteps() != null) {
                return Math.max(task.grant().maxSteps(), accepted.steps());
            }
            return accepted.steps();
        }

        @Override
        public String toString() {
            return key.path() + "#" + key.attempt() + " " + (outcome == null ? "never ended" : outcome.wire())
                    + ", reported " + accepted.totalTokens() + " tokens, charged " + chargedTokens()
                    + (task == null || task.grant() == null ? ", no task" : ", grant " + task.grant().maxTokens())
                    + ", workers " + stepWorkers;
        }
    }

    private final String runId;
    private final Map<AttemptKey, Attempt> attempts;
    private final Map<String, List<Attempt>> byLeaf;

    private RunAudit(String runId, Map<AttemptKey, Attempt> attempts) {
        this.runId = runId;
        this.attempts = attempts;
        Map<String, List<Attempt>> leaves = new TreeMap<>();
        for (Attempt a : attempts.values()) {
            leaves.computeIfAbsent(a.key.path(), p -> new ArrayList<>()).add(a);
        }
        leaves.values().forEach(l -> l.sort(Comparator.comparingInt(a -> a.key.attempt())));
        this.byLeaf = leaves;
    }

    /** Reads the run's tasks, usage and halts off Kafka and folds them. */
    static RunAudit read(RunTopics topics, String runId) {
        return of(runId, topics.tasks(runId), topics.usage(runId), topics.halts(runId));
    }

    /** Folds tasks (any order) and usage events (in partition order). */
    static RunAudit of(String runId, List<LeafTask> tasks, List<UsageEvent> usage) {
        return of(runId, tasks, usage, List.of());
    }

    /** Folds tasks (any order), usage events (in partition order) and the halts of single attempts. */
    static RunAudit of(String runId, List<LeafTask> tasks, List<UsageEvent> usage, List<Halt> halts) {
        Map<AttemptKey, Long> lapsedAt = new HashMap<>();
        for (Halt h : halts) {
            if (h.attempt() != null) {
                lapsedAt.merge(new AttemptKey(h.path(), h.attempt()), h.atMs(), Math::min);
            }
        }
        Map<AttemptKey, Attempt> attempts = new LinkedHashMap<>();
        for (LeafTask t : tasks) {
            Attempt a = attempts.computeIfAbsent(new AttemptKey(t.path(), t.attempt()), Attempt::new);
            a.tasksPublished++;
            if (a.task == null) {
                a.task = t;
            }
        }
        for (UsageEvent e : usage) {
            Attempt a = attempts.computeIfAbsent(new AttemptKey(e.path(), e.attempt()), Attempt::new);
            boolean lostNotice = e.isFinal() && e.status() == Status.LOST;
            a.firstEventMs = Math.min(a.firstEventMs, e.timestampMs());
            a.lastEventMs = Math.max(a.lastEventMs, e.timestampMs());
            if (lostNotice) {
                a.lostNotices++;
            } else if (e.isFinal()) {
                a.normalFinalSeqs.add(e.seq());
            } else {
                a.stepWorkers.add(e.workerId());
            }
            if (a.outcome != null) {
                continue; // late: the attempt had ended
            }
            Long lapsed = lapsedAt.get(a.key);
            if (lapsed != null && e.timestampMs() >= lapsed) {
                a.outcome = Status.LOST; // given up: what its woken worker wrote since is ignored
                continue;
            }
            if (lostNotice) {
                a.outcome = Status.LOST;
                continue;
            }
            if (e.seq() <= a.lastSeq) {
                continue; // duplicate
            }
            a.lastSeq = e.seq();
            a.accepted = a.accepted.plus(e.usage());
            if (e.isFinal()) {
                a.outcome = e.status();
            }
        }
        lapsedAt.forEach((key, at) -> {
            Attempt a = attempts.computeIfAbsent(key, Attempt::new);
            if (a.outcome == null) {
                a.outcome = Status.LOST; // given up, and its worker wrote nothing more
            }
        });
        return new RunAudit(runId, attempts);
    }

    /** Attempts the coordinator gave up when their leases lapsed. */
    long lapsedAttempts(List<Halt> halts) {
        return halts.stream().filter(h -> h.attempt() != null).count();
    }

    String runId() {
        return runId;
    }

    /** Every attempt, by leaf path then attempt number. */
    Map<String, List<Attempt>> byLeaf() {
        return byLeaf;
    }

    /** Attempts that ended lost: the ones strict mode charges in full. */
    List<Attempt> lostAttempts() {
        return attempts.values().stream().filter(Attempt::lost).toList();
    }

    /** Every lost notice written, including ignored ones (for attempts that had already ended). */
    long lostNotices() {
        return attempts.values().stream().mapToLong(a -> a.lostNotices).sum();
    }

    /** Leaves with at least one lost attempt: touched by a fault. */
    Set<String> touchedLeaves() {
        return lostAttempts().stream().map(a -> a.key.path()).collect(Collectors.toCollection(TreeSet::new));
    }

    long chargedTokens() {
        return attempts.values().stream().mapToLong(Attempt::chargedTokens).sum();
    }

    long chargedTokens(String leaf) {
        return byLeaf.getOrDefault(leaf, List.of()).stream().mapToLong(Attempt::chargedTokens).sum();
    }

    long chargedSteps() {
        return attempts.values().stream().mapToLong(Attempt::chargedSteps).sum();
    }

    /** What the lost attempts were charged beyond nothing: their grants. */
    long lostCharges() {
        return lostAttempts().stream().mapToLong(Attempt::chargedTokens).sum();
    }

    long lostCharges(String leaf) {
        return byLeaf.getOrDefault(leaf, List.of()).stream().filter(Attempt::lost).mapToLong(Attempt::chargedTokens).sum();
    }

    /** Whether some attempt of the leaf ran to a normal end ({@code succeeded}). */
    boolean succeeded(String leaf) {
        return byLeaf.getOrDefault(leaf, List.of()).stream().anyMatch(a -> a.outcome == Status.SUCCEEDED);
    }

    /** A short account for messages and the test log. */
    String summary() {
        return "run " + runId + ": " + byLeaf.size() + " leaves, " + attempts.size() + " attempts, " + lostAttempts().size()
                + " lost (" + lostNotices() + " lost notices), charged " + chargedTokens() + " tokens of which "
                + lostCharges() + " for lost attempts; lost: " + lostAttempts();
    }

    /** Attempts dispatched or reported that never ended, e.g. for the message of a run without a receipt. */
    List<Attempt> unfinished() {
        return attempts.values().stream().filter(a -> a.outcome == null).toList();
    }

    /**
     * Where the run waited: the {@code n} attempts that waited longest between their dispatch and their first usage
     * event (a task stuck on Kafka), e.g. "w/l012#2 started 44.9 s after dispatch (lost)".
     */
    String slowestStarts(int n) {
        return attempts.values().stream().filter(a -> a.task != null && a.firstEventMs != Long.MAX_VALUE)
                .sorted(Comparator.comparingLong((Attempt a) -> a.firstEventMs - a.task.dispatchedAtMs()).reversed())
                .limit(n).map(a -> a.key.path() + "#" + a.key.attempt() + " first event "
                        + (a.firstEventMs - a.task.dispatchedAtMs()) / 1000.0 + " s after dispatch ("
                        + (a.outcome == null ? "never ended" : a.outcome.wire()) + ")")
                .collect(Collectors.joining(", "));
    }

    /**
     * Everything that must hold of a finished run whatever faults it met: nothing lost, nothing counted twice,
     * nothing over its limit, and the coordinator's books equal to this account.
     *
     * @param receipt the run's receipt
     * @param ledger  the latest ledger entry per node, read off the compacted topic
     * @param leaves  how many leaves the submission has
     */
    void assertConsistent(Receipt receipt, Map<String, LedgerEntry> ledger, int leaves) {
        SoftAssertions softly = new SoftAssertions();
        String ctx = summary();
        softly.assertThat(receipt.status()).as("receipt status of %s", runId).matches(Status::isTerminal, "terminal")
                .isNotEqualTo(Status.REJECTED);

        // Every leaf ends in exactly one terminal status.
        List<LedgerEntry> leafEntries = receipt.nodes().stream().filter(e -> "leaf".equals(e.kind())).toList();
        Map<String, Long> perPath = leafEntries.stream().collect(Collectors.groupingBy(LedgerEntry::path, Collectors.counting()));
        softly.assertThat(perPath).as("leaf entries of the receipt, by path").hasSize(leaves);
        softly.assertThat(perPath.values()).as("receipt entries per leaf").allMatch(n -> n == 1);
        for (LedgerEntry e : leafEntries) {
            softly.assertThat(e.status()).as("status of %s", e.path()).matches(Status::isTerminal, "terminal")
                    .isNotEqualTo(Status.LOST);
        }
        LedgerEntry workflow = receipt.nodes().stream().filter(e -> FaultRuns.WORKFLOW.equals(e.path())).findFirst()
                .orElseThrow(() -> new AssertionError("no workflow entry in the receipt of " + runId));
        softly.assertThat(workflow.leaves().entrySet().stream().filter(e -> e.getKey().isTerminal()).mapToLong(Map.Entry::getValue).sum())
                .as("ended leaves counted by the workflow").isEqualTo(leaves);
        softly.assertThat(byLeaf.keySet()).as("leaves dispatched or reported").isEqualTo(
                leafEntries.stream().map(LedgerEntry::path).collect(Collectors.toCollection(TreeSet::new)));

        // Every dispatched attempt ended exactly once, ran at most once, and only dispatched attempts ran.
        for (Attempt a : attempts.values()) {
            softly.assertThat(a.task).as("task of %s (usage of an attempt never dispatched?)", a).isNotNull();
            softly.assertThat(a.tasksPublished).as("tasks published for %s", a).isLessThanOrEqualTo(1);
            softly.assertThat(a.outcome).as("outcome of %s (its final event is missing: lost for good)", a).isNotNull();
            softly.assertThat(a.normalFinalSeqs).as("non-lost final events of %s", a).hasSizeLessThanOrEqualTo(1);
            softly.assertThat(a.stepWorkers).as("workers that executed %s", a).hasSizeLessThanOrEqualTo(1);
            if (a.task != null && a.task.grant() != null && a.task.grant().maxTokens() != null) {
                softly.assertThat(a.accepted.totalTokens()).as("reported spend of %s within its grant", a)
                        .isLessThanOrEqualTo(a.task.grant().maxTokens());
            }
        }
        // Attempts of a leaf are numbered 1..n, and every attempt but the last ended in a way that is retried.
        byLeaf.forEach((leaf, list) -> {
            for (int i = 0; i < list.size(); i++) {
                Attempt a = list.get(i);
                softly.assertThat(a.key.attempt()).as("attempt numbers of %s", leaf).isEqualTo(i + 1);
                if (i < list.size() - 1) {
                    softly.assertThat(a.outcome).as("outcome of %s, retried", a).isIn(Status.LOST, Status.FAILED, Status.CANCELLED);
                }
            }
        });

        // The coordinator's books equal this account, per leaf and in total.
        for (LedgerEntry e : leafEntries) {
            softly.assertThat(e.spent().totalTokens()).as("spent tokens of leaf %s (receipt) vs. its attempts %s", e.path(),
                    byLeaf.get(e.path())).isEqualTo(chargedTokens(e.path()));
            List<Attempt> list = byLeaf.getOrDefault(e.path(), List.of());
            if (!list.isEmpty() && list.get(list.size() - 1).outcome == Status.SUCCEEDED) {
                softly.assertThat(e.status()).as("status of %s, whose last attempt succeeded", e.path()).isEqualTo(Status.SUCCEEDED);
            }
        }
        softly.assertThat(workflow.spent().totalTokens()).as("workflow spent tokens (receipt) vs. the account: %s", ctx)
                .isEqualTo(chargedTokens());
        softly.assertThat(workflow.spent().steps()).as("workflow spent steps (receipt)").isEqualTo(chargedSteps());
        LedgerEntry ledgerWorkflow = ledger.get(FaultRuns.WORKFLOW);
        softly.assertThat(ledgerWorkflow).as("the workflow's entry on the ledger topic").isNotNull();
        if (ledgerWorkflow != null) {
            softly.assertThat(ledgerWorkflow.spent()).as("workflow spent on the ledger topic vs. the receipt").isEqualTo(workflow.spent());
            softly.assertThat(ledgerWorkflow.status()).as("workflow status on the ledger topic").isEqualTo(receipt.status());
        }

        // No node spent beyond its limit; nothing is still reserved.
        for (LedgerEntry e : receipt.nodes()) {
            if (e.limits() != null && e.limits().maxTokens() != null) {
                softly.assertThat(e.spent().totalTokens()).as("spent of %s within its max_tokens", e.path())
                        .isLessThanOrEqualTo(e.limits().maxTokens());
            }
            if (e.reserved() != null) {
                softly.assertThat(e.reserved().tokens()).as("tokens still reserved at %s after the run", e.path()).isZero();
            }
            softly.assertThat(e.overshoot()).as("overshoot of %s", e.path()).isZero();
        }
        softly.assertAll();
    }

    /**
     * A run that met faults against the same submission run without any: a leaf no fault touched spent exactly
     * what it spent then; a touched leaf that still succeeded spent that plus the grants of its lost attempts; so
     * the totals differ by exactly what was charged for dead attempts.
     */
    void assertAgainstCrashFree(Receipt receipt, RunAudit crashFree, Receipt crashFreeReceipt) {
        SoftAssertions softly = new SoftAssertions();
        Map<String, LedgerEntry> faulty = leafEntries(receipt);
        Map<String, LedgerEntry> clean = leafEntries(crashFreeReceipt);
        softly.assertThat(faulty.keySet()).as("leaves of the two runs").isEqualTo(clean.keySet());
        Set<String> touched = touchedLeaves();
        long expectedDifference = 0;
        for (Map.Entry<String, LedgerEntry> e : clean.entrySet()) {
            String leaf = e.getKey();
            LedgerEntry mine = faulty.get(leaf);
            if (mine == null) {
                continue;
            }
            if (!touched.contains(leaf)) {
                softly.assertThat(mine.spent()).as("spend of %s, untouched by the faults, vs. the crash-free run", leaf)
                        .isEqualTo(e.getValue().spent());
                softly.assertThat(mine.status()).as("status of %s, untouched, vs. the crash-free run", leaf).isEqualTo(e.getValue().status());
                continue;
            }
            long clean0 = e.getValue().spent().totalTokens();
            long expected = lostCharges(leaf) + (succeeded(leaf) ? clean0 : 0);
            softly.assertThat(mine.spent().totalTokens()).as("spend of %s (attempts %s) = its lost grants %s + %s", leaf,
                    byLeaf.get(leaf), lostCharges(leaf), succeeded(leaf) ? "its crash-free spend " + clean0 : "nothing more")
                    .isEqualTo(expected);
            expectedDifference += expected - clean0;
        }
        long total = workflowSpent(receipt).totalTokens();
        long cleanTotal = workflowSpent(crashFreeReceipt).totalTokens();
        softly.assertThat(total - cleanTotal).as("tokens spent beyond the crash-free run (%s vs %s): what dead attempts were charged, %s",
                total, cleanTotal, summary()).isEqualTo(expectedDifference);
        if (touched.stream().allMatch(this::succeeded)) {
            softly.assertThat(total - cleanTotal).as("every touched leaf succeeded: the difference is the lost charges")
                    .isEqualTo(lostCharges());
        }
        softly.assertAll();
    }

    /** The same books as a crash-free run: every leaf's spend and status, and the totals, identical. */
    static void assertSameAccount(Receipt receipt, Receipt crashFreeReceipt) {
        SoftAssertions softly = new SoftAssertions();
        Map<String, LedgerEntry> faulty = leafEntries(receipt);
        Map<String, LedgerEntry> clean = leafEntries(crashFreeReceipt);
        softly.assertThat(faulty.keySet()).as("leaves of the two runs").isEqualTo(clean.keySet());
        clean.forEach((leaf, e) -> {
            LedgerEntry mine = faulty.get(leaf);
            if (mine != null) {
                softly.assertThat(mine.spent()).as("spend of %s vs. the crash-free run", leaf).isEqualTo(e.spent());
                softly.assertThat(mine.status()).as("status of %s vs. the crash-free run (%s)", leaf, mine.reason()).isEqualTo(e.status());
            }
        });
        softly.assertThat(workflowSpent(receipt)).as("workflow spend vs. the crash-free run").isEqualTo(workflowSpent(crashFreeReceipt));
        softly.assertThat(receipt.status()).as("run status vs. the crash-free run").isEqualTo(crashFreeReceipt.status());
        softly.assertAll();
    }

    static Usage workflowSpent(Receipt receipt) {
        return receipt.nodes().stream().filter(e -> FaultRuns.WORKFLOW.equals(e.path())).findFirst()
                .orElseThrow(() -> new AssertionError("no workflow entry in the receipt of " + receipt.runId())).spent();
    }

    private static Map<String, LedgerEntry> leafEntries(Receipt receipt) {
        Map<String, LedgerEntry> m = new HashMap<>();
        for (LedgerEntry e : receipt.nodes()) {
            if ("leaf".equals(e.kind())) {
                m.put(e.path(), e);
            }
        }
        return m;
    }
}
