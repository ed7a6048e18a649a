package io.sluice.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import io.sluice.schemas.Budget;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Reservation;
import io.sluice.schemas.Status;
import io.sluice.schemas.Usage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;

/** The receipt as a person reads it, and the check behind the demo's exit code. No broker. */
class ReceiptPrinterTest {

    private static final String HALT = "audit/scan: max_tokens 600 exhausted (spent 560, remaining 40)";

    @Test
    void shouldRenderOneRowPerWorkflowAndBranchWithSpendAgainstLimitAndReason() {
        // given
        Receipt receipt = auditReceipt();

        // when
        String table = render(receipt, false);

        // then
        assertThat(table).contains("Run audit-42 (strict): BUDGET_EXCEEDED", "  " + HALT);
        assertThat(table).contains("finished in 1.25 s");
        assertThat(table).contains("NODE", "STATUS", "TOKENS SPENT/LIMIT", "WHY");
        assertThat(table).contains("760 / 1000", "560 / 600", "200 / -");
        // columns: node, status, spent / limit, steps, then leaves ok, budget, fail, cancel, time ('.' for none)
        assertThat(row(table, "audit ")).containsExactly(
                "audit", "budget_exceeded", "760", "/", "1000", "5", "3", "1", ".", "3", ".",
                "audit/scan:", "max_tokens", "600", "exhausted", "(spent", "560,", "remaining", "40)");
        assertThat(row(table, "  scan ")).containsExactly(
                "scan", "budget_exceeded", "560", "/", "600", "4", "2", "1", ".", "3", ".",
                "audit/scan:", "max_tokens", "600", "exhausted", "(spent", "560,", "remaining", "40)");
        assertThat(row(table, "  notes ")).containsExactly(
                "notes", "succeeded", "200", "/", "-", "1", "1", ".", ".", ".", ".", "all", "1", "leaves", "succeeded");
        assertThat(table).doesNotContain("readme");
        assertThat(table).endsWith(String.format("%nOvershoot beyond any max_tokens: 0 tokens%n"));
    }

    @Test
    void shouldListLeavesIndentedUnderTheirBranchWhenAsked() {
        // given
        Receipt receipt = auditReceipt();

        // when
        String table = render(receipt, true);

        // then
        assertThat(row(table, "    readme ")).containsExactly(
                "readme", "succeeded", "200", "/", "300", "1", "1", ".", ".", ".", ".");
        assertThat(row(table, "    lint ")).containsExactly(
                "lint", "budget_exceeded", "0", "/", "400", "0", ".", "1", ".", ".", ".", "not", "admitted:", "grant",
                "400", ">", "remaining", "40", "at", "audit/scan", "(max_tokens)");
    }

    @Test
    void shouldReportTheLargestOvershootOfAnyNode() {
        // given: optimistic mode, the branch overran by 75 and the workflow by nothing
        String halt = "r/b: max_tokens 500 exhausted (spent 575, overshoot 75)";
        LedgerEntry branch = entry(Mode.OPTIMISTIC, "r/b", "branch", Status.BUDGET_EXCEEDED, halt, Budget.ofTokens(500),
                new Usage(400, 175, 3), Map.of(Status.SUCCEEDED, 2L), 75);
        LedgerEntry root = entry(Mode.OPTIMISTIC, "r", "workflow", Status.BUDGET_EXCEEDED, halt,
                Budget.ofTokens(10_000), new Usage(400, 175, 3), Map.of(Status.SUCCEEDED, 2L), 0);
        Receipt receipt = new Receipt("r-1", Mode.OPTIMISTIC, Status.BUDGET_EXCEEDED, halt, 0, 10,
                List.of(root, branch));

        // when
        String table = render(receipt, false);

        // then
        assertThat(table).contains("Run r-1 (optimistic): BUDGET_EXCEEDED", "575 / 500");
        assertThat(table).endsWith(String.format("%nOvershoot beyond any max_tokens: 75 tokens%n"));
        assertThat(ReceiptPrinter.withinBudget(receipt)).isFalse();
    }

    @Test
    void shouldPrintOnlyTheReasonOfARejectedRun() {
        // given
        String errors = "workflow.budget.max_tokens: must be ≥ 0, got -5";
        Receipt receipt = new Receipt("bad-1", null, Status.REJECTED, errors, 0, 0, List.of());

        // when
        String table = render(receipt, false);

        // then
        assertThat(table).isEqualTo(String.format("%nRun bad-1 (-): REJECTED%n  " + errors + "%n"));
        assertThat(ReceiptPrinter.withinBudget(receipt)).isTrue();
    }

    @Test
    void shouldBeWithinBudgetWhenEveryNodeSpentAtMostItsLimits() {
        assertThat(ReceiptPrinter.withinBudget(auditReceipt())).isTrue();
    }

