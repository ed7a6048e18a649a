package io.sluice.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;

import io.sluice.broker.BrokerSecurity;
import io.sluice.broker.EmbeddedBrokerConfig;
import io.sluice.broker.EmbeddedKafkaBroker;
import io.sluice.broker.TlsMaterial;
import io.sluice.schemas.SluiceAcls;
import io.sluice.schemas.TopicAdmin;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sluice broker}: the embedded Kafka broker alone, for coordinators and workers in other processes. */
@Command(name = "broker", mixinStandardHelpOptions = true,
        description = "Runs a single-node Kafka broker (KRaft) on 127.0.0.1 until terminated, with Sluice's topics.")
final class BrokerCommand implements Callable<Integer> {

    /** The file, in the data directory, of the users' generated passwords: reused when a kept broker restarts. */
    static final String USERS_FILE = "sluice-users.properties";

    @Option(names = "--port", description = "Client port (default: a free one)", defaultValue = "0")
    int port;

    @Option(names = "--data-dir", description = "Keep data here across restarts (default: a temporary directory, deleted on exit)")
    Path dataDir;

    @Option(names = "--security", paramLabel = "none|scram|scram-tls", defaultValue = "none", description = "scram: a "
            + "SASL_PLAINTEXT listener (SCRAM-SHA-512), Kafka's StandardAuthorizer, a user per role (admin, coordinator, "
            + "worker, producer, operator; random passwords) with Sluice's ACLs, and a client properties file per "
            + "user in the data directory, printed as client.properties.USER=FILE; scram-tls: the same over SASL_SSL, "
            + "with a self-signed certificate for 127.0.0.1 that the files' truststore trusts (default ${DEFAULT-VALUE})")
    String security;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!List.of("none", "scram", "scram-tls").contains(security)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--security: must be none, scram or scram-tls, "
                    + "got '" + security + "'");
        }
        EmbeddedBrokerConfig config = EmbeddedBrokerConfig.defaults().withPort(port);
        if (dataDir != null) {
            config = config.withDataDir(dataDir, true);
        }
        BrokerSecurity users = null;
        if (!security.equals("none")) {
            users = users(dataDir);
            if (security.equals("scram-tls")) {
                Path tlsDir = dataDir != null ? dataDir.resolve("tls") : Files.createTempDirectory("sluice-tls-");
                users = users.withTls(TlsMaterial.inDirectory(tlsDir, users.users().get(BrokerSecurity.ADMIN)));
            }
            config = config.withSecurity(users);
        }
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(config);
        if (users == null) {
            EmbeddedSluice.prepareCluster(broker.bootstrapServers(), Map.of());
        } else {
            Map<String, String> admin = users.clientProperties(BrokerSecurity.ADMIN);
            EmbeddedSluice.prepareCluster(broker.bootstrapServers(), admin);
            applyAcls(broker.bootstrapServers(), admin);
            for (String user : users.users().keySet()) {
                Path file = broker.dataDir().resolve(user + ".properties");
                writeClientProperties(file, broker.bootstrapServers(), users.clientProperties(user));
                System.out.println("client.properties." + user + "=" + file);
            }
        }
        System.out.println("bootstrap.servers=" + broker.bootstrapServers());
        System.out.flush();
        ProcessLifetime.runUntilTerminated(broker);
        return Exit.OK;
    }

    /** The role users: those of an earlier start of this data directory (their credentials are in its metadata), else new. */
    private static BrokerSecurity users(Path dataDir) throws IOException {
        if (dataDir != null) {
            Path file = dataDir.resolve(USERS_FILE);
            if (Files.exists(file)) {
                Properties p = new Properties();
                try (Reader in = Files.newBufferedReader(file)) {
                    p.load(in);
                }
                Map<String, String> users = new LinkedHashMap<>();
                p.stringPropertyNames().stream().sorted().forEach(u -> users.put(u, p.getProperty(u)));
                return new BrokerSecurity(users);
            }
        }
        BrokerSecurity fresh = BrokerSecurity.withRandomPasswords(List.of(SluiceAcls.Role.values()).stream()
                .map(SluiceAcls.Role::wire).toArray(String[]::new));
        if (dataDir != null) {
            Files.createDirectories(dataDir);
            Path file = dataDir.resolve(USERS_FILE);
            Properties p = new Properties();
            p.putAll(fresh.users());
            try (Writer out = Files.newBufferedWriter(file)) {
                p.store(out, "sluice broker --security scram: the users' passwords (their SCRAM credentials are in the metadata)");
            }
            EmbeddedKafkaBroker.ownerOnly(file);
        }
        return fresh;
    }

    /** Every role's ACLs for the user of its name, as the super user. */
    private static void applyAcls(String bootstrap, Map<String, String> admin) throws InterruptedException {
        Map<String, Object> props = new LinkedHashMap<>(admin);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin client = Admin.create(props)) {
            for (SluiceAcls.Role role : SluiceAcls.Role.values()) {
                SluiceAcls.apply(client, SluiceAcls.bindings(role, "User:" + role.wire(), false), TopicAdmin.DEFAULT_TIMEOUT);
            }
        }
    }

    static void writeClientProperties(Path file, String bootstrap, Map<String, String> properties) throws IOException {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.putAll(properties);
        try (Writer out = Files.newBufferedWriter(file)) {
            p.store(out, "Kafka client properties: sluice ... --command-config " + file.getFileName());
        }
        EmbeddedKafkaBroker.ownerOnly(file);
    }
}
