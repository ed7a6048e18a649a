package io.sluice.cli.bench;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Every parameter of one {@code sluice bench} run, validated once (each section's record checks its own, naming the
 * command-line option), and recorded with the results.
 *
 * @param bootstrapServers the cluster to use, or null for an embedded broker
 * @param sections         the sections to run, in report order
 * @param runTimeout       longest wait for any run's receipt but the scale run's
 */
record BenchConfig(String bootstrapServers, List<SectionName> sections, Duration runTimeout,
                   BaselineSection.Params baseline, ThroughputSection.Params throughput, HaltSection.Params halt,
                   OvershootSection.Params overshoot, ScaleSection.Params scale, FoldSection.Params fold,
                   IdleSection.Params idle, ProviderSection.Params provider) {

    static final String DEFAULT_RUN_TIMEOUT = "PT10M";

    BenchConfig {
        if (sections == null || sections.isEmpty()) {
            throw new IllegalArgumentException("--sections: give at least one section");
        }
        sections = List.copyOf(new java.util.TreeSet<>(sections)); // report order, each once
        OptionChecks.range("--run-timeout", runTimeout, Duration.ofSeconds(5), Duration.ofDays(1));
        Objects.requireNonNull(baseline, "baseline");
        Objects.requireNonNull(throughput, "throughput");
        Objects.requireNonNull(halt, "halt");
        Objects.requireNonNull(overshoot, "overshoot");
        Objects.requireNonNull(scale, "scale");
        Objects.requireNonNull(fold, "fold");
        Objects.requireNonNull(idle, "idle");
        Objects.requireNonNull(provider, "provider");
    }

    boolean runs(SectionName s) {
        return sections.contains(s);
    }
}
