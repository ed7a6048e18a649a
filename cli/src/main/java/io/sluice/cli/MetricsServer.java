package io.sluice.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The Prometheus scrape endpoint of a coordinator or worker process: {@code GET /metrics} serves the process's
 * Micrometer registry in the Prometheus text format; {@code /health} answers 200 while the process serves at all,
 * {@code /ready} 200 once its service runs ({@link #readiness}), else 503.
 */
final class MetricsServer implements AutoCloseable {

    private final PrometheusMeterRegistry registry;
    private final JvmGcMetrics gc;
    private final HttpServer server;
    private volatile java.util.function.BooleanSupplier ready = () -> false;

    private MetricsServer(PrometheusMeterRegistry registry, JvmGcMetrics gc, HttpServer server) {
        this.registry = registry;
        this.gc = gc;
        this.server = server;
    }

    /**
     * A registry with JVM meters and {@code sluice_build_info{role, version, java}} = 1, served on {@code port}: 0 = any
     * free port, negative = not served.
     *
     * @param role what the process is: coordinator or worker
     * @throws UncheckedIOException when it cannot listen there
     */
    static MetricsServer start(String bindAddress, int port, String role) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Gauge.builder("sluice.build.info", () -> 1).description("1, tagged with what this process is and runs")
                .tags("role", role, "version", SluiceCommand.Version.number(), "java", Runtime.version().toString())
                .register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        HttpServer server = null;
        if (port >= 0) {
            try {
                server = HttpServer.create(new InetSocketAddress(bindAddress, port), 0);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot serve metrics on " + bindAddress + ":" + port, e);
            }
            server.createContext("/metrics", exchange -> {
                byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream os = exchange.getResponseBody()) {
                    os.write(body);
                }
            });
        }
        MetricsServer metrics = new MetricsServer(registry, gc, server);
        if (server != null) {
            server.createContext("/health", exchange -> metrics.answer(exchange, true));
            server.createContext("/ready", exchange -> metrics.answer(exchange, metrics.ready.getAsBoolean()));
            server.start();
        }
        return metrics;
    }

    private void answer(com.sun.net.httpserver.HttpExchange exchange, boolean ok) throws IOException {
        byte[] body = (ok ? "ok\n" : "not ready\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(ok ? 200 : 503, body.length);
        try (OutputStream os = exchange.getResponseBody()) {
            os.write(body);
        }
    }

    /** What {@code /ready} answers: true once the process's service runs. */
    void readiness(java.util.function.BooleanSupplier isReady) {
        this.ready = isReady;
    }

    /** Where it serves, e.g. {@code http://127.0.0.1:9404/metrics}; null when not served. */
    String url() {
        if (server == null) {
            return null;
        }
        InetSocketAddress a = server.getAddress();
        return "http://" + a.getHostString() + ":" + a.getPort() + "/metrics";
    }

    PrometheusMeterRegistry registry() {
        return registry;
    }

    @Override
    public void close() {
        if (server != null) {
            server.stop(0);
        }
        gc.close();
        registry.close();
    }
}
