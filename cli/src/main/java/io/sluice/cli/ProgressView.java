package io.sluice.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;

import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Status;

/**
 * Live progress of a run on the terminal, fed by ledger entries as the coordinator commits them: one bar per
 * branch directly under the workflow (and one for the workflow), tokens spent against the limit, leaves done.
 *
 * <p>On a terminal it redraws in place; otherwise (a pipe, CI) it prints a snapshot at most once a second.
 */
final class ProgressView {

    private static final int BAR = 28;

    private final PrintWriter out;
    private final boolean tty;
    private final Map<String, LedgerEntry> nodes = new LinkedHashMap<>();
    private String rootPath;
    private int linesDrawn;
    private long lastDrawMs;

    ProgressView(PrintWriter out, boolean tty) {
        this.out = out;
        this.tty = tty;
    }

    void accept(LedgerEntry entry) {
        if ("leaf".equals(entry.kind())) {
            return;
        }
        if ("workflow".equals(entry.kind())) {
            rootPath = entry.path();
        }
        nodes.put(entry.path(), entry);
    }

    /** Redraws when due; {@code force} draws now (the final frame). */
    void draw(boolean force) {
        long now = System.currentTimeMillis();
        if (!force && now - lastDrawMs < (tty ? 100 : 1000)) {
            return;
        }
        lastDrawMs = now;
        if (rootPath == null) {
            return;
        }
        StringBuilder sb = new StringBuilder();
        if (tty && linesDrawn > 0) {
            sb.append("\u001b[").append(linesDrawn).append('F'); // cursor up to the first line drawn
        }
        int lines = 0;
        for (LedgerEntry e : nodes.values()) {
            boolean top = e.path().equals(rootPath) || rootPath.equals(parent(e.path()));
            if (!top) {
                continue;
            }
            sb.append(line(e));
            sb.append(tty ? "\u001b[K\n" : "\n");
            lines++;
        }
        if (!tty) {
            sb.append('\n');
        }
        linesDrawn = lines;
        out.print(sb);
        out.flush();
    }

    private static String parent(String path) {
        int i = path.lastIndexOf('/');
        return i < 0 ? null : path.substring(0, i);
    }

    private static String line(LedgerEntry e) {
        Long limit = e.limits() == null ? null : e.limits().maxTokens();
        long spent = e.spent().totalTokens();
        long reserved = e.reserved() == null ? 0 : e.reserved().tokens();
        double frac = limit == null || limit == 0 ? 0 : Math.min(1.0, (double) spent / limit);
        double resFrac = limit == null || limit == 0 ? 0 : Math.min(1.0 - frac, (double) reserved / limit);
        int full = (int) Math.round(frac * BAR);
        int res = Math.min(BAR - full, (int) Math.round(resFrac * BAR));
        String bar = "█".repeat(full) + "▒".repeat(res) + "·".repeat(BAR - full - res);
        long total = e.leaves().values().stream().mapToLong(Long::longValue).sum();
        long done = e.leaves().entrySet().stream().filter(x -> x.getKey().isTerminal()).mapToLong(Map.Entry::getValue).sum();
        long running = e.leaves().getOrDefault(Status.RUNNING, 0L);
        String name = e.path().contains("/") ? e.path().substring(e.path().lastIndexOf('/') + 1) : e.path();
        return String.format("%-14s [%s] %8d / %-8s leaves %4d/%-4d running %3d  %s", name, bar, spent,
                limit == null ? "-" : Long.toString(limit), done, total, running, e.status().wire());
    }
}
