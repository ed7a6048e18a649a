package io.sluice.cli;

import picocli.CommandLine.Option;

/** Where a long-running process serves its Prometheus metrics. */
final class MetricsOptions {

    @Option(names = "--metrics-port", description = "Prometheus endpoint port, 0 = off (default ${DEFAULT-VALUE})", defaultValue = "9404")
    int port;

    @Option(names = "--metrics-bind", description = "Prometheus endpoint address (default ${DEFAULT-VALUE})", defaultValue = "0.0.0.0")
    String bind;

    MetricsServer start() {
        return MetricsServer.start(bind, port);
    }
}
