package io.sluice.broker;

import java.nio.file.Path;
import java.util.Map;

/**
 * Settings of an {@link EmbeddedKafkaBroker}.
 *
 * @param dataDir        where to keep logs and metadata; {@code null} for a temporary directory
 * @param keepData       with a given {@code dataDir}: keep it on close (so a restart sees the same data)
 * @param port           the client port on 127.0.0.1; 0 for a free one
 * @param controllerPort the KRaft controller port on 127.0.0.1; 0 for a free one
 * @param overrides      extra broker properties, applied last
 * @param security       SASL/SCRAM and the authorizer; null for a plaintext broker without authorization
 */
public record EmbeddedBrokerConfig(Path dataDir, boolean keepData, int port, int controllerPort, Map<String, String> overrides,
                                   BrokerSecurity security) {

    public EmbeddedBrokerConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: must be 0..65535, got " + port);
        }
        if (controllerPort < 0 || controllerPort > 65535) {
            throw new IllegalArgumentException("controllerPort: must be 0..65535, got " + controllerPort);
        }
        if (port != 0 && port == controllerPort) {
            throw new IllegalArgumentException("controllerPort: must differ from port " + port);
        }
        overrides = Map.copyOf(overrides == null ? Map.of() : overrides);
    }

    /** A plaintext broker without authorization. */
    public EmbeddedBrokerConfig(Path dataDir, boolean keepData, int port, int controllerPort, Map<String, String> overrides) {
        this(dataDir, keepData, port, controllerPort, overrides, null);
    }

    /** A temporary data directory and free ports. */
    public static EmbeddedBrokerConfig defaults() {
        return new EmbeddedBrokerConfig(null, false, 0, 0, Map.of(), null);
    }

    public EmbeddedBrokerConfig withDataDir(Path dir, boolean keep) {
        return new EmbeddedBrokerConfig(dir, keep, port, controllerPort, overrides, security);
    }

    public EmbeddedBrokerConfig withPort(int clientPort) {
        return new EmbeddedBrokerConfig(dataDir, keepData, clientPort, controllerPort, overrides, security);
    }

    /** SASL/SCRAM with these users, and the authorizer. */
    public EmbeddedBrokerConfig withSecurity(BrokerSecurity value) {
        return new EmbeddedBrokerConfig(dataDir, keepData, port, controllerPort, overrides, value);
    }

    public EmbeddedBrokerConfig withOverrides(Map<String, String> props) {
        return new EmbeddedBrokerConfig(dataDir, keepData, port, controllerPort, props, security);
    }
}
