package io.sluice.systemtest.fault;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import io.sluice.schemas.Halt;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Submission;
import io.sluice.schemas.UsageEvent;
import io.sluice.systemtest.kafka.RunTopics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker freezes (SIGSTOP: a stalled VM, a long pause — its sockets stay open, so neither the share group nor its
 * connection notice) for longer than the coordinator's lease, then wakes up (SIGCONT). Its attempts must be given up
 * when their leases lapse — charged their whole grants, retried elsewhere — its late usage ignored, and the run's
 * books balance with no strict limit exceeded; the woken worker stops the given-up attempts and goes on working.
 */
@ExtendWith(FaultExtension.class)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class FaultWorkerFreezeIT {

    private static final Logger log = LoggerFactory.getLogger(FaultWorkerFreezeIT.class);
    /** Longer than the default lease (10 s), well within the share lock's 30 s. */
    private static final Duration FREEZE = Duration.ofSeconds(16);

    @Test
    void shouldGiveUpTheAttemptsOfAFrozenWorkerAndIgnoreItWhenItWakes(ProcessCluster cluster, FaultSeed seed) {
        // given
        Random faults = seed.random();
        int leaves = seed.pick(60, 120);
        RunTopics topics = FaultTopology.start(cluster, List.of("c1"), Map.of());
        String runId = FaultRuns.runId("freeze-worker");
        Submission submission = FaultRuns.fanOut(runId, new Random(faults.nextLong()), leaves);
        long at = Math.max(1, leaves / 5);

        // when: at a fifth of the run, a worker holding tasks is frozen for longer than the lease, then thawed
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<String> frozen = new AtomicReference<>();
        ScheduledExecutorService thawer = Executors.newSingleThreadScheduledExecutor();
        Receipt receipt;
        try {
            receipt = FaultRuns.run(topics, cluster.bootstrapServers(), submission, FaultRuns.RUN_TIMEOUT, ended -> {
                if (ended >= at && done.compareAndSet(false, true)) {
                    String victim = holdingHeardAttempts(topics, runId, cluster.liveWorkers(), faults);
                    frozen.set(victim);
                    cluster.worker(victim).freeze();
                    log.info("run {}: froze worker {} at {} ended leaves for {}", runId, victim, ended, FREEZE);
                    thawer.schedule(() -> {
                        cluster.worker(victim).thaw();
                        log.info("run {}: thawed worker {}", runId, victim);
                    }, FREEZE.toMillis(), TimeUnit.MILLISECONDS);
                }
            });
        } finally {
            thawer.shutdown(); // a thaw still scheduled runs first
        }

        // then: terminal; every leaf ended once; the books balance with the given-up attempts charged in full
        RunAudit audit = RunAudit.read(topics, runId);
        List<Halt> lapsed = topics.halts(runId).stream().filter(h -> h.attempt() != null).toList();
        log.info("run {} ended {} after freezing {}: {}; attempts given up: {}", runId, receipt.status(), frozen.get(),
                audit.summary(), lapsed.stream().map(h -> h.path() + "#" + h.attempt()).toList());
        assertThat(frozen.get()).as("a worker was frozen").isNotNull();
        audit.assertConsistent(receipt, FaultRuns.settledLedger(topics, runId), leaves);
        assertThat(lapsed).as("attempts given up when the frozen worker's leases lapsed").isNotEmpty()
                .allSatisfy(h -> assertThat(h.reason()).contains("lease lapsed: no word from worker " + frozen.get()));
        // and the woken worker is alive and working again
        assertThat(cluster.liveWorkers()).contains(frozen.get());
    }

    /**
     * A live worker that runs an attempt its coordinator has heard of (a step reported, no final yet), so that it holds
     * a lease to lapse; a worker that holds only attempts it has not reported on yet would be covered by the share
     * lock instead. Any live worker when none is found.
     */
    private static String holdingHeardAttempts(RunTopics topics, String runId, List<String> live, Random random) {
        Map<String, String> workerOfOpenAttempt = new java.util.LinkedHashMap<>();
        for (UsageEvent e : topics.usage(runId)) {
            String attempt = e.path() + "#" + e.attempt();
            if (e.isFinal()) {
                workerOfOpenAttempt.remove(attempt);
            } else {
                workerOfOpenAttempt.put(attempt, e.workerId());
            }
        }
        List<String> holding = workerOfOpenAttempt.values().stream().filter(live::contains).distinct().toList();
        List<String> from = holding.isEmpty() ? live : holding;
        return from.get(random.nextInt(from.size()));
    }
}
