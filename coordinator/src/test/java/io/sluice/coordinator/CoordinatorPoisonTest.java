package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.micrometer.core.instrument.Meter;
import io.sluice.coordinator.ledger.LedgerConfig;
import io.sluice.schemas.Halt;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.RunRecord;
import io.sluice.schemas.Source;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.SubmissionValidator;
import io.sluice.schemas.Topics;
import io.sluice.schemas.Usage;
import io.sluice.schemas.UsageEvent;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * No record of any input or recovery topic takes the coordinator down, and no run's failure is another's: poison is
 * dead-lettered with a precise reason and its offset committed; a run whose ledger cannot be rebuilt fails alone; a
 * run id is taken for good; every transaction is fenced by the group.
 */
class CoordinatorPoisonTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private LoopHarness loop;

    @AfterEach
    void stop() {
        if (loop != null) {
            loop.close();
        }
    }

    private static String submissionJson(String runId) {
        return """
                {"run_id": "%s", "workflow": {"id": "w", "leaf_max_tokens": 10, "nodes": [{"kind": "leaf", "id": "a", "executor": "simulated"}]}}"""
                .formatted(runId);
    }

    private static Submission submission(String runId) {
        return new SubmissionValidator().parse(submissionJson(runId).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static String runRecord(String runId, boolean finished) {
        return Json.writeString(new RunRecord(runId, submission(runId), new Source(0, 0), 1_000, finished, 1_000));
    }

    /** Run ids whose records all land on one partition. */
    private static List<String> samePartition(String prefix, int n) {
        int target = Topics.partitionFor(prefix + 0, LoopHarness.PARTITIONS);
        return java.util.stream.IntStream.range(0, 10_000).mapToObj(i -> prefix + i)
                .filter(id -> Topics.partitionFor(id, LoopHarness.PARTITIONS) == target).limit(n).toList();
    }

    private List<Rejection> deadLetters() {
        return loop.sent(Topics.DLQ, Rejection.class);
    }

    private List<LeafTask> tasksOf(String runId) {
        return loop.sent(Topics.TASKS, LeafTask.class).stream().filter(t -> t.runId().equals(runId)).toList();
    }

    private List<ProducerRecord<String, byte[]>> results(String key) {
        return loop.sent(Topics.RESULTS).stream().filter(r -> r.key().equals(key)).toList();
    }

    @Test
    void shouldDeadLetterNullAndTombstoneUsageAndGoOn() {
        // given: the records that once crash-looped the coordinator (its committed offset pointed at them)
        loop = new LoopHarness().start();
        loop.deliver(Topics.USAGE, "r1", "null");
        loop.deliver(Topics.USAGE, "r1", null);
        loop.deliver(Topics.USAGE, "r1", "{\"run_id\": \"r1\"}");

        // when
        loop.deliver(Topics.SUBMISSIONS, "r1", submissionJson("r1"));

        // then: each dead-lettered with where it was and why, their offsets committed, and the next run served
        await().atMost(WAIT).until(() -> !tasksOf("r1").isEmpty());
        assertThat(loop.loopAlive()).isTrue();
        List<Rejection> dead = deadLetters();
        assertThat(dead).hasSize(3).allSatisfy(r -> {
            assertThat(r.sourceTopic()).isEqualTo(Topics.USAGE);
            assertThat(r.key()).isEqualTo("r1");
            assertThat(r.kind()).isEqualTo("usage");
        });
        assertThat(dead.get(0).errors()).containsExactly("not a valid UsageEvent: payload: must be an object, got null");
        assertThat(dead.get(1).errors()).containsExactly("record has no value (a tombstone), expected a UsageEvent");
        assertThat(dead.get(2).errors().get(0)).startsWith("not a valid UsageEvent: attempt: is required");
        assertThat(dead).extracting(Rejection::offset).containsExactly(0L, 1L, 2L);
        TopicPartition usage = new TopicPartition(Topics.USAGE, Topics.partitionFor("r1", LoopHarness.PARTITIONS));
        assertThat(loop.producer.consumerGroupOffsetsHistory()).anySatisfy(o ->
                assertThat(o.values().iterator().next()).containsEntry(usage, new OffsetAndMetadata(3)));
    }

    @Test
    void shouldDeadLetterPoisonedRunRecordsAndRestoreTheRest() {
        // given: the runs topic holds null, garbage and a record under another run's key beside a real unfinished run
        List<String> ids = samePartition("rr-", 4);
        loop = new LoopHarness();
        loop.store(Topics.RUNS, ids.get(0), "null");
        loop.store(Topics.RUNS, ids.get(1), "{oops");
        loop.store(Topics.RUNS, ids.get(2), runRecord(ids.get(3), false));
        loop.store(Topics.RUNS, ids.get(3), runRecord(ids.get(3), false));

        // when
        loop.start();

        // then: the real run is taken over (restored from no entries: it begins), and each bad record is a dead letter
        await().atMost(WAIT).until(() -> !tasksOf(ids.get(3)).isEmpty());
        assertThat(loop.loopAlive()).isTrue();
        assertThat(deadLetters()).extracting(Rejection::kind).containsOnly("run");
        assertThat(deadLetters()).extracting(r -> r.errors().get(0)).containsExactly(
                "not a valid RunRecord: payload: must be an object, got null",
                deadLetters().get(1).errors().get(0),
                "key: '" + ids.get(2) + "' is not the run id '" + ids.get(3) + "' of the record");
        assertThat(deadLetters().get(1).errors().get(0)).startsWith("not a valid RunRecord: Unexpected character");
    }

    @Test
    void shouldFailOnlyTheRunWhoseLedgerCannotBeRestored() {
        // given: two unfinished runs on one partition; one has an entry for a path it does not have
        List<String> ids = samePartition("rl-", 2);
        String bad = ids.get(0);
        String good = ids.get(1);
        loop = new LoopHarness();
        loop.store(Topics.RUNS, bad, runRecord(bad, false));
        loop.store(Topics.RUNS, good, runRecord(good, false));
        loop.store(Topics.LEDGER, bad + "|w/ghost", Json.writeString(new LedgerEntry(bad, "w/ghost", "leaf", Mode.STRICT,
                Status.RUNNING, null, null, null, Usage.ZERO, Map.of(Status.RUNNING, 1L), 0, 1_000)));

        // when
        loop.start();

        // then: the bad run fails, with a receipt that says why and a halt of its whole tree; the good one goes on
        await().atMost(WAIT).until(() -> !tasksOf(good).isEmpty() && !results(bad).isEmpty());
        Receipt receipt = Json.read(results(bad).get(0).value(), Receipt.class);
        assertThat(receipt.status()).isEqualTo(Status.FAILED);
        assertThat(receipt.reason()).startsWith("run failed in the coordinator: cannot restore the run from its 1 ledger "
                + "entries: entries of paths run " + bad + " does not have: w/ghost");
        assertThat(loop.sent(Topics.CONTROL, Halt.class)).singleElement().satisfies(h -> {
            assertThat(h.runId()).isEqualTo(bad);
            assertThat(h.path()).isEqualTo("w");
            assertThat(h.status()).isEqualTo(Status.CANCELLED);
        });
        assertThat(deadLetters()).singleElement().satisfies(r -> {
            assertThat(r.runId()).isEqualTo(bad);
            assertThat(r.kind()).isEqualTo("run");
        });
        RunRecord finished = loop.sent(Topics.RUNS, RunRecord.class).stream().filter(r -> r.runId().equals(bad))
                .reduce((a, b) -> b).orElseThrow();
        assertThat(finished.finished()).isTrue();
        assertThat(tasksOf(bad)).isEmpty();
    }

    @Test
    void shouldLetATombstoneRepairABadLedgerEntry() {
        // given: the bad entry, then its tombstone
        String runId = "repaired";
        loop = new LoopHarness();
        loop.store(Topics.RUNS, runId, runRecord(runId, false));
        loop.store(Topics.LEDGER, runId + "|w/ghost", Json.writeString(new LedgerEntry(runId, "w/ghost", "leaf",
                Mode.STRICT, Status.RUNNING, null, null, null, Usage.ZERO, Map.of(Status.RUNNING, 1L), 0, 1_000)));
        loop.store(Topics.LEDGER, runId + "|w/ghost", null);

        // when
        loop.start();

        // then
        await().atMost(WAIT).until(() -> !tasksOf(runId).isEmpty());
        assertThat(results(runId)).isEmpty();
        assertThat(deadLetters()).isEmpty();
    }

    @Test
    void shouldNeverReplaceAReceiptWithTheRejectionOfARepeatedRunId() {
        // given: a run that finished
        loop = new LoopHarness().start();
        loop.deliver(Topics.SUBMISSIONS, "once", submissionJson("once"));
        await().atMost(WAIT).until(() -> !tasksOf("once").isEmpty());
        loop.deliver(Topics.USAGE, "once", Json.writeString(new UsageEvent("once", "w/a", 1, "wk", 1, 0, 0, 0, true,
                Status.SUCCEEDED, null, null, 0)));
        await().atMost(WAIT).until(() -> !results("once").isEmpty());

        // when: the same id again, and garbage keyed by it
        loop.deliver(Topics.SUBMISSIONS, "once", submissionJson("once"));
        loop.deliver(Topics.SUBMISSIONS, "once", "{garbage");

        // then: both rejected under their own keys; the receipt keyed by the run id stays the run's
        int p = Topics.partitionFor("once", LoopHarness.PARTITIONS);
        await().atMost(WAIT).until(() -> !results(Topics.rejectionKey(new Source(p, 2))).isEmpty());
        assertThat(results("once")).singleElement().satisfies(r ->
                assertThat(Json.read(r.value(), Receipt.class).status()).isEqualTo(Status.SUCCEEDED));
        assertThat(Json.read(results("once").get(0).value(), Receipt.class).source()).isEqualTo(new Source(p, 0));
        Receipt again = Json.read(results(Topics.rejectionKey(new Source(p, 1))).get(0).value(), Receipt.class);
        assertThat(again.status()).isEqualTo(Status.REJECTED);
        assertThat(again.source()).isEqualTo(new Source(p, 1));
        assertThat(again.reason()).isEqualTo("run_id: a run with id 'once' was already submitted");
        assertThat(tasksOf("once")).hasSize(1);
    }

    @Test
    void shouldKnowEveryRunIdItsPartitionEverHadFromTheRunsTopic() {
        // given: a finished and a retired run, as a take-over finds them (no in-memory guard remembers them)
        loop = new LoopHarness();
        loop.store(Topics.RUNS, "done-1", runRecord("done-1", true));
        loop.store(Topics.RUNS, "gone-1", Json.writeString(RunRecord.retired("gone-1", 1_000, 2_000)));
        loop.start();

        // when
        loop.deliver(Topics.SUBMISSIONS, "done-1", submissionJson("done-1"));
        loop.deliver(Topics.SUBMISSIONS, "gone-1", submissionJson("gone-1"));
        loop.deliver(Topics.SUBMISSIONS, "fresh-1", submissionJson("fresh-1"));

        // then
        await().atMost(WAIT).until(() -> !tasksOf("fresh-1").isEmpty());
        assertThat(tasksOf("done-1")).isEmpty();
        assertThat(tasksOf("gone-1")).isEmpty();
        assertThat(deadLetters()).extracting(r -> r.errors().get(0)).containsExactlyInAnyOrder(
                "run_id: a run with id 'done-1' was already submitted", "run_id: a run with id 'gone-1' was already submitted");
    }

    @Test
    void shouldNameTheRunAfterTheKeyAndRefuseAKeyThatDisagrees() {
        // given
        loop = new LoopHarness().start();
        String noId = """
                {"workflow": {"id": "w", "leaf_max_tokens": 10, "nodes": [{"kind": "leaf", "id": "a", "executor": "simulated"}]}}""";

        // when
        loop.deliver(Topics.SUBMISSIONS, "by-key", noId);
        loop.deliver(Topics.SUBMISSIONS, "other-key", submissionJson("body-id"));

        // then
        await().atMost(WAIT).until(() -> !tasksOf("by-key").isEmpty() && !deadLetters().isEmpty());
        assertThat(deadLetters()).singleElement().satisfies(r ->
                assertThat(r.errors()).containsExactly("key: 'other-key' is not the submission's run_id 'body-id'"));
        assertThat(tasksOf("body-id")).isEmpty();
    }

    @Test
    void shouldRefuseAForgedSequenceNumberAndStillEndTheRun() {
        // given
        loop = new LoopHarness().start();
        loop.deliver(Topics.SUBMISSIONS, "forged", submissionJson("forged"));
        await().atMost(WAIT).until(() -> !tasksOf("forged").isEmpty());

        // when: a forged event far ahead, then the genuine ones
        loop.deliver(Topics.USAGE, "forged", Json.writeString(new UsageEvent("forged", "w/a", 1, "wk", 1000, 1, 1, 1,
                false, Status.RUNNING, null, null, 0)));
        loop.deliver(Topics.USAGE, "forged", Json.writeString(new UsageEvent("forged", "w/a", 1, "wk", 1, 3, 2, 1,
                false, Status.RUNNING, null, null, 0)));
        loop.deliver(Topics.USAGE, "forged", Json.writeString(new UsageEvent("forged", "w/a", 1, "wk", 2, 0, 0, 0,
                true, Status.SUCCEEDED, null, null, 0)));

        // then
        await().atMost(WAIT).until(() -> !results("forged").isEmpty());
        Receipt receipt = Json.read(results("forged").get(0).value(), Receipt.class);
        assertThat(receipt.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(receipt.nodes().get(0).spent()).isEqualTo(new Usage(3, 2, 1));
        assertThat(deadLetters()).singleElement().satisfies(r ->
                assertThat(r.errors()).containsExactly("seq: 1000 skips ahead of w/a attempt 1's next seq 1"));
    }

    @Test
    void shouldCommitEveryTransactionWithTheGroupsMetadataAlsoWhenItConsumedNothing() {
        // given: a run whose deadline passes with nothing consumed
        loop = new LoopHarness().start();
        loop.deliver(Topics.SUBMISSIONS, "ticked", """
                {"run_id": "ticked", "workflow": {"id": "w", "budget": {"timeout_ms": 50}, "leaf_max_tokens": 10,
                 "nodes": [{"kind": "leaf", "id": "a", "executor": "simulated"}]}}""");

        // when: the deadline halts the run in a transaction of its own
        await().atMost(WAIT).until(() -> !loop.sent(Topics.CONTROL).isEmpty());

        // then: that transaction too carried offsets and the group's metadata, so an evicted coordinator cannot commit
        await().atMost(WAIT).until(() -> loop.producer.commitCount() >= 2);
        assertThat(loop.producer.consumerGroupOffsetsHistory()).hasSize((int) loop.producer.commitCount());
    }

    @Test
    void shouldDispatchAHugeRunInBoundedTransactions() {
        // given: 200,000 leaves without max_parallel; a small dispatch chunk and transaction bound
        CoordinatorConfig config = CoordinatorConfig.of("unused:9092", "test")
                .withLedger(LedgerConfig.defaults().withRunMaxParallel(1000).withMaxDispatchPerCall(100))
                .withMaxTransactionBytes(64 * 1024);
        loop = new LoopHarness(config).start();

        // when
        loop.deliver(Topics.SUBMISSIONS, "huge", """
                {"run_id": "huge", "workflow": {"id": "w", "leaf_max_tokens": 10,
                 "nodes": [{"kind": "leaf", "id": "a", "executor": "simulated", "repeat": 200000}]}}""");

        // then: the run's cap, reached over many transactions
        await().atMost(WAIT).until(() -> tasksOf("huge").size() == 1000);
        assertThat(loop.producer.commitCount()).isGreaterThanOrEqualTo(10);
        assertThat(loop.loopAlive()).isTrue();
    }

    @Test
    void shouldTagEveryMeterWithItsInstance() {
        // given
        loop = new LoopHarness().start();
        loop.deliver(Topics.SUBMISSIONS, "metered", submissionJson("metered"));

        // when
        await().atMost(WAIT).until(() -> !tasksOf("metered").isEmpty());

        // then: also the counters of every status and cause, at zero from the start
        List<Meter> meters = loop.registry.getMeters();
        assertThat(meters).isNotEmpty().allSatisfy(m -> assertThat(m.getId().getTag(CoordinatorMetrics.TAG)).isEqualTo("test"));
        assertThat(loop.registry.find("sluice.coordinator.halts").tag("cause", "budget_exceeded").counter()).isNotNull();
        assertThat(loop.registry.find("sluice.coordinator.runs").tag("status", "timed_out").counter()).isNotNull();
        assertThat(loop.registry.find("sluice.coordinator.overshoot.tokens").tag("mode", "strict").counter().count()).isZero();
        assertThat(loop.registry.find("sluice.coordinator.overshoot.tokens").tag("mode", "optimistic").counter()).isNotNull();
        assertThat(loop.registry.find("sluice.coordinator.attempts.abandoned").counter().count()).isZero();
        assertThat(loop.registry.find("sluice.coordinator.runs.overdue.seconds").gauge().value()).isZero();
    }

    @Test
    void shouldShowHowLongARunIsStuckPastItsDeadline() {
        // given: a run of 300 ms whose attempt never reports (nothing ends it before its attempt is abandoned)
        loop = new LoopHarness().start();
        loop.deliver(Topics.SUBMISSIONS, "stuck", """
                {"run_id": "stuck", "workflow": {"id": "w", "budget": {"timeout_ms": 300}, "leaf_max_tokens": 10,
                 "nodes": [{"kind": "leaf", "id": "a", "executor": "simulated"}]}}""");
        await().atMost(WAIT).until(() -> !tasksOf("stuck").isEmpty());

        // then: past its deadline, the gauge says by how much
        await().atMost(WAIT).until(() -> loop.registry.get("sluice.coordinator.runs.overdue.seconds").gauge().value() > 0.2);
    }

    @Test
    void shouldRetireAFinishedRunOnceItsRetentionPassed() {
        // given: retention zero, a run of one branch with two copies of a leaf
        loop = new LoopHarness(CoordinatorConfig.of("unused:9092", "test").withFinishedRunRetention(Duration.ZERO)).start();
        loop.deliver(Topics.SUBMISSIONS, "retiree", """
                {"run_id": "retiree", "workflow": {"id": "w", "leaf_max_tokens": 10, "nodes": [{"kind": "branch", "id": "b",
                 "nodes": [{"kind": "leaf", "id": "l", "executor": "simulated", "repeat": 2}]}]}}""");
        await().atMost(WAIT).until(() -> tasksOf("retiree").size() == 2);

        // when: it finishes
        for (String path : List.of("w/b/l[0]", "w/b/l[1]")) {
            loop.deliver(Topics.USAGE, "retiree", Json.writeString(new UsageEvent("retiree", path, 1, "wk", 1, 0, 0, 0, true,
                    Status.SUCCEEDED, null, null, 0)));
        }

        // then: its receipt, then tombstones for every ledger key and every halt key it can have, and a retired record
        await().atMost(WAIT).until(() -> loop.sent(Topics.RUNS, RunRecord.class).stream().anyMatch(RunRecord::isRetired));
        assertThat(results("retiree")).hasSize(1);
        assertThat(loop.sent(Topics.LEDGER).stream().filter(r -> r.value() == null).map(ProducerRecord::key))
                .containsExactlyInAnyOrder("retiree|w", "retiree|w/b", "retiree|w/b/l[0]", "retiree|w/b/l[1]");
        assertThat(loop.sent(Topics.CONTROL).stream().filter(r -> r.value() == null).map(ProducerRecord::key))
                .containsExactly("retiree|w", "retiree|w/b");
        RunRecord retired = loop.sent(Topics.RUNS, RunRecord.class).stream().reduce((a, b) -> b).orElseThrow();
        assertThat(retired.runId()).isEqualTo("retiree");
        assertThat(retired.submission()).isNull();
        assertThat(retired.finished()).isTrue();

        // and its id stays taken
        loop.deliver(Topics.SUBMISSIONS, "retiree", submissionJson("retiree"));
        await().atMost(WAIT).until(() -> !deadLetters().isEmpty());
        assertThat(deadLetters().get(0).errors()).containsExactly("run_id: a run with id 'retiree' was already submitted");
    }

    @Test
    void shouldLetALeaseLapseOnlyWhileItsPartitionHearsFromOtherWorkers() {
        // given: a 1 s lease; the run's one attempt is heard of once
        CoordinatorConfig config = CoordinatorConfig.of("unused:9092", "test")
                .withLedger(LedgerConfig.defaults().withLease(Duration.ofSeconds(1)));
        loop = new LoopHarness(config).start();
        loop.deliver(Topics.SUBMISSIONS, "leased", submissionJson("leased"));
        await().atMost(WAIT).until(() -> !tasksOf("leased").isEmpty());
        loop.deliver(Topics.USAGE, "leased", Json.writeString(new UsageEvent("leased", "w/a", 1, "frozen", 1, 1, 1, 1,
                false, Status.RUNNING, null, null, 0)));

        // when: nobody at all is heard on the partition (a broker outage looks like this), for well over the lease
        // then: the attempt is not given up
        await().during(Duration.ofMillis(2500)).atMost(WAIT).until(() -> attemptHalts().isEmpty());

        // when: another worker's beacons reach the partition while the attempt's worker stays silent
        int partition = Topics.partitionFor("leased", LoopHarness.PARTITIONS);
        String beacon = Json.writeString(io.sluice.schemas.Heartbeat.beacon("alive", 0));
        await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> {
            loop.deliver(Topics.HEARTBEATS, partition, null, beacon);
            return !attemptHalts().isEmpty();
        });

        // then: given up, and its worker told to stop that attempt
        assertThat(attemptHalts()).singleElement().satisfies(h -> {
            assertThat(h.path()).isEqualTo("w/a");
            assertThat(h.attempt()).isEqualTo(1);
            assertThat(h.reason()).contains("lease lapsed: no word from worker frozen");
        });
        await().atMost(WAIT).untilAsserted(() -> assertThat(
                loop.registry.get("sluice.coordinator.attempts.abandoned").counter().count()).isEqualTo(1.0));
        // and the spend meter counts what the lost attempt was charged (its whole grant), not only what it reported
        double tokens = loop.registry.get("sluice.coordinator.tokens.spent").counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
        assertThat(tokens).isEqualTo(10.0);
    }

    private List<Halt> attemptHalts() {
        return loop.sent(Topics.CONTROL, Halt.class).stream().filter(h -> h.attempt() != null).toList();
    }
}