    static Stream<Arguments> limitsOneUnitBelowTheSpend() {
        Usage spent = new Usage(300, 100, 4); // 400 tokens
        return Stream.of(
                Arguments.of("max_tokens", new Budget(399L, null, null, null, null, null), spent),
                Arguments.of("max_input_tokens", new Budget(null, 299L, null, null, null, null), spent),
                Arguments.of("max_output_tokens", new Budget(null, null, 99L, null, null, null), spent),
                Arguments.of("max_steps", new Budget(null, null, null, 3L, null, null), spent));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("limitsOneUnitBelowTheSpend")
    void shouldNotBeWithinBudgetWhenANodeSpentBeyondOneOfItsLimits(String dimension, Budget limits, Usage spent) {
        // given: a leaf deep in an otherwise sound receipt
        LedgerEntry over = entry("audit/scan/readme", "leaf", Status.SUCCEEDED, null, limits, spent,
                Map.of(Status.SUCCEEDED, 1L), 0);
        Receipt receipt = withNode(auditReceipt(), over);

        // when / then
        assertThat(ReceiptPrinter.withinBudget(receipt)).as(dimension).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("limitsOneUnitBelowTheSpend")
    void shouldBeWithinBudgetWhenANodeSpentExactlyItsLimit(String dimension, Budget limits, Usage spent) {
        // given: the same limits one unit wider, i.e. equal to the spend
        Budget exact = new Budget(plusOne(limits.maxTokens()), plusOne(limits.maxInputTokens()),
                plusOne(limits.maxOutputTokens()), plusOne(limits.maxSteps()), null, null);
        LedgerEntry atLimit = entry("audit/scan/readme", "leaf", Status.SUCCEEDED, null, exact, spent,
                Map.of(Status.SUCCEEDED, 1L), 0);

        // when / then
        assertThat(ReceiptPrinter.withinBudget(withNode(auditReceipt(), atLimit))).as(dimension).isTrue();
    }

    /**
     * A strict run whose "scan" branch ran out: two leaves succeeded, one was not admitted, three were cancelled;
     * a second branch "notes" has no limits of its own; a leaf with no limits entry at all is skipped by the check.
     */
    private static Receipt auditReceipt() {
        Map<Status, Long> scanLeaves = Map.of(Status.SUCCEEDED, 2L, Status.BUDGET_EXCEEDED, 1L, Status.CANCELLED, 3L);
        Map<Status, Long> allLeaves = Map.of(Status.SUCCEEDED, 3L, Status.BUDGET_EXCEEDED, 1L, Status.CANCELLED, 3L);
        return new Receipt("audit-42", Mode.STRICT, Status.BUDGET_EXCEEDED, HALT, 1_000, 2_250, List.of(
                entry("audit", "workflow", Status.BUDGET_EXCEEDED, HALT,
                        new Budget(1000L, null, null, null, 60_000L, 4), new Usage(500, 260, 5), allLeaves, 0),
                entry("audit/scan", "branch", Status.BUDGET_EXCEEDED, HALT, Budget.ofTokens(600),
                        new Usage(380, 180, 4), scanLeaves, 0),
                entry("audit/scan/readme", "leaf", Status.SUCCEEDED, null, new Budget(300L, null, null, 3L, null, null),
                        new Usage(120, 80, 1), Map.of(Status.SUCCEEDED, 1L), 0),
                entry("audit/scan/deps", "leaf", Status.SUCCEEDED, null, new Budget(400L, null, null, 3L, null, null),
                        new Usage(260, 100, 3), Map.of(Status.SUCCEEDED, 1L), 0),
                entry("audit/scan/lint", "leaf", Status.BUDGET_EXCEEDED,
                        "not admitted: grant 400 > remaining 40 at audit/scan (max_tokens)", Budget.ofTokens(400),
                        Usage.ZERO, Map.of(Status.BUDGET_EXCEEDED, 1L), 0),
                entry("audit/notes", "branch", Status.SUCCEEDED, "all 1 leaves succeeded", Budget.NONE,
                        new Usage(120, 80, 1), Map.of(Status.SUCCEEDED, 1L), 0),
                entry("audit/notes/draft", "leaf", Status.SUCCEEDED, null, null, new Usage(120, 80, 1),
                        Map.of(Status.SUCCEEDED, 1L), 0)));
    }

    private static Receipt withNode(Receipt receipt, LedgerEntry replacement) {
        List<LedgerEntry> nodes = receipt.nodes().stream()
                .map(e -> e.path().equals(replacement.path()) ? replacement : e)
                .toList();
        return new Receipt(receipt.runId(), receipt.mode(), receipt.status(), receipt.reason(), receipt.startedAtMs(),
                receipt.finishedAtMs(), nodes);
    }

    /** A node of a strict run. */
    private static LedgerEntry entry(String path, String kind, Status status, String reason, Budget limits, Usage spent,
                                     Map<Status, Long> leaves, long overshoot) {
        return entry(Mode.STRICT, path, kind, status, reason, limits, spent, leaves, overshoot);
    }

    private static LedgerEntry entry(Mode mode, String path, String kind, Status status, String reason, Budget limits,
                                     Usage spent, Map<Status, Long> leaves, long overshoot) {
        return new LedgerEntry("run", path, kind, mode, status, reason, limits, Reservation.ZERO, spent, leaves,
                overshoot, 0);
    }

    private static Long plusOne(Long v) {
        return v == null ? null : v + 1;
    }

    private static String render(Receipt receipt, boolean withLeaves) {
        StringWriter text = new StringWriter();
        ReceiptPrinter.print(receipt, new PrintWriter(text, true), withLeaves);
        return text.toString();
    }

    /** The whitespace-separated cells of the one line that starts with {@code prefix}. */
    private static List<String> row(String table, String prefix) {
        List<String> lines = table.lines().filter(l -> l.startsWith(prefix)).toList();
        assertThat(lines).as("rows starting with '%s' in%n%s", prefix, table).hasSize(1);
        return List.of(lines.get(0).trim().split("\\s+"));
    }
}
