package io.sluice.cli;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

/**
 * Keeps a long-running command ({@code broker}, {@code coordinator}, {@code worker}) alive until SIGTERM or
 * SIGINT, then runs its shutdown and lets the JVM exit only once that shutdown is complete.
 */
final class ProcessLifetime {

    private ProcessLifetime() {
    }

    static void runUntilTerminated(AutoCloseable service) throws InterruptedException {
        runUntilTerminated(service, new CompletableFuture<>());
    }

    /**
     * Like {@link #runUntilTerminated(AutoCloseable)}, but also returns (after the same orderly shutdown) when
     * {@code failed} completes: the service stopped on its own.
     */
    static void runUntilTerminated(AutoCloseable service, CompletableFuture<?> failed) throws InterruptedException {
        CountDownLatch terminated = new CountDownLatch(1);
        failed.whenComplete((v, e) -> terminated.countDown());
        CountDownLatch closed = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            // Still running when the JVM began to shut down: a signal, not the command's own System.exit(code).
            boolean bySignal = closed.getCount() > 0;
            terminated.countDown();
            try {
                closed.await(); // the JVM exits when this hook returns: wait for the orderly shutdown
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (bySignal) {
                // Terminated (SIGTERM, SIGINT) and shut down in order: that is success, not the signal's 128 + n.
                Runtime.getRuntime().halt(Exit.OK);
            }
        }, "sluice-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            terminated.await();
        } finally {
            try {
                service.close();
            } catch (Exception e) {
                System.err.println("shutdown: " + e.getMessage());
            } finally {
                closed.countDown();
            }
        }
    }
}
