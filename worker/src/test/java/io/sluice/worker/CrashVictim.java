package io.sluice.worker;

import java.io.IOException;
import java.time.Duration;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.worker.execute.ExecutorRegistry;
import io.sluice.worker.execute.LeafContext;
import io.sluice.worker.execute.LeafExecutor;
import io.sluice.worker.execute.Outcome;
import io.sluice.worker.execute.SimulatedExecutor;

/**
 * A worker in a JVM of its own, for {@link WorkerSystemTest} to kill with SIGKILL while it holds a task. It runs the
 * simulated executor under the name {@code counted} (the test's executor, which counts executions in the test's
 * JVM only), prints {@code READY} once started, and runs until killed — or until its standard input closes, so
 * that it never outlives a test JVM that died first.
 *
 * <p>Arguments: bootstrap servers, group id, worker id, concurrency, lock duration (ms).
 */
final class CrashVictim {

    private CrashVictim() {
    }

    public static void main(String[] args) throws IOException {
        WorkerConfig config = WorkerConfig.of(args[0], args[2]).withGroupId(args[1])
                .withConcurrency(Integer.parseInt(args[3]))
                .withLockDuration(Duration.ofMillis(Long.parseLong(args[4])))
                .withPollTimeout(Duration.ofMillis(200));
        SimulatedExecutor simulated = new SimulatedExecutor();
        LeafExecutor counted = new LeafExecutor() {
            @Override
            public String name() {
                return "counted";
            }

            @Override
            public Outcome execute(LeafContext ctx) throws InterruptedException {
                return simulated.execute(ctx);
            }
        };
        Worker worker = new Worker(config, ExecutorRegistry.discover().with(counted), new SimpleMeterRegistry());
        worker.start();
        System.out.println("READY");
        System.out.flush();
        while (System.in.read() != -1) {
            // wait for the end of the input; the worker's threads are daemons
        }
    }
}
