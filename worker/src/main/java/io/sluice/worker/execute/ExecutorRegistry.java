package io.sluice.worker.execute;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * The executors a worker can run, by name. Immutable: {@link #with} returns a new registry.
 *
 * <p>{@link #discover()} finds every {@link LeafExecutor} on the class path with {@link ServiceLoader}, the
 * built-in {@link SimulatedExecutor} included; {@link #of} and {@link #with} register instances explicitly (an
 * executor that needs configuration, a test double). Two executors with one name are refused, naming both.
 */
public final class ExecutorRegistry {

    private final Map<String, LeafExecutor> byName;

    private ExecutorRegistry(Map<String, LeafExecutor> byName) {
        this.byName = Collections.unmodifiableMap(byName);
    }

    /** The executors the context class loader provides. */
    public static ExecutorRegistry discover() {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        return discover(loader != null ? loader : ExecutorRegistry.class.getClassLoader());
    }

    /**
     * The executors {@code loader} provides through {@code META-INF/services/io.sluice.worker.execute.LeafExecutor}.
     *
     * @throws IllegalStateException when a provider cannot be loaded or two share a name
     */
    public static ExecutorRegistry discover(ClassLoader loader) {
        ExecutorRegistry registry = new ExecutorRegistry(new LinkedHashMap<>());
        try {
            for (LeafExecutor executor : ServiceLoader.load(LeafExecutor.class, loader)) {
                registry = registry.with(executor);
            }
        } catch (ServiceConfigurationError e) {
            throw new IllegalStateException("cannot load a LeafExecutor provider: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        return registry;
    }

    /** A registry of exactly these executors. */
    public static ExecutorRegistry of(LeafExecutor... executors) {
        ExecutorRegistry registry = new ExecutorRegistry(new LinkedHashMap<>());
        for (LeafExecutor executor : executors) {
            registry = registry.with(executor);
        }
        return registry;
    }

    /**
     * This registry plus {@code executor}.
     *
     * @throws IllegalArgumentException when the name is blank or already registered
     */
    public ExecutorRegistry with(LeafExecutor executor) {
        Objects.requireNonNull(executor, "executor");
        String name = executor.name();
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("executor name: must not be blank (" + executor.getClass().getName() + ")");
        }
        LeafExecutor existing = byName.get(name);
        if (existing != null) {
            throw new IllegalArgumentException("executor name '" + name + "': registered twice, by "
                    + existing.getClass().getName() + " and " + executor.getClass().getName());
        }
        Map<String, LeafExecutor> copy = new LinkedHashMap<>(byName);
        copy.put(name, executor);
        return new ExecutorRegistry(copy);
    }

    /**
     * This registry with {@code executor} in place of any registered under its name (e.g. a configured endpoint
     * called {@code openai} in place of the built-in one).
     */
    public ExecutorRegistry replacing(LeafExecutor executor) {
        Objects.requireNonNull(executor, "executor");
        Map<String, LeafExecutor> copy = new LinkedHashMap<>(byName);
        copy.remove(executor.name());
        return new ExecutorRegistry(copy).with(executor);
    }

    public Optional<LeafExecutor> find(String name) {
        return name == null ? Optional.empty() : Optional.ofNullable(byName.get(name));
    }

    public Set<String> names() {
        return byName.keySet();
    }

    @Override
    public String toString() {
        return "ExecutorRegistry" + byName.keySet();
    }
}
