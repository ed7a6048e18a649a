package io.sluice.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.sluice.schemas.Budget;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;

/** Renders a {@link Receipt} as a table a person reads: one row per node, what it was allowed, spent, and why it ended. */
final class ReceiptPrinter {

    private ReceiptPrinter() {
    }

    static void print(Receipt receipt, PrintWriter out, boolean withLeaves) {
        out.printf("%nRun %s (%s): %s%n", receipt.runId(), receipt.mode() == null ? "-" : receipt.mode().wire(),
                receipt.status().wire().toUpperCase());
        if (receipt.reason() != null) {
            out.println("  " + receipt.reason());
        }
        if (receipt.nodes().isEmpty()) {
            return;
        }
        long elapsed = receipt.finishedAtMs() - receipt.startedAtMs();
        out.printf(Locale.ROOT, "  finished in %.2f s%n%n", elapsed / 1000.0);
        table(receipt.nodes(), out, withLeaves);
    }

    /** A run still going, from its latest ledger entries: the same table, headed by its state now. */
    static void printProgress(String runId, java.util.Collection<LedgerEntry> entries, PrintWriter out, boolean withLeaves) {
        LedgerEntry root = entries.stream().filter(e -> !e.path().contains("/")).findFirst().orElse(null);
        out.printf("%nRun %s (%s): %s%n", runId, root == null || root.mode() == null ? "-" : root.mode().wire(),
                root == null ? "PENDING" : root.status().wire().toUpperCase());
        if (root != null) {
            out.printf(Locale.ROOT, "  last ledger update %.1f s ago%n%n", (System.currentTimeMillis() - root.updatedAtMs()) / 1000.0);
        }
        table(List.copyOf(entries), out, withLeaves);
    }

    private static void table(List<LedgerEntry> nodes, PrintWriter out, boolean withLeaves) {
        String header = String.format("%-34s %-16s %21s %7s %6s %6s %6s %6s %6s  %s", "NODE", "STATUS", "TOKENS SPENT/LIMIT",
                "STEPS", "OK", "BUDGET", "FAIL", "CANCEL", "TIME", "WHY");
        out.println(header);
        out.println("-".repeat(header.length()));
        for (LedgerEntry e : nodes) {
            if ("leaf".equals(e.kind()) && !withLeaves) {
                continue;
            }
            Map<Status, Long> leaves = e.leaves();
            out.printf("%-34s %-16s %21s %7d %6s %6s %6s %6s %6s  %s%n",
                    indent(e.path()), e.status().wire(), tokens(e), e.spent().steps(),
                    count(leaves, Status.SUCCEEDED), count(leaves, Status.BUDGET_EXCEEDED), count(leaves, Status.FAILED),
                    count(leaves, Status.CANCELLED), count(leaves, Status.TIMED_OUT),
                    e.reason() == null ? "" : e.reason());
        }
        long overshoot = nodes.stream().mapToLong(LedgerEntry::overshoot).max().orElse(0);
        out.printf("%nOvershoot beyond any max_tokens: %d tokens%n", overshoot);
        boolean priced = nodes.stream().anyMatch(e -> e.spent().costMicrousd() > 0
                || e.limits() != null && e.limits().maxCostMicrousd() != null);
        if (priced) {
            out.println();
            out.printf("%-34s %25s%n", "NODE", "COST SPENT/LIMIT (µUSD)");
            for (LedgerEntry e : nodes) {
                if (!"leaf".equals(e.kind()) || withLeaves) {
                    Long limit = e.limits() == null ? null : e.limits().maxCostMicrousd();
                    out.printf("%-34s %25s%n", indent(e.path()), e.spent().costMicrousd() + " / " + (limit == null ? "-" : limit));
                }
            }
        }
    }

    static boolean withinBudget(Receipt receipt) {
        for (LedgerEntry e : receipt.nodes()) {
            Budget l = e.limits();
            if (l == null) {
                continue;
            }
            if (exceeds(e.spent().totalTokens(), l.maxTokens()) || exceeds(e.spent().inputTokens(), l.maxInputTokens())
                    || exceeds(e.spent().outputTokens(), l.maxOutputTokens()) || exceeds(e.spent().steps(), l.maxSteps())
                    || exceeds(e.spent().costMicrousd(), l.maxCostMicrousd())) {
                return false;
            }
        }
        return true;
    }

    private static boolean exceeds(long spent, Long limit) {
        return limit != null && spent > limit;
    }

    private static String tokens(LedgerEntry e) {
        Long limit = e.limits() == null ? null : e.limits().maxTokens();
        return e.spent().totalTokens() + " / " + (limit == null ? "-" : limit);
    }

    private static String count(Map<Status, Long> leaves, Status s) {
        Long n = leaves.get(s);
        return n == null || n == 0 ? "." : Long.toString(n);
    }

    private static String indent(String path) {
        List<String> parts = List.of(path.split("/"));
        String name = parts.get(parts.size() - 1);
        String s = "  ".repeat(parts.size() - 1) + name;
        return s.length() > 34 ? s.substring(0, 33) + "…" : s;
    }
}
