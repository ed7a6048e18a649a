package io.sluice.coordinator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.sluice.schemas.Branch;
import io.sluice.schemas.Budget;
import io.sluice.schemas.Grant;
import io.sluice.schemas.Halt;
import io.sluice.schemas.Leaf;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Node;
import io.sluice.schemas.NodePaths;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Reservation;
import io.sluice.schemas.Status;
import io.sluice.schemas.Usage;
import io.sluice.schemas.Workflow;

/**
 * The ledger's promises, checked from the outside (through {@link RunLedger#entry} and the decisions) after every
 * call of a {@link WorkerSim}, and once more at the end of the run.
 */
final class LedgerInvariants implements WorkerSim.Observer {

    /** A workflow or branch as the test sees it. */
    static final class Group {
        final String path;
        final Budget budget;
        final Group parent;
        final Long leafMaxTokens;
        final List<Group> childGroups = new ArrayList<>();
        final List<String> leafChildren = new ArrayList<>();
        /** Children paths in document order (groups and leaf copies). */
        final List<String> children = new ArrayList<>();
        long totalLeaves;

        Group(String path, Budget budget, Group parent, Long ownLeafMaxTokens) {
            this.path = path;
            this.budget = budget;
            this.parent = parent;
            this.leafMaxTokens = ownLeafMaxTokens != null ? ownLeafMaxTokens : parent == null ? null : parent.leafMaxTokens;
        }

        Long deadline() {
            return budget.timeoutMs() == null ? null : WorkerSim.START + budget.timeoutMs();
        }
    }

    private final Mode mode;
    private final LedgerConfig config;
    private final int receiptLeafLimit;
    final List<Group> groups = new ArrayList<>();
    final Map<String, Group> groupsByPath = new LinkedHashMap<>();
    final Map<String, Leaf> leaves = new HashMap<>();
    private final Map<String, Status> terminalSeen = new HashMap<>();
    /** Leaf paths whose terminal entry was published. */
    private final Set<String> leafEndsPublished = new HashSet<>();
    private boolean wasTerminal;
    private long totalLeaves;

    LedgerInvariants(Workflow wf, Mode mode, LedgerConfig config) {
        this.mode = mode;
        this.config = config;
        this.receiptLeafLimit = config.receiptLeafLimit();
        Branch root = wf.asBranch();
        add(new Group(root.id(), root.budget(), null, root.leafMaxTokens()), root.nodes());
    }

    private long add(Group g, List<Node> nodes) {
        groups.add(g);
        groupsByPath.put(g.path, g);
        long below = 0;
        for (Node n : nodes) {
            String path = NodePaths.child(g.path, n.id());
            if (n instanceof Branch b) {
                Group child = new Group(path, b.budget(), g, b.leafMaxTokens());
                g.childGroups.add(child);
                g.children.add(path);
                below += add(child, b.nodes());
            } else {
                Leaf leaf = (Leaf) n;
                for (int i = 0; i < leaf.copies(); i++) {
                    String leafPath = NodePaths.child(g.path, NodePaths.copy(leaf.id(), i, leaf.copies()));
                    leaves.put(leafPath, leaf);
                    g.leafChildren.add(leafPath);
                    g.children.add(leafPath);
                    below++;
                    totalLeaves++;
                }
            }
        }
        g.totalLeaves = below;
        return below;
    }

    private static long[] amounts(Usage u) {
        return new long[] {u.totalTokens(), u.inputTokens(), u.outputTokens(), u.steps()};
    }

    private static long[] amounts(Reservation r) {
        return new long[] {r.tokens(), r.inputTokens(), r.outputTokens(), r.steps()};
    }

    private static Long[] limits(Budget b) {
        return new Long[] {b.maxTokens(), b.maxInputTokens(), b.maxOutputTokens(), b.maxSteps()};
    }

    private static Long[] grantOf(Grant g) {
        return new Long[] {g.maxTokens(), g.maxInputTokens(), g.maxOutputTokens(), g.maxSteps()};
    }

