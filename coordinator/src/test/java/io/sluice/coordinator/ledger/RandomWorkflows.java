package io.sluice.coordinator.ledger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;

import io.sluice.schemas.Branch;
import io.sluice.schemas.Budget;
import io.sluice.schemas.Leaf;
import io.sluice.schemas.Node;
import io.sluice.schemas.Share;
import io.sluice.schemas.Workflow;

/**
 * Random workflows for property tests: depth ≤ 4, fan-out ≤ 6, repeat ≤ 50, optional budgets on every node,
 * optional {@code max_attempts} (1–4) on leaves, {@code share: even} on a third of the nodes whose children are all
 * branches. The
 * raw trees are then made valid the way schema validation demands — ids unique among siblings, every limit
 * narrowed to the tightest ancestor's — and kept small enough (≤ {@link #MAX_NODES} nodes, ≤ {@link #MAX_LEAVES}
 * leaves) for hundreds of tries per property.
 */
final class RandomWorkflows {

    static final int MAX_NODES = 60;
    static final int MAX_LEAVES = 400;

    private RandomWorkflows() {
    }

    static Arbitrary<Workflow> workflows() {
        return branch(3, 1).map(b -> normalize(new Workflow("w", b.budget(), b.leafMaxTokens(), b.nodes(), b.share())));
    }

    /** Workflows whose root shares its budget evenly among 2–6 branches (and so may nodes below). */
    static Arbitrary<Workflow> sharedWorkflows() {
        Arbitrary<List<Node>> branches = branch(2, 1).map(b -> (Node) b).list().ofMinSize(2).ofMaxSize(6);
        return Combinators.combine(groupBudgets(), optional(1, 1500, 0.7), branches)
                .as((b, leafMax, nodes) -> normalize(new Workflow("w", b, leafMax, nodes, Share.EVEN)));
    }

