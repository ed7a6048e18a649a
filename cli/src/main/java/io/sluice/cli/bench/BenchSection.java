package io.sluice.cli.bench;

/**
 * One section of {@code sluice bench}: it measures one thing on the shared cluster and returns its figures. A section
 * may throw; the runner reports the error and goes on with the next one.
 */
interface BenchSection {

    SectionName name();

    SectionResult run(BenchContext ctx) throws Exception;
}
