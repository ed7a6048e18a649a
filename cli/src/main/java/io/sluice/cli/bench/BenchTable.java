package io.sluice.cli.bench;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Prints a bench report as one table, a row per figure, the sections in report order: section, figure, value, unit
 * and how it was obtained; a failed section prints its error in the value column. Only formatting lives here; what
 * each section shows is its {@link SectionResult#figures()}.
 */
final class BenchTable {

    private BenchTable() {
    }

    static void print(BenchReport report, PrintWriter out) {
        BenchMeta m = report.meta();
        out.printf("sluice bench — commit %s%s, %s, %d cores, Java %s, %s broker at %s, %.0f s%n%n", m.commit(),
                Boolean.TRUE.equals(m.dirty()) ? " (uncommitted changes)" : "", m.startedAt(), m.machine().cores(),
                m.machine().javaVersion(), m.broker().embedded() ? "embedded" : "external", m.broker().bootstrapServers(),
                m.seconds());
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"section", "figure", "value", "unit", "how"});
        for (Map.Entry<String, BenchReport.SectionOutcome> e : report.sections().entrySet()) {
            BenchReport.SectionOutcome o = e.getValue();
            if (o.result() == null) {
                rows.add(new String[] {e.getKey(), "ERROR", o.error(), "", ""});
                continue;
            }
            String section = e.getKey();
            for (Figure f : o.result().figures()) {
                rows.add(new String[] {section, f.label(), value(f.value()), f.unit() == null ? "" : f.unit(),
                        f.note() == null ? "" : f.note()});
                section = "";
            }
        }
        int[] width = new int[4];
        for (String[] r : rows) {
            for (int i = 0; i < width.length; i++) {
                width[i] = Math.max(width[i], Math.min(r[i].length(), i == 2 ? 40 : 60));
            }
        }
        for (String[] r : rows) {
            out.printf("%-" + width[0] + "s  %-" + width[1] + "s  %" + width[2] + "s  %-" + width[3] + "s  %s%n",
                    r[0], r[1], r[2], r[3], r[4]);
        }
        out.flush();
    }

    private static String value(Object v) {
        if (v == null) {
            return "n/a";
        }
        if (v instanceof Number n) {
            return number(n.doubleValue());
        }
        return v.toString();
    }

    /** A figure for reading: thousands grouped, three significant digits below 100. */
    static String number(Double v) {
        if (v == null) {
            return "n/a";
        }
        double a = Math.abs(v);
        if (a >= 100 || v == Math.rint(v)) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        if (a >= 1) {
            return String.format(Locale.ROOT, "%.2f", v);
        }
        return String.format(Locale.ROOT, "%.3g", v);
    }

    /** A ratio with four decimals (0.0123). */
    static String ratio(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }
}
