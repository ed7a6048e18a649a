package io.sluice.cli.bench;

import java.util.Map;

/**
 * The whole result of one {@code sluice bench} run, as printed with {@code --json} and recorded under
 * {@code bench/results/}: where and on what it ran, every parameter, and each section's outcome.
 *
 * @param format   version of this document's shape
 * @param sections by section name, in report order
 */
record BenchReport(int format, BenchMeta meta, BenchConfig parameters, Map<String, SectionOutcome> sections) {

    static final int FORMAT = 1;

    /**
     * How one section went.
     *
     * @param status  {@code ok} or {@code error}
     * @param seconds how long it took
     * @param result  its figures when ok
     * @param error   one line when it failed
     */
    record SectionOutcome(String status, double seconds, SectionResult result, String error) {

        static SectionOutcome ok(double seconds, SectionResult result) {
            return new SectionOutcome("ok", seconds, result, null);
        }

        static SectionOutcome failed(double seconds, String error) {
            return new SectionOutcome("error", seconds, null, error);
        }
    }
}
