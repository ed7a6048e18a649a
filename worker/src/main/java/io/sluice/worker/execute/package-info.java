/**
 * The executor SPI: {@link io.sluice.worker.execute.LeafExecutor} and the {@link io.sluice.worker.execute.LeafContext}
 * through which an executor spends (one {@link io.sluice.worker.execute.StepPermit} per model call), the
 * {@link io.sluice.worker.execute.ExecutorRegistry} that finds executors by name, and the built-in
 * {@link io.sluice.worker.execute.SimulatedExecutor}.
 */
package io.sluice.worker.execute;
