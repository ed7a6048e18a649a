package io.sluice.cli;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import io.sluice.schemas.Budget;
import io.sluice.schemas.Json;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static io.sluice.cli.CliRun.sluice;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code sluice demo --json} as a user runs it: a real embedded broker, a coordinator and three workers in this
 * JVM run the 550-leaf demo workflow to its receipt. Each test starts and stops its own broker (about 15 s each).
 *
 * <p>The "deep-dive" branch (150 leaves of ~3 000 tokens, a grant of 4 000 each, against 120 000) is sized to run
 * out. Strict mode refuses a leaf only when the branch is idle and has less than half a grant left, so it halts
 * with more than 118 000 spent and nothing beyond the limit; optimistic mode dispatches while spent &lt; limit and
 * overshoots by what the leaves in flight at the crossing go on to spend.
 */
class DemoCommandTest {

    private static final long DEEP_DIVE_MAX_TOKENS = 120_000;

    @Test
    @Timeout(120)
    void shouldHaltTheOverrunningBranchWithinItsBudgetInStrictMode() {
        // given
        CliRun.assumeNoClusterInEnvironment();

        // when
        CliRun run = sluice("demo", "--json");

        // then: exit 0 = the run behaved as budgeted; stdout is the receipt alone, progress went to stderr
        assertThat(run.exitCode()).as(run::toString).isEqualTo(Exit.OK);
        assertThat(run.err()).contains("The run behaved as budgeted");
        Receipt receipt = Json.read(run.out().getBytes(StandardCharsets.UTF_8), Receipt.class);
        assertThat(receipt.mode()).isEqualTo(Mode.STRICT);
        assertThat(receipt.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        Map<String, LedgerEntry> nodes = byPath(receipt);
        assertThat(nodes).containsKeys("demo", "demo/research", "demo/summaries", "demo/deep-dive");

        LedgerEntry demo = nodes.get("demo");
        assertThat(leafCount(demo)).as("leaves under demo: %s", demo.leaves())
                .isGreaterThanOrEqualTo(500)
                .isEqualTo(DemoWorkflow.RESEARCH_LEAVES + DemoWorkflow.SUMMARY_LEAVES + DemoWorkflow.DEEP_DIVE_LEAVES);

        LedgerEntry deepDive = nodes.get("demo/deep-dive");
        long spent = deepDive.spent().totalTokens();
        long limit = deepDive.limits().maxTokens();
        double utilisation = (double) spent / limit;
        System.out.printf("strict deep-dive: %d / %d tokens, utilisation %.4f, leaves %s%n", spent, limit, utilisation,
                deepDive.leaves());
        assertThat(deepDive.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(limit).isEqualTo(DEEP_DIVE_MAX_TOKENS);
        assertThat(spent).isLessThanOrEqualTo(DEEP_DIVE_MAX_TOKENS);
        assertThat(utilisation).isGreaterThanOrEqualTo(0.95);
        assertThat(deepDive.reason()).isEqualTo("demo/deep-dive: max_tokens 120000 exhausted (spent " + spent
                + ", remaining " + (limit - spent) + ")");

        LedgerEntry summaries = nodes.get("demo/summaries");
        assertThat(summaries.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(summaries.leaves()).isEqualTo(Map.of(Status.SUCCEEDED, (long) DemoWorkflow.SUMMARY_LEAVES));

        SoftAssertions softly = new SoftAssertions();
        for (LedgerEntry e : receipt.nodes()) {
            assertSpentWithinLimits(softly, e);
            softly.assertThat(e.overshoot()).as("overshoot of %s", e.path()).isZero();
        }
        softly.assertAll();
        assertThat(ReceiptPrinter.withinBudget(receipt)).isTrue();
    }

    @Test
    @Timeout(120)
    void shouldReportTheOvershootOfTheOverrunningBranchInOptimisticMode() {
        // given
        CliRun.assumeNoClusterInEnvironment();

        // when
        CliRun run = sluice("demo", "--json", "--mode", "optimistic");

        // then: optimistic mode promises to report overshoot, not to prevent it, so the demo still exits 0
        assertThat(run.exitCode()).as(run::toString).isEqualTo(Exit.OK);
        Receipt receipt = Json.read(run.out().getBytes(StandardCharsets.UTF_8), Receipt.class);
        assertThat(receipt.mode()).isEqualTo(Mode.OPTIMISTIC);
        assertThat(receipt.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        Map<String, LedgerEntry> nodes = byPath(receipt);

        // every node reports overshoot = max(0, spent − max_tokens), in its own numbers
        SoftAssertions softly = new SoftAssertions();
        for (LedgerEntry e : receipt.nodes()) {
            Long maxTokens = e.limits() == null ? null : e.limits().maxTokens();
            long expected = maxTokens == null ? 0 : Math.max(0, e.spent().totalTokens() - maxTokens);
            softly.assertThat(e.overshoot()).as("overshoot of %s (spent %d, max_tokens %s)", e.path(),
                    e.spent().totalTokens(), maxTokens).isEqualTo(expected);
        }
        softly.assertAll();

        // deep-dive, and only deep-dive, went beyond its limit: by what its leaves in flight at the crossing spent,
        // at most max_parallel of them, each held to its own max_tokens
        LedgerEntry deepDive = nodes.get("demo/deep-dive");
        long spent = deepDive.spent().totalTokens();
        long overshoot = deepDive.overshoot();
        System.out.printf("optimistic deep-dive: %d / %d tokens, overshoot %d, leaves %s%n", spent,
                deepDive.limits().maxTokens(), overshoot, deepDive.leaves());
        assertThat(deepDive.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(overshoot).isPositive().isEqualTo(spent - DEEP_DIVE_MAX_TOKENS);
        assertThat(deepDive.reason()).isEqualTo("demo/deep-dive: max_tokens 120000 exhausted (spent " + spent
                + ", overshoot " + overshoot + ")");
        long leafMaxTokens = receipt.nodes().stream()
                .filter(e -> e.path().startsWith("demo/deep-dive/"))
                .mapToLong(e -> e.limits().maxTokens())
                .max().orElseThrow();
        assertThat(overshoot).isLessThanOrEqualTo(deepDive.limits().maxParallel() * leafMaxTokens);
        assertThat(receipt.nodes()).filteredOn(e -> e.overshoot() > 0).extracting(LedgerEntry::path)
                .containsExactly("demo/deep-dive");
        assertThat(ReceiptPrinter.withinBudget(receipt)).isFalse();

        LedgerEntry summaries = nodes.get("demo/summaries");
        assertThat(summaries.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(summaries.leaves()).isEqualTo(Map.of(Status.SUCCEEDED, (long) DemoWorkflow.SUMMARY_LEAVES));
    }

    private static void assertSpentWithinLimits(SoftAssertions softly, LedgerEntry e) {
        record Dimension(String field, long spent, Long limit) {
        }
        Budget l = e.limits();
        if (l == null) {
            return;
        }
        for (Dimension d : List.of(
                new Dimension("max_tokens", e.spent().totalTokens(), l.maxTokens()),
                new Dimension("max_input_tokens", e.spent().inputTokens(), l.maxInputTokens()),
                new Dimension("max_output_tokens", e.spent().outputTokens(), l.maxOutputTokens()),
                new Dimension("max_steps", e.spent().steps(), l.maxSteps()))) {
            if (d.limit() != null) {
                softly.assertThat(d.spent()).as("%s spent against its %s", e.path(), d.field())
                        .isLessThanOrEqualTo(d.limit());
            }
        }
    }

    private static Map<String, LedgerEntry> byPath(Receipt receipt) {
        return receipt.nodes().stream().collect(Collectors.toMap(LedgerEntry::path, Function.identity()));
    }

    private static long leafCount(LedgerEntry e) {
        return e.leaves().values().stream().mapToLong(Long::longValue).sum();
    }
}
