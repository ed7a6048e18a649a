package io.sluice.systemtest.kafka;

import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * Which Kafka the system tests of this JVM run against, and why.
 *
 * <p>In order: the external cluster named by {@value #ENV_BOOTSTRAP_SERVERS}; else what the system property
 * {@value #PROPERTY_BROKER} asks for ({@code testcontainers} or {@code embedded}); else, by default
 * ({@code auto}), a Testcontainers container when a Docker engine answers and the in-process broker otherwise.
 * The Docker probe is only called when its answer matters.
 *
 * @param kind                     the kind of broker
 * @param externalBootstrapServers the external cluster's address; {@code null} unless {@code kind} is
 *                                 {@link Kind#EXTERNAL}
 * @param reason                   why this kind was chosen, for the log
 */
record BrokerChoice(Kind kind, String externalBootstrapServers, String reason) {

    /** Environment variable naming an external cluster's bootstrap servers. */
    static final String ENV_BOOTSTRAP_SERVERS = "SLUICE_BOOTSTRAP_SERVERS";
    /** System property: {@code auto} (default), {@code testcontainers} or {@code embedded}. */
    static final String PROPERTY_BROKER = "sluice.test.broker";

    enum Kind { EXTERNAL, TESTCONTAINERS, EMBEDDED }

    BrokerChoice {
        if (kind == null) {
            throw new IllegalArgumentException("kind: must not be null");
        }
        if ((kind == Kind.EXTERNAL) != (externalBootstrapServers != null)) {
            throw new IllegalArgumentException("externalBootstrapServers: required for EXTERNAL only, got "
                    + externalBootstrapServers + " for " + kind);
        }
    }

    /** The choice for this JVM: its environment, its system properties and a Docker probe. */
    static BrokerChoice fromEnvironment() {
        return decide(System.getenv(ENV_BOOTSTRAP_SERVERS), System.getProperty(PROPERTY_BROKER),
                KafkaBackends::dockerAvailable);
    }

    /**
     * @param envBootstrapServers the value of {@value #ENV_BOOTSTRAP_SERVERS}, or {@code null}
     * @param requestedBroker     the value of {@value #PROPERTY_BROKER}, or {@code null}
     * @param dockerAvailable     asked only when the choice depends on it
     * @throws IllegalArgumentException for an unknown {@value #PROPERTY_BROKER}
     */
    static BrokerChoice decide(String envBootstrapServers, String requestedBroker, BooleanSupplier dockerAvailable) {
        if (envBootstrapServers != null && !envBootstrapServers.isBlank()) {
            return new BrokerChoice(Kind.EXTERNAL, envBootstrapServers.strip(), ENV_BOOTSTRAP_SERVERS + " is set");
        }
        String requested = requestedBroker == null || requestedBroker.isBlank()
                ? "auto" : requestedBroker.strip().toLowerCase(Locale.ROOT);
        switch (requested) {
            case "testcontainers":
                return new BrokerChoice(Kind.TESTCONTAINERS, null, PROPERTY_BROKER + "=testcontainers");
            case "embedded":
                return new BrokerChoice(Kind.EMBEDDED, null, PROPERTY_BROKER + "=embedded");
            case "auto":
                return dockerAvailable.getAsBoolean()
                        ? new BrokerChoice(Kind.TESTCONTAINERS, null, "a Docker engine is available")
                        : new BrokerChoice(Kind.EMBEDDED, null, "no " + ENV_BOOTSTRAP_SERVERS + " and no Docker engine");
            default:
                throw new IllegalArgumentException(PROPERTY_BROKER + ": must be auto, testcontainers or embedded, got '"
                        + requestedBroker + "'");
        }
    }
}
