package io.sluice.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** What the commands about one run ({@code status}, {@code watch}, {@code cancel}) take: the run, and its cluster. */
final class RunTarget {

    @Parameters(index = "0", paramLabel = "RUN", description = "The run id")
    String runId;

    @Mixin
    ConnectionOptions connection;
}
