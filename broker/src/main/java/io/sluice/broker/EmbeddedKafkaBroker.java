package io.sluice.broker;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real, single-node Apache Kafka broker (KRaft, combined broker + controller) running inside this JVM.
 *
 * <p>It is the broker behind {@code sluice demo}, {@code sluice broker} and the system tests when no
 * external cluster or Docker engine is available. It binds 127.0.0.1 only, on free ports unless told
 * otherwise, keeps its data under a directory it deletes on {@link #close()} (unless the directory was
 * given by the caller and {@link EmbeddedBrokerConfig#keepData()} is set), enables share groups (KIP-932)
 * with the replication settings a single node needs, and installs a guard so that a fatal broker error can
 * never {@code System.exit} the host JVM: Kafka's {@link Exit} procedures are replaced by ones that throw.
 *
 * <p>Thread-safety: {@link #start} and {@link #close} may be called from any thread; {@code close()} is
 * idempotent.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

    private final KafkaRaftServer server;
    private final Path dataDir;
    private final boolean deleteOnClose;
    private final String bootstrapServers;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EmbeddedKafkaBroker(KafkaRaftServer server, Path dataDir, boolean deleteOnClose, String bootstrapServers) {
        this.server = server;
        this.dataDir = dataDir;
        this.deleteOnClose = deleteOnClose;
        this.bootstrapServers = bootstrapServers;
    }

    /** Starts a broker with default settings: free ports, a temporary data directory. */
    public static EmbeddedKafkaBroker start() {
        return start(EmbeddedBrokerConfig.defaults());
    }

    /**
     * Formats the storage and starts the broker; returns once the broker serves requests.
     *
     * @throws IllegalStateException when the broker cannot start (the cause says why)
     */
    public static EmbeddedKafkaBroker start(EmbeddedBrokerConfig config) {
        installExitGuard();
        Path dir;
        boolean deleteOnClose;
        try {
            if (config.dataDir() == null) {
                dir = Files.createTempDirectory("sluice-kafka-");
                deleteOnClose = true;
            } else {
                dir = Files.createDirectories(config.dataDir());
                deleteOnClose = !config.keepData();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the broker's data directory", e);
        }
        int port = config.port() > 0 ? config.port() : freePort();
        int controllerPort = config.controllerPort() > 0 ? config.controllerPort() : freePort();
        String bootstrap = "127.0.0.1:" + port;
        Properties props = brokerProperties(dir, port, controllerPort);
        if (config.security() != null) {
            props.putAll(config.security().brokerProperties(port, controllerPort));
        }
        props.putAll(config.overrides());
        try {
            Path cfgFile = dir.resolve("server.properties");
            try (var out = Files.newOutputStream(cfgFile)) {
                props.store(out, "sluice embedded broker");
            }
            if (config.security() != null) {
                ownerOnly(cfgFile); // it holds the broker's own password
            }
            // --ignore-formatted lets a kept data dir be reused across restarts of `sluice broker`.
            List<String> format = new ArrayList<>(List.of("format", "-t", clusterId(dir), "-c", cfgFile.toString(),
                    "--ignore-formatted"));
            if (config.security() != null) {
                // SCRAM credentials are metadata: in KRaft they are bootstrapped when the storage is formatted (KIP-900)
                format.addAll(List.of(config.security().formatArguments()));
            }
            StorageTool.execute(format.toArray(String[]::new),
                    new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8));
            KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
            server.startup();
            log.info("embedded Kafka broker ready at {} (data {})", bootstrap, dir);
            return new EmbeddedKafkaBroker(server, dir, deleteOnClose, bootstrap);
        } catch (Exception e) {
            if (deleteOnClose) {
                deleteRecursively(dir);
            }
            throw new IllegalStateException("the embedded Kafka broker failed to start: " + e.getMessage(), e);
        }
    }

    /** The address clients connect to, {@code 127.0.0.1:<port>}. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Where the broker keeps its logs and metadata. */
    public Path dataDir() {
        return dataDir;
    }

    /** Stops the broker, waits for it, and deletes its data unless the caller asked to keep it. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            server.shutdown();
            server.awaitShutdown();
        } catch (RuntimeException e) {
            log.warn("embedded Kafka broker did not shut down cleanly", e);
        } finally {
            if (deleteOnClose) {
                deleteRecursively(dataDir);
            }
        }
    }

    static Properties brokerProperties(Path dir, int port, int controllerPort) {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", dir.resolve("logs").toString());
        // One node: every internal topic must accept replication factor 1, or transactions hang
        // ("awaiting InitProducerId") and share consumers silently receive nothing.
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "5");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "5");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("share.coordinator.state.topic.num.partitions", "5");
        p.put("group.initial.rebalance.delay.ms", "0");
        // Share groups on a development broker: a new worker gets tasks after ~1 s instead of ~5 s (heartbeat),
        // and a SIGKILLed worker's partitions move to live members after 10 s instead of 45 s (session timeout)
        // — until then tasks on partitions only the dead member held wait.
        p.put("group.share.min.heartbeat.interval.ms", "500");
        p.put("group.share.heartbeat.interval.ms", "1000");
        p.put("group.share.min.session.timeout.ms", "6000");
        p.put("group.share.session.timeout.ms", "10000");
        p.put("num.partitions", "1");
        p.put("auto.create.topics.enable", "false");
        // The cleaner's default dedupe buffer is 128 MiB of heap per thread: far too much for a demo broker.
        p.put("log.cleaner.dedupe.buffer.size", "2097152");
        // Compaction that shows within a test run: small segments, eager cleaning.
        p.put("log.cleaner.backoff.ms", "500");
        return p;
    }

    /** Readable by its owner only, where the file system has POSIX permissions. */
    public static void ownerOnly(Path file) throws IOException {
        if (Files.getFileStore(file).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        }
    }

    private static String clusterId(Path dir) {
        Path idFile = dir.resolve("cluster.id");
        try {
            if (Files.exists(idFile)) {
                return Files.readString(idFile).trim();
            }
            String id = Uuid.randomUuid().toString();
            Files.writeString(idFile, id);
            return id;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A free TCP port on the loopback interface. */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on 127.0.0.1", e);
        }
    }

    private static void installExitGuard() {
        Exit.setExitProcedure((status, message) -> {
            throw new BrokerFatalException("Kafka asked to exit the JVM with status " + status + ": " + message);
        });
        Exit.setHaltProcedure((status, message) -> {
            throw new BrokerFatalException("Kafka asked to halt the JVM with status " + status + ": " + message);
        });
    }

    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    log.debug("could not delete {}", p, e);
                }
            });
        } catch (IOException e) {
            log.warn("could not delete the broker data directory {}", dir, e);
        }
    }

    /** Thrown instead of letting Kafka terminate the host JVM. */
    public static final class BrokerFatalException extends RuntimeException {
        BrokerFatalException(String message) {
            super(message);
        }
    }
}
