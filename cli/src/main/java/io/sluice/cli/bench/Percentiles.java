package io.sluice.cli.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Nearest-rank percentiles of a sample: p(q) is the smallest value with at least q of the sample at or below it, so
 * every reported figure is one that was measured (with 5 trials, p99 is the largest).
 *
 * @param n     sample size (nulls left out); 0 means no value at all and every figure null
 */
record Percentiles(int n, Double p50, Double p99, Double max, Double mean) {

    static Percentiles of(Collection<? extends Number> values) {
        List<Double> sorted = new ArrayList<>();
        for (Number v : values) {
            if (v != null) {
                sorted.add(v.doubleValue());
            }
        }
        if (sorted.isEmpty()) {
            return new Percentiles(0, null, null, null, null);
        }
        Collections.sort(sorted);
        double sum = 0;
        for (double v : sorted) {
            sum += v;
        }
        return new Percentiles(sorted.size(), rank(sorted, 0.50), rank(sorted, 0.99), sorted.get(sorted.size() - 1),
                sum / sorted.size());
    }

    private static double rank(List<Double> sorted, double q) {
        int index = (int) Math.ceil(q * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    /** "p50 12.0 / p99 31.0" for the table, or "n/a". */
    String describe() {
        if (n == 0) {
            return "n/a";
        }
        return BenchTable.number(Objects.requireNonNull(p50)) + " / " + BenchTable.number(Objects.requireNonNull(p99));
    }
}
