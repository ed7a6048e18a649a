package io.sluice.systemtest.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.UsageEvent;
import io.sluice.systemtest.kafka.RunTopics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker holding hundreds of leaves at once — one share consumer, concurrency 1000 — is SIGKILLed while they
 * run: every attempt it held is found out by its lease, charged its whole grant (strict mode) and retried on a
 * replacement; nothing is lost or run twice, and the run's books balance. Checked on a broker, a coordinator and
 * workers, each its own process.
 */
@ExtendWith(FaultExtension.class)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class FaultWideWorkerKillIT {

    private static final Logger log = LoggerFactory.getLogger(FaultWideWorkerKillIT.class);
    private static final int WIDE = 1000;

    @Test
    void shouldChargeAndRetryEveryAttemptOfAKilledWorkerOfConcurrency1000(ProcessCluster cluster, FaultSeed seed) {
        // given: the wide worker alone (a share group gives each member only some partitions of the tasks topic: with
        // others beside it, it would get a share of the leaves, not most of them)
        int leaves = seed.pick(400, 900);
        cluster.startBroker();
        cluster.startCoordinator("c1", Map.of());
        cluster.startWorker("wide", WIDE);
        RunTopics topics = new RunTopics(cluster.bootstrapServers());
        FaultRuns.warmUp(cluster.bootstrapServers(), topics, List.of("wide"), 4, FaultTopology.WARM_UP_TIMEOUT);
        String runId = FaultRuns.runId("kill-wide");
        Submission submission = slowFanOut(runId, leaves);

        // when: it is SIGKILLed once it has begun half of the leaves, and a replacement takes over
        CompletableFuture<Receipt> run = CompletableFuture.supplyAsync(() ->
                FaultRuns.run(topics, cluster.bootstrapServers(), submission, FaultRuns.RUN_TIMEOUT, ended -> { }));
        await("the wide worker runs half of the leaves at once").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200)).until(() -> startedBy(topics, runId, "wide") >= leaves / 2);
        cluster.worker("wide").kill();
        // what it held when it died: begun, not ended (the first leaves may end before the kill)
        int held = heldBy(topics, runId, "wide");
        log.info("run {}: SIGKILLed the worker of concurrency {} holding {} started leaves", runId, WIDE, held);
        cluster.launchWorker("w1", 64);
        Receipt receipt = run.join();

        // then: it ended well, every leaf once, and every attempt the wide worker held was charged and retried
        RunAudit audit = RunAudit.read(topics, runId);
        log.info("run {} ended {}; {} attempts lost with the wide worker, charged {} tokens", runId, receipt.status(),
                audit.lostAttempts().size(), audit.lostCharges());
        assertThat(receipt.status()).as("%s", receipt.reason()).isEqualTo(Status.SUCCEEDED);
        audit.assertConsistent(receipt, FaultRuns.settledLedger(topics, runId), leaves);
        assertThat(audit.lostAttempts()).as("attempts lost with the wide worker").hasSizeGreaterThanOrEqualTo(held);
        assertThat(audit.lostCharges()).as("each charged its whole grant")
                .isEqualTo(audit.lostAttempts().size() * FaultRuns.LEAF_GRANT);
    }

    /** Leaves the worker of this run has reported a step of. */
    private static int startedBy(RunTopics topics, String runId, String workerId) {
        Set<String> paths = topics.usage(runId).stream().filter(e -> workerId.equals(e.workerId()) && !e.isFinal())
                .map(UsageEvent::path).collect(Collectors.toSet());
        return paths.size();
    }

    /** Leaves the worker of this run has reported a step of and no final event. */
    private static int heldBy(RunTopics topics, String runId, String workerId) {
        List<UsageEvent> mine = topics.usage(runId).stream().filter(e -> workerId.equals(e.workerId())).toList();
        Set<String> paths = mine.stream().filter(e -> !e.isFinal()).map(UsageEvent::path).collect(Collectors.toSet());
        mine.stream().filter(UsageEvent::isFinal).map(UsageEvent::path).forEach(paths::remove);
        return paths.size();
    }

    /** A strict fan-out of leaves of two 1.5 s turns each, granted {@value FaultRuns#LEAF_GRANT} tokens apiece. */
    private static Submission slowFanOut(String runId, int leaves) {
        List<String> nodes = new ArrayList<>();
        for (int i = 0; i < leaves; i++) {
            nodes.add("{\"kind\":\"leaf\",\"id\":\"l%03d\",\"executor\":\"simulated\",\"input\":{\"turns\":[".formatted(i)
                    + "{\"input_tokens\":100,\"output_tokens\":50,\"latency_ms\":1500},"
                    + "{\"input_tokens\":100,\"output_tokens\":50,\"latency_ms\":1500}]}}");
        }
        return FaultRuns.submission(runId, """
                {"run_id": "RUN", "mode": "strict", "workflow": {"id": "%s", "leaf_max_tokens": %d,
                 "budget": {"max_tokens": %d}, "nodes": [%s]}}""".formatted(FaultRuns.WORKFLOW, FaultRuns.LEAF_GRANT,
                10L * leaves * FaultRuns.LEAF_GRANT, String.join(",", nodes)));
    }
}
