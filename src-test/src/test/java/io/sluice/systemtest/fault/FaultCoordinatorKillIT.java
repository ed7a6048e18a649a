package io.sluice.systemtest.fault;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.sluice.coordinator.CoordinatorConfig;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Submission;
import io.sluice.schemas.Topics;
import io.sluice.systemtest.kafka.RunTopics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The coordinator dies mid-run (SIGKILL: its open transaction is left hanging, its in-memory ledger gone) while the
 * workers go on reporting usage. A coordinator that takes the run's partition over — a restart under the same
 * instance id, or the surviving member of a two-coordinator group — rebuilds the run's state from the ledger and
 * the usage it has not yet committed, and the run ends with the books of a crash-free run.
 *
 * <p>The coordinators run with a 6 s group session timeout ({@link FaultTopology#FAST_FAILOVER}) so that a dead
 * member's partitions move within the test's time, not after the default 45 s.
 */
@ExtendWith(FaultExtension.class)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class FaultCoordinatorKillIT {

    private static final Logger log = LoggerFactory.getLogger(FaultCoordinatorKillIT.class);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

    @Test
    void shouldEndWithTheCrashFreeTotalsWhenTheCoordinatorIsKilledAndRestarted(ProcessCluster cluster, FaultSeed seed) {
        // given
        Random faults = seed.random();
        long workload = faults.nextLong();
        int leaves = seed.pick(60, 150);
        RunTopics topics = FaultTopology.start(cluster, List.of("c1"), FaultTopology.FAST_FAILOVER);
        FaultTopology.CrashFreeRun clean = FaultTopology.crashFree(cluster, topics,
                FaultRuns.fanOut(FaultRuns.runId("clean"), new Random(workload), leaves), leaves);

        // when: the coordinator is SIGKILLed at a random point (2 points in long mode) and a new one started, under
        // the same instance id (which fences the dead one's open transaction at once) or a new one (whose open
        // transaction then holds back read_committed readers until it times out), as the seed decides
        String runId = FaultRuns.runId("kill-coordinator");
        Submission submission = FaultRuns.fanOut(runId, new Random(workload), leaves);
        Deque<Long> points = FaultRuns.faultPoints(faults, seed.pick(1, 2), leaves, 0.15, 0.7);
        int planned = points.size();
        List<String> kills = new ArrayList<>();
        String[] current = {"c1"};
        log.info("run {}: killing the coordinator when {} of {} leaves have ended", runId, points, leaves);
        long t0 = System.nanoTime();
        Receipt receipt = FaultRuns.run(topics, cluster.bootstrapServers(), submission, FaultRuns.RUN_TIMEOUT, ended -> {
            while (!points.isEmpty() && ended >= points.peekFirst()) {
                points.pollFirst();
                String dead = current[0];
                String next = faults.nextBoolean() ? dead : "c" + (kills.size() + 2);
                cluster.coordinator(dead).kill();
                cluster.startCoordinator(next, FaultTopology.FAST_FAILOVER);
                current[0] = next;
                kills.add(dead + "->" + next + "@" + ended);
                log.info("run {}: SIGKILLed coordinator {} at {} ended leaves and started {}", runId, dead, ended,
                        next.equals(dead) ? "it again (same instance id)" : "coordinator " + next + " (new instance id)");
            }
        });
        long runMs = FaultTopology.millis(t0, System.nanoTime());

        // then
        RunAudit audit = RunAudit.read(topics, runId);
        log.info("run {} ended {} in {} ms, coordinator kills {}: {}; slowest starts: {}", runId, receipt.status(), runMs,
                kills, audit.summary(), audit.slowestStarts(5));
        assertThat(kills).as("coordinator kills during the run").hasSize(planned);
        assertThat(cluster.coordinator(current[0]).isAlive()).as("coordinator %s alive after the run", current[0]).isTrue();
        audit.assertConsistent(receipt, FaultRuns.settledLedger(topics, runId), leaves);
        assertThat(audit.lostAttempts()).as("attempts charged as lost although no worker died").isEmpty();
        RunAudit.assertSameAccount(receipt, clean.receipt());
    }

    @Test
    void shouldEndWithTheCrashFreeTotalsWhenOneOfTwoCoordinatorsIsKilled(ProcessCluster cluster, FaultSeed seed) {
        // given: two coordinators that share the run partitions
        Random faults = seed.random();
        long workload = faults.nextLong();
        int leaves = seed.pick(60, 150);
        RunTopics topics = FaultTopology.start(cluster, List.of("c1", "c2"), FaultTopology.FAST_FAILOVER);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            await("both coordinators to own run partitions").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> coordinatorGroup(admin).members().stream().filter(m -> !m.assignment().topicPartitions().isEmpty()).count() == 2);
            FaultTopology.CrashFreeRun clean = FaultTopology.crashFree(cluster, topics,
                    FaultRuns.fanOut(FaultRuns.runId("clean"), new Random(workload), leaves), leaves);

            // when: the coordinator that owns the run is SIGKILLed at a random point; the other one must take over
            String runId = FaultRuns.runId("kill-one-of-two");
            Submission submission = FaultRuns.fanOut(runId, new Random(workload), leaves);
            Deque<Long> points = FaultRuns.faultPoints(faults, 1, leaves, 0.15, 0.7);
            String[] killed = {null};
            log.info("run {}: killing its coordinator when {} of {} leaves have ended", runId, points, leaves);
            long t0 = System.nanoTime();
            Receipt receipt = FaultRuns.run(topics, cluster.bootstrapServers(), submission, FaultRuns.RUN_TIMEOUT, ended -> {
                if (!points.isEmpty() && ended >= points.peekFirst()) {
                    points.pollFirst();
                    killed[0] = owner(admin, runId).orElseThrow(() -> new AssertionError("no coordinator owns run " + runId));
                    cluster.coordinator(killed[0]).kill();
                    log.info("run {}: SIGKILLed its coordinator {} at {} ended leaves", runId, killed[0], ended);
                }
            });
            long runMs = FaultTopology.millis(t0, System.nanoTime());

            // then
            RunAudit audit = RunAudit.read(topics, runId);
            log.info("run {} ended {} in {} ms, coordinator {} killed: {}; slowest starts: {}", runId, receipt.status(), runMs,
                    killed[0], audit.summary(), audit.slowestStarts(5));
            assertThat(killed[0]).as("the run's coordinator was killed during the run").isNotNull();
            String survivor = "c1".equals(killed[0]) ? "c2" : "c1";
            assertThat(cluster.coordinator(survivor).isAlive()).as("surviving coordinator %s alive", survivor).isTrue();
            assertThat(owner(admin, runId)).as("owner of the run's partition after the kill").contains(survivor);
            audit.assertConsistent(receipt, FaultRuns.settledLedger(topics, runId), leaves);
            assertThat(audit.lostAttempts()).as("attempts charged as lost although no worker died").isEmpty();
            RunAudit.assertSameAccount(receipt, clean.receipt());
        }
    }

    /** The instance id of the coordinator whose assignment holds the run's submissions partition, if any. */
    private static Optional<String> owner(Admin admin, String runId) {
        int partitions = Topics.all().stream().filter(s -> s.name().equals(Topics.SUBMISSIONS)).findFirst().orElseThrow().partitions();
        TopicPartition tp = new TopicPartition(Topics.SUBMISSIONS, Topics.partitionFor(runId, partitions));
        String prefix = "sluice-coordinator-";
        for (MemberDescription m : coordinatorGroup(admin).members()) {
            if (m.assignment().topicPartitions().contains(tp) && m.clientId().startsWith(prefix)) {
                return Optional.of(m.clientId().substring(prefix.length()));
            }
        }
        return Optional.empty();
    }

    private static ConsumerGroupDescription coordinatorGroup(Admin admin) {
        String group = CoordinatorConfig.DEFAULT_GROUP_ID;
        try {
            return admin.describeConsumerGroups(List.of(group)).describedGroups().get(group)
                    .get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while describing " + group, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot describe group " + group + ": " + e, e);
        }
    }
}
