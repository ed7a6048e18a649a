package io.sluice.systemtest.fault;

import java.time.Duration;
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
import static org.awaitility.Awaitility.await;

/**
 * The broker dies mid-run (SIGKILL) and comes back on the same port with the same data after a short pause: the
 * coordinator and the workers, each in its own process, ride it out like any Kafka client, and the run ends with
 * the same books as a crash-free run of the same submission — nothing lost, nothing counted twice — but for the
 * attempts whose acceptance was in flight when the broker died (never run, charged their grant in strict mode).
 */
@ExtendWith(FaultExtension.class)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class FaultBrokerRestartIT {

    private static final Logger log = LoggerFactory.getLogger(FaultBrokerRestartIT.class);

    @Test
    void shouldEndWithTheCrashFreeTotalsWhenTheBrokerIsKilledAndRestarted(ProcessCluster cluster, FaultSeed seed) {
        // given
        Random faults = seed.random();
        long workload = faults.nextLong();
        int leaves = seed.pick(60, 150);
        RunTopics topics = FaultTopology.start(cluster, List.of("c1"), Map.of());
        FaultTopology.CrashFreeRun clean = FaultTopology.crashFree(cluster, topics,
                FaultRuns.fanOut(FaultRuns.runId("clean"), new Random(workload), leaves), leaves);

        int iterations = seed.pick(1, 2);
        for (int iteration = 1; iteration <= iterations; iteration++) {
            // when: the broker is SIGKILLed at a random point (2–3 points in long mode), down 0.5–3 s each time
            String runId = FaultRuns.runId("restart-broker-" + iteration);
            Submission submission = FaultRuns.fanOut(runId, new Random(workload), leaves);
            Deque<Long> points = FaultRuns.faultPoints(faults, seed.longMode() ? 2 + faults.nextInt(2) : 1, leaves, 0.15, 0.7);
            int planned = points.size();
            List<Duration> outages = new ArrayList<>();
            log.info("run {}: restarting the broker when {} of {} leaves have ended", runId, points, leaves);
            long t0 = System.nanoTime();
            Receipt receipt = FaultRuns.run(topics, cluster.bootstrapServers(), submission, FaultRuns.RUN_TIMEOUT, ended -> {
                while (!points.isEmpty() && ended >= points.peekFirst()) {
                    points.pollFirst();
                    Duration down = Duration.ofMillis(500 + faults.nextInt(2501));
                    long k0 = System.nanoTime();
                    cluster.killBroker();
                    await("broker down for " + down).pollDelay(down).atMost(down.plusSeconds(1)).until(() -> true);
                    cluster.startBroker();
                    Duration outage = Duration.ofNanos(System.nanoTime() - k0);
                    outages.add(outage);
                    log.info("run {}: SIGKILLed the broker at {} ended leaves, restarted it after {} ms (unreachable {} ms)",
                            runId, ended, down.toMillis(), outage.toMillis());
                }
            });
            long runMs = FaultTopology.millis(t0, System.nanoTime());

            // then: every process rode it out, and the books are those of the crash-free run
            RunAudit audit = RunAudit.read(topics, runId);
            log.info("run {} ended {} in {} ms after broker outages of {}: {}; slowest starts: {}", runId, receipt.status(),
                    runMs, outages, audit.summary(), audit.slowestStarts(5));
            assertThat(outages).as("broker restarts during the run").hasSize(planned);
            assertThat(cluster.coordinator("c1").isAlive()).as("coordinator alive after the restarts: %s", cluster.summary()).isTrue();
            assertThat(cluster.liveWorkers()).as("workers alive after the restarts").hasSize(FaultTopology.WORKERS);
            audit.assertConsistent(receipt, FaultRuns.settledLedger(topics, runId), leaves);
            // An acknowledgement in flight when the broker dies has an unknown outcome: its worker does not run that
            // attempt, and if the broker had taken it nobody does and strict mode charges its grant. That is the one
            // loss a broker failure may cause: an attempt nobody ran, at most one batch (1 record) per worker.
            assertThat(audit.lostAttempts()).as("attempts charged as lost although no worker died")
                    .hasSizeLessThanOrEqualTo(FaultTopology.WORKERS * planned)
                    .allSatisfy(a -> assertThat(a.stepWorkers).as("workers that ran %s", a).isEmpty());
            audit.assertAgainstCrashFree(receipt, clean.audit(), clean.receipt());
            assertThat(receipt.status()).as("run status vs. the crash-free run").isEqualTo(clean.receipt().status());
        }
    }
}
