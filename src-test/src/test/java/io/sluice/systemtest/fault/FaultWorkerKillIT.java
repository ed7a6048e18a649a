package io.sluice.systemtest.fault;

import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import io.sluice.schemas.Receipt;
import io.sluice.schemas.Submission;
import io.sluice.systemtest.kafka.RunTopics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Workers die mid-run (SIGKILL, no goodbye): what they were running comes back to the share group, another worker
 * reports it {@code lost} instead of running it again, strict mode charges the dead attempt its whole grant and
 * retries the leaf as a new attempt. Checked on a broker, a coordinator and three workers, each its own process,
 * against a crash-free run of the same submission on the same processes.
 */
@ExtendWith(FaultExtension.class)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class FaultWorkerKillIT {

    private static final Logger log = LoggerFactory.getLogger(FaultWorkerKillIT.class);

    @Test
    void shouldChargeDeadAttemptsTheirGrantAndLoseNothingWhenWorkersAreKilled(ProcessCluster cluster, FaultSeed seed) {
        // given: the processes, and the crash-free run of the submission as reference
        Random faults = seed.random();
        long workload = faults.nextLong();
        int leaves = seed.pick(60, 150);
        RunTopics topics = FaultTopology.start(cluster, List.of("c1"), Map.of());
        FaultTopology.CrashFreeRun clean = FaultTopology.crashFree(cluster, topics,
                FaultRuns.fanOut(FaultRuns.runId("clean"), new Random(workload), leaves), leaves);

        int iterations = seed.pick(1, 3);
        int[] nextWorker = {FaultTopology.WORKERS + 1};
        for (int iteration = 1; iteration <= iterations; iteration++) {
            // when: a random worker is SIGKILLed at 2–3 random points of the run, and a replacement started each time
            String runId = FaultRuns.runId("kill-workers-" + iteration);
            Submission submission = FaultRuns.fanOut(runId, new Random(workload), leaves);
            Deque<Long> points = FaultRuns.faultPoints(faults, seed.longMode() ? 4 + faults.nextInt(3) : 2 + faults.nextInt(2),
                    leaves, 0.1, 0.75);
            int planned = points.size();
            List<String> killed = new ArrayList<>();
            log.info("run {}: killing a worker when {} of {} leaves have ended", runId, points, leaves);
            long t0 = System.nanoTime();
            Receipt receipt = FaultRuns.run(topics, cluster.bootstrapServers(), submission, FaultRuns.RUN_TIMEOUT, ended -> {
                while (!points.isEmpty() && ended >= points.peekFirst()) {
                    points.pollFirst();
                    String victim = pickVictim(cluster, faults);
                    cluster.worker(victim).kill();
                    String replacement = "w" + nextWorker[0]++;
                    cluster.launchWorker(replacement, FaultTopology.CONCURRENCY);
                    killed.add(victim);
                    log.info("run {}: SIGKILLed worker {} at {} ended leaves, started {}", runId, victim, ended, replacement);
                }
            });
            long runMs = FaultTopology.millis(t0, System.nanoTime());

            // then: terminal, every leaf ended once, the books balance with dead attempts charged in full
            RunAudit audit = RunAudit.read(topics, runId);
            log.info("run {} ended {} in {} ms after killing {}: {}; slowest starts: {}", runId, receipt.status(), runMs, killed,
                    audit.summary(), audit.slowestStarts(5));
            assertThat(killed).as("workers killed during the run").hasSize(planned);
            audit.assertConsistent(receipt, FaultRuns.settledLedger(topics, runId), leaves);
            assertThat(audit.lostAttempts()).as("attempts lost with the killed workers %s", killed).isNotEmpty();
            // and, against the crash-free run: untouched leaves identical, the difference is what dead attempts cost
            audit.assertAgainstCrashFree(receipt, clean.audit(), clean.receipt());
        }
    }

    /**
     * A random live worker, preferring those up long enough (10 s) to hold tasks: a replacement started a moment
     * ago has not received any yet, and killing it would test nothing.
     */
    private static String pickVictim(ProcessCluster cluster, Random random) {
        List<String> live = cluster.liveWorkers();
        List<String> busy = live.stream().filter(id -> cluster.worker(id).uptime().toSeconds() >= 10).toList();
        List<String> from = busy.isEmpty() ? live : busy;
        if (from.isEmpty()) {
            throw new IllegalStateException("no live worker to kill: " + cluster.summary());
        }
        return from.get(random.nextInt(from.size()));
    }
}
