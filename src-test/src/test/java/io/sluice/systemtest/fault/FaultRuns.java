package io.sluice.systemtest.fault;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

import io.sluice.client.RunWatch;
import io.sluice.client.SluiceClient;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.SubmissionValidator;
import io.sluice.schemas.UsageEvent;
import io.sluice.systemtest.kafka.RunTopics;

import static org.awaitility.Awaitility.await;

/**
 * The workloads of the fault tests and the way they are driven: submitted and watched through
 * {@link SluiceClient}, the test reacting to the run's progress (leaves ended so far) while it waits for the
 * receipt — that is where faults are injected.
 */
final class FaultRuns {

    /** The longest a run may take, faults included. */
    static final Duration RUN_TIMEOUT = Duration.ofMinutes(2);
    /** The workflow's id, so the path of its ledger entry. */
    static final String WORKFLOW = "w";
    /** Every leaf's grant: well above what a leaf of {@link #fanOut} spends, so no grant ever truncates a leaf. */
    static final long LEAF_GRANT = 2000;

    private static final SubmissionValidator VALIDATOR = new SubmissionValidator();

    private FaultRuns() {
    }

    /** Called on the watching thread each time more leaves of the run have ended. */
    @FunctionalInterface
    interface Progress {
        void leavesEnded(long ended);
    }

    /** A run id unique to this test: the broker is the test's own, so this is for reading the logs. */
    static String runId(String label) {
        return label + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /**
     * A strict-mode fan-out of {@code leaves} simulated leaves of 3 turns each (input 100–300, output 50–150 tokens,
     * 100–200 ms per turn), the same for the same {@code random} state. Each leaf gets a grant of
     * {@value #LEAF_GRANT} tokens ({@code leaf_max_tokens}); the workflow's {@code max_tokens} is far above what the
     * run can spend even with every leaf charged its grant three times, so it is never binding.
     */
    static Submission fanOut(String runId, Random random, int leaves) {
        List<String> nodes = new ArrayList<>();
        for (int i = 0; i < leaves; i++) {
            StringBuilder turns = new StringBuilder();
            for (int t = 0; t < 3; t++) {
                turns.append(t == 0 ? "" : ",").append("{\"input_tokens\":").append(100 + random.nextInt(201))
                        .append(",\"output_tokens\":").append(50 + random.nextInt(101))
                        .append(",\"latency_ms\":").append(100 + random.nextInt(101)).append('}');
            }
            nodes.add("{\"kind\":\"leaf\",\"id\":\"l%03d\",\"executor\":\"simulated\",\"input\":{\"turns\":[%s]}}"
                    .formatted(i, turns));
        }
        long maxTokens = 10L * leaves * LEAF_GRANT;
        return submission(runId, """
                {"run_id": "RUN", "mode": "strict", "workflow": {"id": "%s", "leaf_max_tokens": %d,
                 "budget": {"max_tokens": %d}, "nodes": [%s]}}""".formatted(WORKFLOW, LEAF_GRANT, maxTokens,
                String.join(",", nodes)));
    }

    /** Parses (so validates) a submission written as JSON; {@code RUN} in it is replaced by the run id. */
    static Submission submission(String runId, String json) {
        return VALIDATOR.parse(json.replace("RUN", runId).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Submits the run, then watches it until its receipt, telling {@code progress} each time the workflow's ledger
     * entry shows more ended leaves. {@code progress} runs on this thread, so the watch pauses while it injects a
     * fault; the watch's consumer rides out a broker restart like any Kafka client.
     *
     * @throws IllegalStateException when there is no receipt within {@code timeout}
     */
    /**
     * The run's latest ledger entries once its workflow's entry is terminal. A read_committed reader sees nothing of a
     * partition past a crashed coordinator's open transaction until that is aborted (its timeout, 10 s): the receipt
     * can be on the results topic while the ledger partition still shows the state before the crash.
     */
    static Map<String, LedgerEntry> settledLedger(RunTopics topics, String runId) {
        java.util.concurrent.atomic.AtomicReference<Map<String, LedgerEntry>> latest = new java.util.concurrent.atomic.AtomicReference<>();
        await("the ledger of " + runId + " shows its end").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    latest.set(topics.ledger(runId));
                    LedgerEntry w = latest.get().get(WORKFLOW);
                    return w != null && w.status().isTerminal();
                });
        return latest.get();
    }

    static Receipt run(String bootstrapServers, Submission submission, Duration timeout, Progress progress) {
        try (SluiceClient client = new SluiceClient(bootstrapServers, Map.of());
             RunWatch watch = client.watch(submission.runId())) {
            watch.expect(client.submit(submission));
            long deadline = System.nanoTime() + timeout.toNanos();
            long[] ended = {0};
            while (System.nanoTime() < deadline) {
                var receipt = watch.poll(Duration.ofMillis(100), entry -> {
                    long now = endedLeaves(entry);
                    if (now > ended[0]) {
                        ended[0] = now;
                        progress.leavesEnded(now);
                    }
                });
                if (receipt.isPresent()) {
                    return receipt.get();
                }
            }
            throw new IllegalStateException("run " + submission.runId() + ": no receipt within " + timeout + " ("
                    + ended[0] + " leaves ended)");
        }
    }

    /**
     * {@code count} points of a run of {@code leaves} leaves at which to inject a fault, as numbers of ended leaves,
     * drawn uniformly from [{@code from}, {@code to}) × leaves, ascending; two points may coincide (two faults at once).
     */
    static Deque<Long> faultPoints(Random random, int count, int leaves, double from, double to) {
        List<Long> points = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            points.add(Math.max(1, Math.round(leaves * (from + (to - from) * random.nextDouble()))));
        }
        points.sort(null);
        return new ArrayDeque<>(points);
    }

