package io.sluice.cli;

import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.Callable;

import io.sluice.worker.Worker;
import io.sluice.worker.WorkerConfig;
import io.sluice.worker.execute.ExecutorRegistry;
import io.sluice.worker.openai.EndpointConfig;
import io.sluice.worker.openai.ExecutorConfigFile;
import io.sluice.worker.openai.OpenAiExecutor;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sluice worker}: a stateless worker process; start more to scale. */
@Command(name = "worker", mixinStandardHelpOptions = true, description = "Runs a worker until terminated (SIGTERM drains it).")
final class WorkerCommand implements Callable<Integer> {

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--worker-id", defaultValue = "${env:SLUICE_WORKER_ID}", description = "Identity in usage events "
            + "and heartbeats, unique per process (default: $SLUICE_WORKER_ID, else the name and a random suffix)")
    String workerId;

    @Option(names = "--worker-name", defaultValue = "${env:SLUICE_WORKER_NAME}", description = "What its meters are "
            + "tagged with (worker=NAME), the same across restarts (default: $SLUICE_WORKER_NAME, else the host name)")
    String workerName;

    @Option(names = "--concurrency", description = "Leaves run at once (default ${DEFAULT-VALUE})", defaultValue = "64")
    int concurrency;

    @Option(names = "--executor-config", paramLabel = "FILE", description = "JSON file of named OpenAI-compatible "
            + "endpoints, each an executor of its name (one called openai replaces the built-in one, which reads "
            + "OPENAI_BASE_URL and OPENAI_API_KEY); see the README")
    Path executorConfig;

    @Mixin
    MetricsOptions metricsOptions;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String bootstrap = connection.requireBootstrap(spec.commandLine());
        String name = workerName != null && !workerName.isBlank() ? workerName.trim() : HostName.orElse("worker"); // a container's name is stable across its restarts
        String id = workerId != null && !workerId.isBlank() ? workerId.trim()
                : name + "-" + UUID.randomUUID().toString().substring(0, 8);
        ExecutorRegistry executors = executors();
        // Every option is checked before the cluster is asked: a bad value is said at once.
        WorkerConfig config = WorkerConfig.of(bootstrap, id).withName(name).withConcurrency(concurrency)
                .withClientProperties(connection.clientProperties());
        metricsOptions.portNumber(spec.commandLine(), MetricsOptions.WORKER_DEFAULT);
        connection.requireReachable(bootstrap);
        MetricsServer metrics = metricsOptions.start(spec.commandLine(), MetricsOptions.WORKER_DEFAULT, "worker");
        Worker worker = new Worker(config, executors, metrics.registry());
        worker.start();
        metrics.readiness(() -> worker.state() == Worker.State.RUNNING);
        System.out.println("worker " + id + " running against " + bootstrap + " (" + concurrency + " at once)"
                + (metrics.url() == null ? "" : "; metrics on " + metrics.url() + ", tagged worker=" + name));
        ProcessLifetime.runUntilTerminated(() -> {
            worker.close();
            metrics.close();
        }, worker.terminated());
        // Failed on its own (a lane or the halt watcher stopped): exit non-zero so that a supervisor restarts it.
        return worker.state() == Worker.State.FAILED ? Exit.SERVICE_FAILED : Exit.OK;
    }

    /** The built-in executors, and those the configuration file names; a bad file is a usage error (exit 2). */
    private ExecutorRegistry executors() {
        ExecutorRegistry executors = ExecutorRegistry.discover();
        if (executorConfig == null) {
            return executors;
        }
        try {
            for (EndpointConfig endpoint : ExecutorConfigFile.read(executorConfig)) {
                executors = executors.replacing(new OpenAiExecutor(endpoint, System.getenv()));
            }
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--executor-config: " + e.getMessage());
        }
        return executors;
    }
}
