/**
 * The stateless Sluice worker: {@link io.sluice.worker.Worker} takes leaf tasks from a Kafka share group, runs
 * them with {@link io.sluice.worker.execute.LeafExecutor}s under their hard budgets, and reports their usage.
 *
 * <p>Public: {@link io.sluice.worker.WorkerConfig}, {@link io.sluice.worker.Worker},
 * {@link io.sluice.worker.WorkerMeters}. Everything else here is package-private: the task feed (the worker's one
 * share consumer, fetching by credit), the halt watcher, the leaf runtime and its pure budget arithmetic
 * ({@code Allowances}, {@code Verdict}).
 */
package io.sluice.worker;