    @Override
    public void afterCall(String call, Decisions d, WorkerSim sim) {
        RunLedger ledger = sim.ledger;
        String at = "after " + call + " at " + sim.now;

        // entries: each node at most once per call, and equal to the ledger's current view of it
        Set<String> seen = new HashSet<>();
        for (LedgerEntry e : d.entries()) {
            assertThat(seen.add(e.path())).as("%s: entry of %s twice in one call", at, e.path()).isTrue();
            assertThat(e.status()).as("%s: status of %s", at, e.path()).isNotEqualTo(Status.LOST);
            if (groupsByPath.containsKey(e.path())) {
                assertThat(e).as("%s: published entry of %s", at, e.path()).isEqualTo(ledger.entry(e.path()));
            } else if (e.status().isTerminal()) {
                assertThat(leafEndsPublished.add(e.path())).as("%s: leaf %s ended twice", at, e.path()).isTrue();
                assertThat(sim.running).as("%s: %s ended while in flight", at, e.path())
                        .noneMatch(a -> a.task.path().equals(e.path()));
                assertThat(e.fold()).as("%s: fold of ended %s", at, e.path()).isNull();
            } else {
                // in flight or between attempts: published as the ledger shows it at the end of the call
                assertThat(e.status()).as("%s: leaf entry %s", at, e).isIn(Status.RUNNING, Status.PENDING);
                assertThat(e).as("%s: published entry of %s", at, e.path()).isEqualTo(ledger.entry(e.path()));
                assertThat(leafEndsPublished).as("%s: %s published after it ended", at, e.path()).doesNotContain(e.path());
                boolean inFlight = sim.running.stream().anyMatch(a -> a.task.path().equals(e.path()));
                assertThat(inFlight).as("%s: %s published as %s", at, e.path(), e.status().wire())
                        .isEqualTo(e.status() == Status.RUNNING);
            }
        }
        for (LeafTask t : d.tasks()) {
            assertThat(d.entries()).as("%s: entry of dispatched %s", at, t.path())
                    .anyMatch(e -> e.path().equals(t.path()) && e.status() == Status.RUNNING && e.attempt() == t.attempt()
                            && e.grant().equals(t.grant()) && e.lastSeq() == 0);
        }
        Set<String> halted = new HashSet<>();
        for (Halt h : sim.halts) {
            assertThat(halted.add(h.path())).as("%s: halted twice: %s", at, h.path()).isTrue();
            assertThat(h.status()).isIn(Status.CANCELLED, Status.TIMED_OUT);
        }

        for (Group g : groups) {
            LedgerEntry e = ledger.entry(g.path);
            long[] spent = amounts(e.spent());
            long[] reserved = amounts(e.reserved());
            Long[] limit = limits(g.budget);
            for (int i = 0; i < 4; i++) {
                assertThat(reserved[i]).as("%s: reserved[%d] at %s", at, i, g.path).isGreaterThanOrEqualTo(0);
                assertThat(spent[i]).as("%s: spent[%d] at %s", at, i, g.path).isGreaterThanOrEqualTo(0);
                if (mode == Mode.STRICT && limit[i] != null) {
                    assertThat(spent[i] + reserved[i]).as("%s: S + R ≤ L for dimension %d at %s (%s)", at, i, g.path, e)
                            .isLessThanOrEqualTo(limit[i]);
                }
            }
            long expectedOvershoot = g.budget.maxTokens() == null ? 0 : Math.max(0, spent[0] - g.budget.maxTokens());
            assertThat(e.overshoot()).as("%s: overshoot at %s", at, g.path).isEqualTo(expectedOvershoot);
            if (expectedOvershoot > 0) {
                assertThat(e.reason()).as("%s: reason of %s", at, g.path).contains("overshoot " + expectedOvershoot);
            }
            assertThat(e.leaves().values().stream().mapToLong(Long::longValue).sum())
                    .as("%s: leaves counted at %s: %s", at, g.path, e.leaves()).isEqualTo(g.totalLeaves);
            int inFlight = sim.runningBelow(g.path);
            assertThat(e.leaves().getOrDefault(Status.RUNNING, 0L)).as("%s: running at %s", at, g.path).isEqualTo(inFlight);
            if (g.budget.maxParallel() != null) {
                assertThat(inFlight).as("%s: max_parallel at %s", at, g.path).isLessThanOrEqualTo(g.budget.maxParallel());
            }
            Status before = terminalSeen.get(g.path);
            if (before != null) {
                assertThat(e.status()).as("%s: %s ended twice", at, g.path).isEqualTo(before);
            } else if (e.status().isTerminal()) {
                terminalSeen.put(g.path, e.status());
                assertThat(e.leaves()).as("%s: %s ended with leaves unfinished", at, g.path)
                        .doesNotContainKeys(Status.PENDING, Status.RUNNING);
                assertThat(e.reason()).as("%s: reason of %s", at, g.path).isNotBlank();
            }
        }

        for (WorkerSim.Attempt a : sim.running) {
            String path = a.task.path();
            LedgerEntry e = ledger.entry(path);
            assertThat(e).as("%s: entry of running %s", at, path).isNotNull();
            assertThat(e.status()).isEqualTo(Status.RUNNING);
            long[] reserved = amounts(e.reserved());
            long[] accepted = {a.accepted[0] + a.accepted[1], a.accepted[0], a.accepted[1], a.accepted[2]};
            Long[] grant = grantOf(a.task.grant());
            for (int i = 0; i < 4; i++) {
                long expected = grant[i] == null ? 0 : Math.max(0, grant[i] - accepted[i]);
                assertThat(reserved[i]).as("%s: reserved[%d] of %s = its grant less its usage", at, i, path)
                        .isEqualTo(expected);
            }
            long[] owed = sim.charged.getOrDefault(path, new long[3]);
            assertThat(e.spent()).as("%s: spent of %s = all its attempts' charges", at, path)
                    .isEqualTo(new Usage(owed[0], owed[1], owed[2]));
        }

        for (LeafTask t : d.tasks()) {
            checkTask(at, t, sim);
        }

        boolean terminal = ledger.isTerminal();
        assertThat(d.receipt() != null).as("%s: receipt exactly in the call the run ended", at).isEqualTo(terminal && !wasTerminal);
        wasTerminal = terminal;
    }