    /**
     * {@link #run}, and when there is no receipt in time, an {@link AssertionError} saying what is known of the run on
     * Kafka: its attempts that never ended, where it waited, what went to the dead-letter topic.
     */
    static Receipt run(RunTopics topics, String bootstrapServers, Submission submission, Duration timeout, Progress progress) {
        try {
            return run(bootstrapServers, submission, timeout, progress);
        } catch (IllegalStateException e) {
            String runId = submission.runId();
            StringBuilder sb = new StringBuilder(e.getMessage());
            try {
                RunAudit audit = RunAudit.read(topics, runId);
                sb.append("\n  on Kafka: ").append(audit.summary())
                        .append("\n  attempts that never ended: ").append(audit.unfinished())
                        .append("\n  slowest starts: ").append(audit.slowestStarts(8))
                        .append("\n  dead letters: ").append(topics.deadLetters(runId));
            } catch (RuntimeException diagnosis) {
                sb.append("\n  (could not read the run back: ").append(diagnosis).append(')');
            }
            throw new AssertionError(sb.toString(), e);
        }
    }

    /** Leaves ended below the workflow, by its ledger entry; 0 for any other entry. */
    private static long endedLeaves(LedgerEntry entry) {
        if (!WORKFLOW.equals(entry.path())) {
            return 0;
        }
        return entry.leaves().entrySet().stream().filter(e -> e.getKey().isTerminal()).mapToLong(Map.Entry::getValue).sum();
    }

    /**
     * A new share-group member gets its first records only some seconds after it joins: runs small runs until
     * every one of {@code workerIds} has executed a leaf, so the runs under test start with every worker busy.
     */
    static void warmUp(String bootstrapServers, RunTopics topics, List<String> workerIds, int lanes, Duration atMost) {
        Set<String> seen = new HashSet<>();
        await("every worker of " + workerIds + " to execute a warm-up leaf").atMost(atMost).pollInSameThread()
                .pollInterval(Duration.ofMillis(10)).until(() -> {
                    String runId = runId("warm-up");
                    StringBuilder leaves = new StringBuilder();
                    for (int i = 0; i < lanes * 2; i++) {
                        leaves.append(i == 0 ? "" : ",").append("{\"kind\":\"leaf\",\"id\":\"l").append(i)
                                .append("\",\"executor\":\"simulated\",\"input\":{\"turns\":[{\"input_tokens\":10,")
                                .append("\"output_tokens\":10,\"latency_ms\":200}]}}");
                    }
                    Receipt receipt = run(bootstrapServers, submission(runId, """
                            {"run_id": "RUN", "workflow": {"id": "%s", "leaf_max_tokens": 100, "nodes": [%s]}}"""
                            .formatted(WORKFLOW, leaves)), Duration.ofSeconds(30), ended -> { });
                    if (receipt.status() != Status.SUCCEEDED) {
                        throw new IllegalStateException("warm-up run " + runId + " ended " + receipt.status() + ": " + receipt.reason());
                    }
                    topics.usage(runId).stream().map(UsageEvent::workerId).forEach(seen::add);
                    return seen.containsAll(workerIds);
                });
    }
}
