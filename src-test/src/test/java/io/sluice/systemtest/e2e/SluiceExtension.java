package io.sluice.systemtest.e2e;

import io.sluice.systemtest.kafka.KafkaExtension;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Injects the test JVM's one {@link SluiceSystem} (coordinator + workers on the shared broker), started on
 * first use and closed by JUnit after all tests of the JVM, before the broker it runs on.
 */
public final class SluiceExtension implements ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SluiceExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == SluiceSystem.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext context) {
        // The broker is put into the root store first, so JUnit closes this system (stored later) before it.
        var kafka = KafkaExtension.cluster(context);
        return context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(SluiceSystem.class,
                key -> SluiceSystem.start(kafka), SluiceSystem.class);
    }
}
