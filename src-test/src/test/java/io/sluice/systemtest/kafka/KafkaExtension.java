package io.sluice.systemtest.kafka;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Injects the test JVM's one {@link KafkaCluster} into test constructors, lifecycle methods and test methods.
 *
 * <p>The cluster starts lazily, when the first parameter of type {@code KafkaCluster} is resolved, and lives in
 * the root {@link ExtensionContext.Store}: every test class of the JVM shares it, and JUnit closes it (an
 * {@link AutoCloseable} store value) when all tests of the JVM are done. Which cluster: see
 * {@link BrokerChoice} (external via {@code SLUICE_BOOTSTRAP_SERVERS}, Testcontainers when Docker is
 * available or {@code -Dsluice.test.broker=testcontainers}, else the in-process broker).
 */
public final class KafkaExtension implements ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(KafkaExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == KafkaCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return cluster(extensionContext);
    }

    /** The shared cluster, started on first use. */
    public static KafkaCluster cluster(ExtensionContext context) {
        // The root store is concurrent and computes a key's value once, even with parallel test execution.
        return context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(SharedKafkaCluster.class,
                key -> SharedKafkaCluster.start(BrokerChoice.fromEnvironment()), SharedKafkaCluster.class);
    }
}
