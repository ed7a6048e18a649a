package io.sluice.systemtest.fault;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * A Sluice of separate processes for one fault test: a {@code sluice broker} (its own data directory, restartable on
 * the same port), {@code sluice coordinator}s and {@code sluice worker}s, each its own JVM ({@link SluiceProcess}).
 * Processes are killed, terminated and started again by the test; {@link #close()} SIGKILLs whatever still runs,
 * deletes the broker's data and keeps the logs under {@code <workDir>/fault-logs/<test>/}.
 *
 * <p>A JVM shutdown hook kills the processes of clusters not yet closed, so a test JVM that is itself terminated
 * (Failsafe's fork timeout, Ctrl-C) leaves no broker behind. Only a SIGKILLed test JVM can.
 *
 * <p>Thread-safety: driven by the test thread; {@link #close()} may also run from the hook.
 */
final class ProcessCluster implements AutoCloseable {

    static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final String MAIN_CLASS_OF_SLUICE = SluiceProcess.MAIN_CLASS;
    private static final Pattern BOOTSTRAP_LINE = Pattern.compile("^bootstrap\\.servers=(\\S+)");
    private static final Pattern METRICS_URL = Pattern.compile("; metrics on (http://[^\\s,]+)");
    private static final Pattern RUNNING_LINE = Pattern.compile("^(?:coordinator|worker) \\S+ running against ");
    private static final Set<ProcessCluster> OPEN = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> OPEN.forEach(ProcessCluster::close), "sluice-fault-cleanup"));
    }

    private final String testName;
    private final Path logDir;
    private final Path dataDir;
    /** Every process ever started, by name, latest life last: for the logs on failure. */
    private final List<SluiceProcess> started = new ArrayList<>();
    private final Map<String, SluiceProcess> coordinators = new LinkedHashMap<>();
    private final Map<String, SluiceProcess> workers = new LinkedHashMap<>();
    private volatile SluiceProcess broker;
    private String bootstrapServers;
    private int brokerPort;
    private volatile boolean closed;
    /** What coordinators and workers get as {@code --metrics-port}: off unless a test scrapes them. */
    private volatile String metricsPort = "off";
    private volatile boolean secure;
    private volatile boolean tls;

    private ProcessCluster(String testName, Path logDir, Path dataDir) {
        this.testName = testName;
        this.logDir = logDir;
        this.dataDir = dataDir;
    }

    /**
     * An empty cluster for {@code testName}; start the broker first.
     *
     * @param workDir the build directory ({@code target/})
     */
    static ProcessCluster create(String testName, Path workDir) {
        Path logDir = workDir.resolve("fault-logs").resolve(testName);
        Path dataDir = workDir.resolve("fault-data").resolve(testName);
        deleteRecursively(logDir);
        deleteRecursively(dataDir);
        ProcessCluster cluster = new ProcessCluster(testName, logDir, dataDir);
        OPEN.add(cluster);
        return cluster;
    }

    /** {@code target/} of the build: Failsafe passes it as {@code sluice.test.workDir}. */
    static Path defaultWorkDir() {
        return Path.of(System.getProperty("sluice.test.workDir", "target")).toAbsolutePath();
    }

    /** Coordinators and workers started from now on serve metrics on a free loopback port ({@link #metricsUrl}). */
    void serveMetrics() {
        metricsPort = "auto";
    }

    /** Where a process started after {@link #serveMetrics()} serves {@code /metrics}, as it printed it. */
    static String metricsUrl(SluiceProcess p) {
        return p.awaitOutput(METRICS_URL, START_TIMEOUT);
    }

    String testName() {
        return testName;
    }

    Path logDir() {
        return logDir;
    }

    /** The broker's bootstrap servers; the same across restarts. */
    String bootstrapServers() {
        if (bootstrapServers == null) {
            throw new IllegalStateException("the broker was never started");
        }
        return bootstrapServers;
    }

    // ------------------------------------------------------------------------------------------------ broker

    /**
     * Starts {@code sluice broker} (a free port the first time, the same port and data directory after that) and
     * waits until it prints its bootstrap line, i.e. it serves requests and Sluice's topics exist.
     */
    String startBroker() {
        if (broker != null && broker.isAlive()) {
            throw new IllegalStateException("the broker is running: " + broker.describe());
        }
        List<String> args = new ArrayList<>(List.of("broker", "--port", Integer.toString(brokerPort), "--data-dir",
                dataDir.toString()));
        if (secure) {
            args.addAll(List.of("--security", tls ? "scram-tls" : "scram"));
        }
        broker = launch("broker", args);
        String bootstrap = broker.awaitOutput(BOOTSTRAP_LINE, START_TIMEOUT);
        if (bootstrapServers != null && !bootstrapServers.equals(bootstrap)) {
            throw new IllegalStateException("the restarted broker is at " + bootstrap + ", not " + bootstrapServers);
        }
        bootstrapServers = bootstrap;
        brokerPort = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
        return bootstrap;
    }

    /**
     * The broker started from now on authenticates with SASL/SCRAM and authorizes with Sluice's ACLs; coordinators
     * and workers connect as the users {@code coordinator} and {@code worker} ({@link #clientProperties}).
     */
    void secureBroker() {
        secure = true;
    }

    /** {@link #secureBroker()} over TLS: SASL_SSL with a certificate the client properties files trust. */
    void secureBrokerWithTls() {
        secure = true;
        tls = true;
    }

    /** The client properties file the secure broker wrote for {@code user} (admin, coordinator, worker, producer, operator). */
    Path clientProperties(String user) {
        return Path.of(requireBroker().awaitOutput(Pattern.compile("^client\\.properties\\." + Pattern.quote(user) + "=(\\S+)"),
                START_TIMEOUT));
    }

    /** The {@code --command-config} arguments of a coordinator's or worker's process: none for a plaintext broker. */
    private List<String> security(String user) {
        return secure ? List.of("--command-config", clientProperties(user).toString()) : List.of();
    }

    /** SIGKILLs the broker: no flush, no controlled shutdown; its data directory stays for the restart. */
    void killBroker() {
        requireBroker().kill();
    }

    SluiceProcess broker() {
        return requireBroker();
    }

    private SluiceProcess requireBroker() {
        if (broker == null) {
            throw new IllegalStateException("the broker was never started");
        }
        return broker;
    }

    // ------------------------------------------------------------------------------------------- coordinators

    /**
     * Starts {@code sluice coordinator --instance-id <id>} and waits until it runs.
     *
     * @param clientProperties extra Kafka client properties ({@code --client-property}), e.g. a short session timeout
     */
    SluiceProcess startCoordinator(String instanceId, Map<String, String> clientProperties) {
        requireAlive(coordinators, instanceId);
        List<String> args = new ArrayList<>(List.of("coordinator", "-b", bootstrapServers(), "--instance-id", instanceId,
                "--metrics-port", metricsPort));
        clientProperties.forEach((k, v) -> args.addAll(List.of("--client-property", k + "=" + v)));
        args.addAll(security("coordinator"));
        SluiceProcess p = launch("coordinator-" + instanceId, args);
        coordinators.put(instanceId, p);
        p.awaitOutput(RUNNING_LINE, START_TIMEOUT);
        return p;
    }

    /** The coordinator processes started under {@code instanceId}'s name, the latest. */
    SluiceProcess coordinator(String instanceId) {
        SluiceProcess p = coordinators.get(instanceId);
        if (p == null) {
            throw new IllegalArgumentException("no coordinator " + instanceId);
        }
        return p;
    }

    // ------------------------------------------------------------------------------------------------ workers

    /** Starts {@code sluice worker --worker-id <id> --concurrency <n>} and waits until it runs. */
    SluiceProcess startWorker(String workerId, int concurrency) {
        SluiceProcess p = launchWorker(workerId, concurrency);
        p.awaitOutput(RUNNING_LINE, START_TIMEOUT);
        return p;
    }

    /** Starts several workers at once (their JVMs start in parallel) and waits until all of them run. */
    List<SluiceProcess> startWorkers(List<String> workerIds, int concurrency) {
        List<SluiceProcess> launched = workerIds.stream().map(id -> launchWorker(id, concurrency)).toList();
        launched.forEach(p -> p.awaitOutput(RUNNING_LINE, START_TIMEOUT));
        return launched;
    }

    /**
     * Starts a worker without waiting for it: a replacement started in the middle of a run, whose start-up must
     * not hold up the test's watch of the run.
     */
    SluiceProcess launchWorker(String workerId, int concurrency) {
        return launchWorker(workerId, concurrency, Map.of());
    }

    /** {@link #launchWorker(String, int)} with {@code env} added to the worker's environment. */
    SluiceProcess launchWorker(String workerId, int concurrency, Map<String, String> env) {
        requireAlive(workers, workerId);
        List<String> args = new ArrayList<>(List.of("worker", "-b", bootstrapServers(), "--worker-id", workerId,
                "--worker-name", workerId, "--concurrency", Integer.toString(concurrency), "--metrics-port", metricsPort));
        args.addAll(security("worker"));
        SluiceProcess p = launch("worker-" + workerId, MAIN_CLASS_OF_SLUICE, args, env);
        workers.put(workerId, p);
        return p;
    }

    /**
     * Starts another program of the test class path (e.g. the test provider) beside the cluster: its logs are in the
     * report and it is killed with the cluster.
     */
    SluiceProcess startProcess(String name, String mainClass, List<String> args, Map<String, String> env) {
        return launch(name, mainClass, args, env);
    }

    /** Worker ids whose process is alive, in start order. */
    List<String> liveWorkers() {
        return workers.entrySet().stream().filter(e -> e.getValue().isAlive()).map(Map.Entry::getKey).toList();
    }

    SluiceProcess worker(String workerId) {
        SluiceProcess p = workers.get(workerId);
        if (p == null) {
            throw new IllegalArgumentException("no worker " + workerId);
        }
        return p;
    }

    // ---------------------------------------------------------------------------------------------- internals

    private void requireAlive(Map<String, SluiceProcess> byId, String id) {
        if (closed) {
            throw new IllegalStateException("cluster of " + testName + " is closed");
        }
        SluiceProcess existing = byId.get(id);
        if (existing != null && existing.isAlive()) {
            throw new IllegalStateException(id + " is running already: " + existing.describe());
        }
    }

    private SluiceProcess launch(String name, List<String> args) {
        return launch(name, MAIN_CLASS_OF_SLUICE, args, Map.of());
    }

    private synchronized SluiceProcess launch(String name, String mainClass, List<String> args, Map<String, String> env) {
        if (closed) {
            throw new IllegalStateException("cluster of " + testName + " is closed");
        }
        SluiceProcess p = SluiceProcess.start(name, logDir, mainClass, args, env);
        started.add(p);
        return p;
    }

    /**
     * What every process did: its command, state and the last {@code lines} lines of its stdout and stderr (the
     * full files stay in {@link #logDir()}).
     */
    synchronized String logsReport(int lines) {
        StringBuilder sb = new StringBuilder("==== fault-test processes of ").append(testName).append(", logs in ")
                .append(logDir).append('\n');
        for (SluiceProcess p : started) {
            sb.append("---- ").append(p.describe()).append(": ").append(p.commandLine()).append('\n');
            sb.append("-- stdout ").append(p.stdout().getFileName()).append(":\n").append(SluiceProcess.tail(p.stdout(), lines)).append('\n');
            sb.append("-- stderr ").append(p.stderr().getFileName()).append(":\n").append(SluiceProcess.tail(p.stderr(), lines)).append('\n');
        }
        return sb.append("==== end of processes of ").append(testName).append('\n').toString();
    }

    /** A one-line summary of the processes, for progress messages. */
    synchronized String summary() {
        return started.stream().filter(SluiceProcess::isAlive).map(SluiceProcess::describe).toList().toString();
    }

    /** SIGKILLs every process still running (workers, coordinators, then the broker) and deletes the broker's data. */
    @Override
    public void close() {
        List<SluiceProcess> toKill;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toKill = new ArrayList<>(started);
        }
        // Clients first, so that none of them logs a storm of reconnects to a dead broker before it dies itself.
        for (int i = toKill.size() - 1; i >= 0; i--) {
            SluiceProcess p = toKill.get(i);
            if (p != broker) {
                p.kill();
            }
        }
        if (broker != null) {
            broker.kill();
        }
        for (SluiceProcess p : toKill) {
            p.kill(); // earlier lives of the broker, if any is somehow alive
        }
        deleteRecursively(dataDir);
        OPEN.remove(this);
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
