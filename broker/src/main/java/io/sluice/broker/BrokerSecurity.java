package io.sluice.broker;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * SASL/SCRAM for an {@link EmbeddedKafkaBroker}: a {@code SASL_PLAINTEXT} (or, with {@link #tls}, {@code SASL_SSL})
 * listener where clients authenticate with
 * SCRAM-SHA-512, Kafka's {@code StandardAuthorizer} (deny unless an ACL allows), and the users whose SCRAM
 * credentials are created when the storage is formatted. {@value #ADMIN} is the only super user: the broker's own
 * principal (inter-broker and controller traffic; the controller listener takes SASL/PLAIN, which needs no
 * credential in the metadata it serves) and the one that creates topics and ACLs.
 *
 * @param users user name → password; must include {@value #ADMIN}
 * @param tls   when set, the listener is {@code SASL_SSL} with this certificate (clients trust its truststore)
 */
public record BrokerSecurity(Map<String, String> users, TlsMaterial tls) {

    public static final String ADMIN = "admin";
    public static final String MECHANISM = "SCRAM-SHA-512";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** SCRAM over a plaintext listener. */
    public BrokerSecurity(Map<String, String> users) {
        this(users, null);
    }

    public BrokerSecurity {
        users = Map.copyOf(users);
        if (!users.containsKey(ADMIN)) {
            throw new IllegalArgumentException("users: must include " + ADMIN + " (the broker's own principal)");
        }
        users.forEach((name, password) -> {
            if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
                throw new IllegalArgumentException("users: '" + name + "' is no user name (letters, digits, . _ -)");
            }
            if (password == null || password.length() < 12 || password.contains("\"") || password.contains("\\")) {
                throw new IllegalArgumentException("users: " + name + "'s password must be 12+ characters, no quotes");
            }
        });
    }

    /** {@value #ADMIN} and {@code names}, each with a fresh random password. */
    public static BrokerSecurity withRandomPasswords(String... names) {
        Map<String, String> users = new LinkedHashMap<>();
        users.put(ADMIN, randomPassword());
        for (String name : names) {
            users.put(name, randomPassword());
        }
        return new BrokerSecurity(users);
    }

    /** 24 random bytes, base64url: 192 bits. */
    public static String randomPassword() {
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** The same users over TLS: a {@code SASL_SSL} listener presenting {@code material}'s certificate. */
    public BrokerSecurity withTls(TlsMaterial material) {
        return new BrokerSecurity(users, material);
    }

    /** The listener's security protocol: {@code SASL_SSL} with TLS, else {@code SASL_PLAINTEXT}. */
    public String protocol() {
        return tls == null ? "SASL_PLAINTEXT" : "SASL_SSL";
    }

    /** The Kafka client properties with which {@code user} authenticates (everything but bootstrap.servers). */
    public Map<String, String> clientProperties(String user) {
        String password = users.get(user);
        if (password == null) {
            throw new IllegalArgumentException("no user " + user + " (known: " + users.keySet() + ")");
        }
        Map<String, String> p = new LinkedHashMap<>();
        p.put("security.protocol", protocol());
        p.put("sasl.mechanism", MECHANISM);
        p.put("sasl.jaas.config", scramJaas(user, password));
        if (tls != null) {
            p.put("ssl.truststore.location", tls.truststore().toString());
            p.put("ssl.truststore.password", tls.password());
            p.put("ssl.truststore.type", "PKCS12");
        }
        return Map.copyOf(p);
    }

    static String scramJaas(String user, String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user + "\" password=\""
                + password + "\";";
    }

    /** The broker's listener, SASL and authorizer settings, over the plaintext ones. */
    Map<String, String> brokerProperties(int port, int controllerPort) {
        String admin = users.get(ADMIN);
        String listener = protocol();
        String prefix = "listener.name." + listener.toLowerCase(java.util.Locale.ROOT) + ".";
        Map<String, String> p = new LinkedHashMap<>();
        p.put("listeners", listener + "://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", listener + "://127.0.0.1:" + port);
        p.put("listener.security.protocol.map", listener + ":" + listener + ",CONTROLLER:SASL_PLAINTEXT");
        p.put("inter.broker.listener.name", listener);
        p.put("sasl.mechanism.inter.broker.protocol", MECHANISM);
        p.put("sasl.mechanism.controller.protocol", "PLAIN");
        p.put(prefix + "sasl.enabled.mechanisms", MECHANISM);
        p.put(prefix + "scram-sha-512.sasl.jaas.config", scramJaas(ADMIN, admin));
        if (tls != null) {
            // The listener presents the certificate; the broker, its own inter-broker client, trusts it.
            p.put(prefix + "ssl.keystore.location", tls.keystore().toString());
            p.put(prefix + "ssl.keystore.password", tls.password());
            p.put(prefix + "ssl.key.password", tls.password());
            p.put(prefix + "ssl.keystore.type", "PKCS12");
            p.put(prefix + "ssl.truststore.location", tls.truststore().toString());
            p.put(prefix + "ssl.truststore.password", tls.password());
            p.put(prefix + "ssl.truststore.type", "PKCS12");
        }
        p.put("listener.name.controller.sasl.enabled.mechanisms", "PLAIN");
        p.put("listener.name.controller.plain.sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule "
                + "required username=\"" + ADMIN + "\" password=\"" + admin + "\" user_" + ADMIN + "=\"" + admin + "\";");
        p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        p.put("super.users", "User:" + ADMIN);
        p.put("allow.everyone.if.no.acl.found", "false");
        return p;
    }

    /** {@code kafka-storage format --add-scram} arguments: every user's credential, in the bootstrap metadata. */
    String[] formatArguments() {
        return users.entrySet().stream()
                .flatMap(u -> java.util.stream.Stream.of("--add-scram", MECHANISM + "=[name=" + u.getKey() + ",password="
                        + u.getValue() + "]"))
                .toArray(String[]::new);
    }

    @Override
    public String toString() {
        return "BrokerSecurity[users=" + users.keySet() + ", " + protocol() + ", passwords hidden]";
    }
}