    private void checkTask(String at, LeafTask t, WorkerSim sim) {
        Leaf def = leaves.get(t.path());
        if (def != null) {
            int maxAttempts = def.maxAttempts() == null ? config.maxAttempts() : def.maxAttempts();
            assertThat(t.attempt()).as("%s: attempt of %s within max_attempts", at, t.path()).isBetween(1, maxAttempts);
        }
        if (t.attempt() > 1) {
            // a retry: not before the backoff after its previous attempt ended
            long[] ended = sim.lastFinalAt.get(t.path());
            assertThat(ended).as("%s: %s retried without a final event", at, t.path()).isNotNull();
            assertThat(ended[1]).isEqualTo(t.attempt() - 1);
            assertThat(sim.lastFinal.get(t.path())).as("%s: retried after", at)
                    .isIn(Status.FAILED, Status.LOST, Status.CANCELLED);
            long capped = RetryBackoff.cappedMs(config.baseBackoff().toMillis(), config.maxBackoff().toMillis(),
                    t.attempt() - 1);
            assertThat(t.dispatchedAtMs()).as("%s: retry %s too early", at, t.path())
                    .isGreaterThanOrEqualTo(ended[0] + capped / 2)
                    .isGreaterThanOrEqualTo(ended[0] + RetryBackoff.delayMs(config, sim.ledger.runId(), t.path(), t.attempt() - 1));
        }
        for (Halt h : sim.halts) {
            assertThat(h.covers(t.path())).as("%s: %s dispatched below halted %s", at, t.path(), h.path()).isFalse();
        }
        Leaf leaf = leaves.get(t.path());
        assertThat(leaf).as("%s: unknown task path %s", at, t.path()).isNotNull();
        Group parent = groupsByPath.get(NodePaths.parent(t.path()));
        Long[] grant = grantOf(t.grant());
        Long[] own = limits(leaf.budget());
        for (int i = 0; i < 4; i++) {
            boolean limitedAbove = false;
            for (Group a = parent; a != null; a = a.parent) {
                Long limit = limits(a.budget)[i];
                limitedAbove |= limit != null;
                if (mode == Mode.OPTIMISTIC && limit != null) {
                    long spent = amounts(sim.ledger.entry(a.path).spent())[i];
                    assertThat(spent).as("%s: %s dispatched although %s spent %d of %d", at, t.path(), a.path, spent, limit)
                            .isLessThan(limit);
                }
            }
            if (own[i] != null) {
                assertThat(grant[i]).as("%s: grant of %s within its own limit", at, t.path()).isNotNull().isLessThanOrEqualTo(own[i]);
            }
            if (mode == Mode.STRICT) {
                boolean limited = limitedAbove || own[i] != null || (i == 0 && parent.leafMaxTokens != null);
                if (limited) {
                    assertThat(grant[i]).as("%s: grant[%d] of %s", at, i, t.path()).isNotNull().isGreaterThanOrEqualTo(1);
                } else {
                    assertThat(grant[i]).as("%s: grant[%d] of %s (nobody limits it)", at, i, t.path()).isNull();
                }
            }
        }
        for (Group a = parent; a != null; a = a.parent) {
            if (a.deadline() != null) {
                assertThat(t.deadlineMs()).as("%s: deadline of %s", at, t.path()).isNotNull().isLessThanOrEqualTo(a.deadline());
            }
        }
        if (leaf.budget().timeoutMs() != null) {
            assertThat(t.deadlineMs()).isNotNull().isLessThanOrEqualTo(t.dispatchedAtMs() + leaf.budget().timeoutMs());
        }
    }

