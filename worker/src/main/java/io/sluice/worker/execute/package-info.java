/**
 * The executor SPI: {@link io.sluice.worker.execute.LeafExecutor} and the {@link io.sluice.worker.execute.LeafContext}
 * through which an executor spends (one {@link io.sluice.worker.execute.StepPermit} per model call), the
 * {@link io.sluice.worker.execute.ExecutorRegistry} that finds executors by name, and the built-in
 * {@link io.sluice.worker.execute.SimulatedExecutor}. The other built-in executor, {@code openai}
 * ({@link io.sluice.worker.openai.OpenAiExecutor}), shows the SPI used for real model calls: a step per call, the
 * permit's cap as the call's {@code max_tokens}, {@code onCancel} aborting the HTTP request.
 */
package io.sluice.worker.execute;
