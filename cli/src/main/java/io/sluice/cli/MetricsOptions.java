package io.sluice.cli;

import java.io.UncheckedIOException;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * Where a long-running process serves Prometheus ({@code /metrics}) and its probes ({@code /health},
 * {@code /ready}). Loopback by default, so that nothing is exposed unless asked; each command has its own default
 * port, so that a coordinator and workers on one host never collide: a coordinator 9404, a worker any free port
 * (printed).
 */
final class MetricsOptions {

    static final String COORDINATOR_DEFAULT = "9404";
    static final String WORKER_DEFAULT = "auto";

    @Option(names = "--metrics-port", paramLabel = "PORT|auto|off", description = "Prometheus endpoint (and /health, "
            + "/ready): a port, auto for any free one (printed), or off; default 9404 for a coordinator, auto for a worker")
    String port;

    @Option(names = "--metrics-bind", paramLabel = "ADDRESS", description = "Address the endpoint listens on "
            + "(default ${DEFAULT-VALUE}; 0.0.0.0 for every interface)", defaultValue = "127.0.0.1")
    String bind;

    /**
     * Starts the endpoint.
     *
     * @throws CommandLine.ParameterException (one line, exit 2) for a port that is no port, or cannot be listened on
     */
    MetricsServer start(CommandLine commandLine, String defaultPort, String role) {
        int number = portNumber(commandLine, defaultPort);
        String p = port == null ? defaultPort : port.trim();
        try {
            return MetricsServer.start(bind, number, role);
        } catch (UncheckedIOException e) {
            throw new CommandLine.ParameterException(commandLine, "--metrics-port " + p + ": cannot listen on " + bind + ":"
                    + Math.max(number, 0) + " (" + e.getCause().getMessage() + "); choose another port, auto or off");
        }
    }

    /**
     * The port to listen on: 0 for any free one, -1 for none.
     *
     * @throws CommandLine.ParameterException (one line, exit 2) for a value that is no port
     */
    int portNumber(CommandLine commandLine, String defaultPort) {
        String p = port == null ? defaultPort : port.trim();
        int number;
        if (p.equals("off") || p.equals("0")) {
            number = -1;
        } else if (p.equals("auto")) {
            number = 0;
        } else {
            try {
                number = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                number = -2;
            }
            if (number < 1 || number > 65_535) {
                throw new CommandLine.ParameterException(commandLine,
                        "--metrics-port: must be 1..65535, auto or off, got '" + p + "'");
            }
        }
        return number;
    }
}
