package io.sluice.systemtest.fault;

import java.util.Optional;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives each fault test its own {@link FaultSeed} (printed before the test starts) and its own
 * {@link ProcessCluster}, and cleans up after it whatever happened: when the test failed, the seed is printed again
 * with every process's log tail; then every process is SIGKILLed.
 *
 * <pre>{@code
 * @ExtendWith(FaultExtension.class)
 * class FaultSomethingIT {
 *     @Test
 *     void shouldSurviveSomething(ProcessCluster cluster, FaultSeed seed) { ... }
 * }
 * }</pre>
 *
 * <p>The cluster is also kept in the test's {@link ExtensionContext.Store}, which closes it when the test's
 * context ends, should {@link #afterEach} itself not get to it.
 */
public final class FaultExtension implements BeforeEachCallback, AfterEachCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(FaultExtension.class);
    private static final int LOG_TAIL_LINES = 150;

    @Override
    public void beforeEach(ExtensionContext context) {
        store(context).put(FaultSeed.class, FaultSeed.forTest(testName(context)));
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        Class<?> type = parameterContext.getParameter().getType();
        return type == ProcessCluster.class || type == FaultSeed.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext context) {
        if (parameterContext.getParameter().getType() == FaultSeed.class) {
            return seed(context);
        }
        return store(context).getOrComputeIfAbsent(ProcessCluster.class,
                key -> ProcessCluster.create(testName(context), ProcessCluster.defaultWorkDir()), ProcessCluster.class);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        ProcessCluster cluster = store(context).get(ProcessCluster.class, ProcessCluster.class);
        Optional<Throwable> failure = context.getExecutionException();
        try {
            if (failure.isPresent()) {
                StringBuilder sb = new StringBuilder("\n").append(testName(context)).append(" FAILED: ").append(failure.get())
                        .append('\n').append(seed(context).describe(testName(context))).append('\n');
                if (cluster != null) {
                    sb.append(cluster.logsReport(LOG_TAIL_LINES));
                }
                System.out.println(sb);
                System.out.flush();
            }
        } finally {
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    private static FaultSeed seed(ExtensionContext context) {
        return store(context).getOrComputeIfAbsent(FaultSeed.class, key -> FaultSeed.forTest(testName(context)), FaultSeed.class);
    }

    private static ExtensionContext.Store store(ExtensionContext context) {
        return context.getStore(NAMESPACE);
    }

    /** {@code FaultWorkerKillIT.shouldChargeDeadAttempts}: also the name of the test's log directory. */
    static String testName(ExtensionContext context) {
        return context.getRequiredTestClass().getSimpleName() + "." + context.getRequiredTestMethod().getName();
    }
}
