package io.sluice.systemtest.fault;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.systemtest.kafka.RunTopics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The topology every fault test starts from — one broker process, the given coordinator processes and
 * {@value #WORKERS} worker processes of {@value #CONCURRENCY} slots, warmed up — and the crash-free reference run
 * a faulty run is compared with.
 */
final class FaultTopology {

    static final int WORKERS = 3;
    static final int CONCURRENCY = 2;
    static final Duration WARM_UP_TIMEOUT = Duration.ofSeconds(90);
    /** Classic-group session timeout of the coordinators (the broker's minimum): a dead member leaves its partitions fast. */
    /** A dead coordinator's partitions move within seconds: its group session and its open transaction time out soon. */
    static final Map<String, String> FAST_FAILOVER = Map.of("session.timeout.ms", "6000", "heartbeat.interval.ms", "1000",
            "transaction.timeout.ms", "10000");

    private static final Logger log = LoggerFactory.getLogger(FaultTopology.class);

    private FaultTopology() {
    }

    /** A crash-free run: its receipt and the test's own account of it. */
    record CrashFreeRun(String runId, Receipt receipt, RunAudit audit) {
    }

    /**
     * Starts the broker, then the coordinators and workers {@code w1..w3} (in parallel JVMs), and runs small runs
     * until every worker has taken tasks.
     */
    static RunTopics start(ProcessCluster cluster, List<String> coordinatorIds, Map<String, String> coordinatorProperties) {
        long t0 = System.nanoTime();
        cluster.startBroker();
        long t1 = System.nanoTime();
        coordinatorIds.forEach(id -> cluster.startCoordinator(id, coordinatorProperties));
        List<String> workers = new ArrayList<>();
        for (int i = 1; i <= WORKERS; i++) {
            workers.add("w" + i);
        }
        cluster.startWorkers(workers, CONCURRENCY);
        long t2 = System.nanoTime();
        RunTopics topics = new RunTopics(cluster.bootstrapServers());
        FaultRuns.warmUp(cluster.bootstrapServers(), topics, workers, WORKERS * CONCURRENCY, WARM_UP_TIMEOUT);
        log.info("{}: broker at {} up in {} ms, coordinators {} and workers {} in {} ms, warmed up in {} ms", cluster.testName(),
                cluster.bootstrapServers(), millis(t0, t1), coordinatorIds, workers, millis(t1, t2), millis(t2, System.nanoTime()));
        return topics;
    }

    /** Runs the submission without faults and checks that it is a sound reference: consistent, nothing lost, succeeded. */
    static CrashFreeRun crashFree(ProcessCluster cluster, RunTopics topics, Submission submission, int leaves) {
        long t0 = System.nanoTime();
        Receipt receipt = FaultRuns.run(topics, cluster.bootstrapServers(), submission, FaultRuns.RUN_TIMEOUT, ended -> { });
        RunAudit audit = RunAudit.read(topics, submission.runId());
        log.info("crash-free run {} ended {} in {} ms: {}", submission.runId(), receipt.status(), millis(t0, System.nanoTime()),
                audit.summary());
        assertThat(receipt.status()).as("status of the crash-free run %s: %s", submission.runId(), receipt.reason())
                .isEqualTo(Status.SUCCEEDED);
        assertThat(audit.lostAttempts()).as("lost attempts of the crash-free run").isEmpty();
        audit.assertConsistent(receipt, FaultRuns.settledLedger(topics, submission.runId()), leaves);
        return new CrashFreeRun(submission.runId(), receipt, audit);
    }

    static long millis(long fromNanos, long toNanos) {
        return (toNanos - fromNanos) / 1_000_000;
    }
}