    /** What must hold once the run is over. */
    void checkEnd(WorkerSim sim) {
        RunLedger ledger = sim.ledger;
        assertThat(ledger.isTerminal()).isTrue();
        assertThat(sim.receipts).as("receipts published").isEqualTo(1);
        assertThat(ledger.duplicatesIgnored() + ledger.rejectedEvents()).as("duplicates ignored or refused")
                .isEqualTo(sim.duplicatesSent);
        Receipt receipt = ledger.receipt();
        LedgerEntry root = ledger.entry(groups.get(0).path);
        assertThat(receipt.status()).isEqualTo(root.status());
        assertThat(receipt.reason()).isEqualTo(root.reason());
        boolean listsLeaves = totalLeaves <= receiptLeafLimit;
        assertThat(receipt.nodes()).hasSize(groups.size() + (listsLeaves ? (int) totalLeaves : 0));

        Map<String, LedgerEntry> byPath = new HashMap<>();
        for (LedgerEntry e : receipt.nodes()) {
            assertThat(byPath.put(e.path(), e)).as("receipt lists %s twice", e.path()).isNull();
            assertThat(e.status().isTerminal()).as("receipt entry %s", e).isTrue();
            assertThat(e.reserved()).isEqualTo(Reservation.ZERO);
        }
        Map<String, Status> haltedAs = new HashMap<>();
        for (Halt h : sim.halts) {
            haltedAs.put(h.path(), h.status() == Status.TIMED_OUT ? Status.TIMED_OUT : Status.BUDGET_EXCEEDED);
        }
        for (Group g : groups) {
            LedgerEntry e = ledger.entry(g.path);
            assertThat(byPath.get(g.path)).isEqualTo(e);
            assertThat(e.leaves()).doesNotContainKeys(Status.PENDING, Status.RUNNING);
            long[] spent = new long[3];
            for (Map.Entry<String, long[]> u : sim.charged.entrySet()) {
                if (u.getKey().startsWith(g.path + "/")) {
                    for (int i = 0; i < 3; i++) {
                        spent[i] += u.getValue()[i];
                    }
                }
            }
            assertThat(e.spent()).as("spent at %s = all usage emitted below it (lost attempts: their charge)", g.path)
                    .isEqualTo(new Usage(spent[0], spent[1], spent[2]));
            if (haltedAs.containsKey(g.path)) {
                assertThat(e.status()).as("status of halted %s", g.path).isEqualTo(haltedAs.get(g.path));
            } else if (listsLeaves) {
                Status worst = Status.SUCCEEDED;
                for (String child : g.children) {
                    worst = Status.worse(worst, byPath.get(child).status());
                }
                assertThat(e.status()).as("status of %s = worst of its children", g.path).isEqualTo(worst);
            }
        }
        if (listsLeaves) {
            assertThat(leafEndsPublished).as("leaves whose end was published").hasSize((int) totalLeaves);
            for (String path : leaves.keySet()) {
                LedgerEntry e = byPath.get(path);
                long[] u = sim.charged.getOrDefault(path, new long[3]);
                assertThat(e.spent()).as("spent of leaf %s", path).isEqualTo(new Usage(u[0], u[1], u[2]));
                Grant g = sim.grants.get(path);
                Long ownMax = leaves.get(path).budget().maxTokens();
                int tries = sim.attempts.getOrDefault(path, 0);
                if (g == null) {
                    assertThat(e.status()).as("never dispatched %s", path).isIn(Status.CANCELLED, Status.BUDGET_EXCEEDED);
                } else if (mode == Mode.STRICT && ownMax != null) {
                    assertThat(e.spent().totalTokens()).as("spent of %s within its own max_tokens over all attempts", path)
                            .isLessThanOrEqualTo(ownMax);
                } else if (mode == Mode.STRICT && tries == 1 && g.maxTokens() != null) {
                    assertThat(e.spent().totalTokens()).as("spent of %s within its grant", path).isLessThanOrEqualTo(g.maxTokens());
                }
                if (tries > 1) {
                    assertThat(e.reason()).as("reason of %s names its attempts", path)
                            .containsAnyOf("after " + tries + " attempts", "attempt " + tries + " ");
                }
            }
        }
    }
}