    /**
     * Ledger configurations: any margin and last-chance fraction, mostly the default receipt leaf limit (sometimes
     * one small enough for runs without leaf-level receipts), 1–4 attempts, backoffs from none to a few seconds,
     * mostly the default run cap and dispatch chunk (sometimes so small that runs wait for slots and dispatch over
     * several calls).
     */
    static Arbitrary<LedgerConfig> configs() {
        return Combinators.combine(
                        Arbitraries.doubles().between(1.0, 3.0),
                        Arbitraries.doubles().between(0.01, 1.0),
                        Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(LedgerConfig.DEFAULT_RECEIPT_LEAF_LIMIT)),
                                Tuple.of(1, Arbitraries.integers().between(0, 60))),
                        Arbitraries.integers().between(1, 4),
                        Arbitraries.longs().between(0, 300),
                        Arbitraries.longs().between(0, 2000),
                        Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(LedgerConfig.DEFAULT_RUN_MAX_PARALLEL)),
                                Tuple.of(1, Arbitraries.integers().between(1, 6))),
                        Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(LedgerConfig.DEFAULT_MAX_DISPATCH_PER_CALL)),
                                Tuple.of(1, Arbitraries.integers().between(1, 3))))
                .as((margin, fraction, receiptLimit, maxAttempts, baseMs, extraMs, cap, chunk) -> new LedgerConfig(margin,
                        fraction, receiptLimit, maxAttempts, Duration.ofMillis(baseMs), Duration.ofMillis(baseMs + extraMs),
                        cap, chunk, LedgerConfig.DEFAULT_ABANDON_GRACE, Duration.ZERO)); // simulated workers send no heartbeats
    }

    /**
     * The same trees with roomier limits (tokens ×20 + 50, steps ×10 + 5, timeouts ×5 + 100 ms): runs that last
     * longer, with more attempts in flight, learned estimates and retries, and fewer halts at the start.
     */
    static Workflow roomier(Workflow wf) {
        return new Workflow(wf.id(), roomier(wf.budget()), wf.leafMaxTokens() == null ? null : wf.leafMaxTokens() * 20,
                wf.nodes().stream().map(RandomWorkflows::roomier).toList(), wf.share());
    }

    private static Node roomier(Node n) {
        if (n instanceof Branch b) {
            return new Branch(b.id(), roomier(b.budget()), b.leafMaxTokens() == null ? null : b.leafMaxTokens() * 20,
                    b.nodes().stream().map(RandomWorkflows::roomier).toList(), b.share());
        }
        Leaf l = (Leaf) n;
        return new Leaf(l.id(), roomier(l.budget()), l.executor(), l.input(), l.repeat(), l.maxAttempts());
    }

    /** Scales every limit alike, so a child still only narrows its ancestors. */
    private static Budget roomier(Budget b) {
        return new Budget(scaled(b.maxTokens(), 20, 50), scaled(b.maxInputTokens(), 20, 50),
                scaled(b.maxOutputTokens(), 20, 50), scaled(b.maxSteps(), 10, 5), scaled(b.timeoutMs(), 5, 100),
                b.maxParallel());
    }

    private static Long scaled(Long v, long times, long plus) {
        return v == null ? null : v * times + plus;
    }

    /** Needs per leaf, derived from a seed and the leaf's path so a run can be replayed. */
    static WorkerSim.Need need(long seed, String path) {
        Random r = new Random(seed * 31 + path.hashCode());
        long in = r.nextInt(5) == 0 ? 0 : r.nextInt(250);
        long out = r.nextInt(5) == 0 ? 0 : r.nextInt(120);
        return new WorkerSim.Need(in, out, 1 + r.nextInt(4), r.nextInt(12) == 0);
    }

    private static Arbitrary<Long> optional(long min, long max, double nullRate) {
        return Arbitraries.longs().between(min, max).injectNull(nullRate);
    }

    private static Arbitrary<Budget> groupBudgets() {
        return Combinators.combine(optional(0, 3000, 0.5), optional(0, 2000, 0.8), optional(0, 800, 0.8),
                        optional(0, 20, 0.75), optional(0, 4000, 0.85), Arbitraries.integers().between(1, 5).injectNull(0.5))
                .as(Budget::new);
    }

    private static Arbitrary<Budget> leafBudgets() {
        return Combinators.combine(optional(0, 800, 0.7), optional(0, 500, 0.9), optional(0, 300, 0.9),
                        optional(0, 6, 0.85), optional(0, 600, 0.85))
                .as((t, in, out, steps, timeout) -> new Budget(t, in, out, steps, timeout, null));
    }

    private static Arbitrary<Node> leaf() {
        Arbitrary<Integer> repeat = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.just(1)), Tuple.of(4, Arbitraries.integers().between(2, 10)),
                Tuple.of(2, Arbitraries.integers().between(11, 50)));
        Arbitrary<Integer> maxAttempts = Arbitraries.integers().between(1, 4).injectNull(0.6);
        return Combinators.combine(leafBudgets(), repeat, maxAttempts)
                .as((b, n, tries) -> (Node) new Leaf("l", b, "simulated", null, n, tries));
    }

    private static Arbitrary<Branch> branch(int depth, int minChildren) {
        Arbitrary<Node> child = depth == 0 ? leaf() : Arbitraries.frequencyOf(
                Tuple.of(3, leaf()), Tuple.of(2, Arbitraries.lazy(() -> branch(depth - 1, 0).map(b -> (Node) b))));
        Arbitrary<List<Node>> children = child.list().ofMinSize(minChildren).ofMaxSize(6)
                .withSizeDistribution(RandomDistribution.uniform());
        Arbitrary<Share> share = Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(Share.DOCUMENT)),
                Tuple.of(1, Arbitraries.just(Share.EVEN)));
        return Combinators.combine(groupBudgets(), optional(1, 1500, 0.7), children, share)
                .as((b, leafMax, nodes, s) -> new Branch("b", b, leafMax, nodes, s));
    }

    // ------------------------------------------------------------------------------ validity and size

    private static final class Counter {
        int nodes = 1;
        int leaves;
    }

    static Workflow normalize(Workflow raw) {
        Counter c = new Counter();
        Budget root = narrow(raw.budget(), Budget.NONE);
        Long leafMax = narrowLeafMax(raw.leafMaxTokens(), root.maxTokens());
        List<Node> nodes = children(raw.nodes(), root, c);
        return new Workflow("w", root, leafMax, nodes, share(raw.share(), nodes));
    }

    private static List<Node> children(List<Node> nodes, Budget inForce, Counter c) {
        List<Node> out = new ArrayList<>();
        for (int i = 0; i < nodes.size() && c.nodes < MAX_NODES && c.leaves < MAX_LEAVES; i++) {
            Node n = nodes.get(i);
            c.nodes++;
            Budget b = narrow(n.budget(), inForce);
            if (n instanceof Branch br) {
                Budget below = tightest(b, inForce);
                List<Node> below2 = children(br.nodes(), below, c);
                out.add(new Branch("b" + i, b, narrowLeafMax(br.leafMaxTokens(), below.maxTokens()), below2,
                        share(br.share(), below2)));
            } else {
                Leaf leaf = (Leaf) n;
                int repeat = Math.min(leaf.copies(), MAX_LEAVES - c.leaves);
                c.leaves += repeat;
                out.add(new Leaf("l" + i, b, leaf.executor(), leaf.input(), repeat, leaf.maxAttempts()));
            }
        }
        return out;
    }

    /** Even shares only where every child is a branch, as validation demands. */
    private static Share share(Share wanted, List<Node> children) {
        return wanted == Share.EVEN && !children.isEmpty() && children.stream().allMatch(n -> n instanceof Branch)
                ? Share.EVEN : null;
    }

    /** A budget whose every limit is no wider than the one in force above it; input/output within its own tokens. */
    private static Budget narrow(Budget b, Budget inForce) {
        Long tokens = min(b.maxTokens(), inForce.maxTokens());
        return new Budget(tokens, min(min(b.maxInputTokens(), inForce.maxInputTokens()), tokens),
                min(min(b.maxOutputTokens(), inForce.maxOutputTokens()), tokens), min(b.maxSteps(), inForce.maxSteps()),
                min(b.timeoutMs(), inForce.timeoutMs()),
                b.maxParallel() == null || inForce.maxParallel() == null ? b.maxParallel()
                        : Integer.valueOf(Math.min(b.maxParallel(), inForce.maxParallel())));
    }

    private static Budget tightest(Budget own, Budget inForce) {
        return new Budget(or(own.maxTokens(), inForce.maxTokens()), or(own.maxInputTokens(), inForce.maxInputTokens()),
                or(own.maxOutputTokens(), inForce.maxOutputTokens()), or(own.maxSteps(), inForce.maxSteps()),
                or(own.timeoutMs(), inForce.timeoutMs()), own.maxParallel() != null ? own.maxParallel() : inForce.maxParallel());
    }

    private static Long narrowLeafMax(Long leafMax, Long tokensInForce) {
        return leafMax == null || tokensInForce == null ? leafMax : Long.valueOf(Math.min(leafMax, Math.max(1, tokensInForce)));
    }

    /** The smaller of a node's own value and the one in force; null (no own limit) stays null. */
    private static Long min(Long own, Long inForce) {
        return own == null || inForce == null ? own : Long.valueOf(Math.min(own, inForce));
    }

    private static Long or(Long own, Long inForce) {
        return own != null ? own : inForce;
    }
}
