package io.sluice.cli.bench;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import io.sluice.client.RunWatch;
import io.sluice.client.SluiceClient;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;

/**
 * Submits runs as any producer does ({@link SluiceClient}) and times them: the clock starts just before the
 * submission is written and stops when the run's receipt is read back ({@link RunWatch}, read_committed). The watch
 * is opened before the submission, so nothing the coordinator writes for the run is missed.
 *
 * <p>Thread-safety: one thread at a time (the bench's main thread).
 */
final class BenchRuns implements AutoCloseable {

    private final SluiceClient client;

    BenchRuns(String bootstrapServers) {
        this.client = new SluiceClient(bootstrapServers, Map.of());
    }

    /** A fresh run id naming the section, e.g. {@code bench-halt-1a2b3c4d}. */
    static String newRunId(String section) {
        return "bench-" + section + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /**
     * Submits the run and waits for its receipt.
     *
     * @throws IllegalStateException when no receipt comes within {@code timeout}
     */
    TimedRun run(Submission submission, Duration timeout) {
        try (PendingRun pending = start(submission)) {
            return pending.await(timeout);
        }
    }

    /** Submits the run and returns at once; {@link PendingRun#await} then waits for its receipt. */
    PendingRun start(Submission submission) {
        RunWatch watch = client.watchReceipt(submission.runId()); // the ledger entries would cost the measured system CPU
        try {
            long submittedAtMs = System.currentTimeMillis();
            long started = System.nanoTime();
            watch.expect(client.submit(submission));
            return new PendingRun(submission.runId(), watch, submittedAtMs, started);
        } catch (RuntimeException e) {
            watch.close();
            throw e;
        }
    }

    /** A small no-op run through whatever runs now: consumers join their groups, the JIT warms up. */
    TimedRun warmUp(int leaves, Duration timeout) {
        return run(BenchWorkflows.noop(newRunId("warmup"), leaves, 1000), timeout);
    }

    @Override
    public void close() {
        client.close();
    }

    /** A run submitted and not yet waited for; closing it stops watching. */
    static final class PendingRun implements AutoCloseable {
        private final String runId;
        private final RunWatch watch;
        private final long submittedAtMs;
        private final long startedNanos;

        private PendingRun(String runId, RunWatch watch, long submittedAtMs, long startedNanos) {
            this.runId = runId;
            this.watch = watch;
            this.submittedAtMs = submittedAtMs;
            this.startedNanos = startedNanos;
        }

        String runId() {
            return runId;
        }

        long submittedAtMs() {
            return submittedAtMs;
        }

        /** @throws IllegalStateException when no receipt comes within {@code timeout} */
        TimedRun await(Duration timeout) {
            Receipt receipt = watch.await(timeout, entry -> { });
            return new TimedRun(runId, submittedAtMs, System.nanoTime() - startedNanos, receipt);
        }

        @Override
        public void close() {
            watch.close();
        }
    }

    /**
     * One run, timed.
     *
     * @param submittedAtMs wall clock just before the submission was written
     * @param elapsedNanos  from then to the receipt being read
     */
    record TimedRun(String runId, long submittedAtMs, long elapsedNanos, Receipt receipt) {

        double seconds() {
            return elapsedNanos / 1e9;
        }

        /** The workflow's entry of the receipt. */
        LedgerEntry root() {
            return receipt.nodes().stream().filter(e -> "workflow".equals(e.kind())).findFirst()
                    .orElseThrow(() -> new IllegalStateException("run " + runId + ": the receipt has no workflow entry"));
        }

        long leaves(Status status) {
            return root().leaves().getOrDefault(status, 0L);
        }

        Map<String, Long> leavesByStatus() {
            Map<String, Long> out = new java.util.TreeMap<>();
            root().leaves().forEach((s, n) -> out.put(s.wire(), n));
            return out;
        }

        /** @throws IllegalStateException unless every one of {@code leaves} succeeded */
        TimedRun requireSucceeded(int leaves) {
            if (receipt.status() != Status.SUCCEEDED || leaves(Status.SUCCEEDED) != leaves) {
                throw new IllegalStateException("run " + runId + " ended " + receipt.status().wire() + " with leaves "
                        + leavesByStatus() + " (expected " + leaves + " succeeded)"
                        + (receipt.reason() != null ? ": " + receipt.reason() : ""));
            }
            return this;
        }
    }
}
