package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.Status;
import io.sluice.schemas.Topics;
import io.sluice.schemas.UsageEvent;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The coordinator's Kafka shell ({@link LoopHarness}): what it publishes for
 * submissions and usage, and that every batch is one transaction carrying the consumed offsets. The budget
 * rules themselves are tested on {@code RunLedger}; the real-broker behaviour in the system tests.
 */
class CoordinatorLoopTest {

    private static final int PARTITIONS = LoopHarness.PARTITIONS;

    private LoopHarness loop;
    private MockProducer<String, byte[]> producer;

    @BeforeEach
    void startLoop() {
        loop = new LoopHarness().start();
        producer = loop.producer;
    }

    @AfterEach
    void stopLoop() {
        loop.close();
    }

    private void deliver(String topic, String key, String json) {
        loop.deliver(topic, key, json);
    }

    private List<ProducerRecord<String, byte[]>> sent(String topic) {
        return loop.sent(topic);
    }

    @Test
    void shouldDispatchAValidSubmissionAndCommitItsOffsetInTheSameTransaction() {
        // given
        deliver(Topics.SUBMISSIONS, "r1", """
                {"run_id": "r1", "workflow": {"id": "w", "leaf_max_tokens": 100,
                 "nodes": [{"kind": "leaf", "id": "a", "executor": "simulated"}]}}""");

        // when / then
        await().atMost(Duration.ofSeconds(5)).until(() -> !sent(Topics.TASKS).isEmpty());
        LeafTask task = Json.read(sent(Topics.TASKS).get(0).value(), LeafTask.class);
        assertThat(task.path()).isEqualTo("w/a");
        assertThat(task.grant().maxTokens()).isEqualTo(100L);
        assertThat(sent(Topics.LEDGER)).isNotEmpty().allSatisfy(r -> {
            assertThat(r.key()).startsWith("r1|");
            assertThat(r.partition()).isEqualTo(Topics.partitionFor("r1", PARTITIONS));
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> producer.commitCount() >= 1);
        assertThat(producer.consumerGroupOffsetsHistory()).isNotEmpty();
        assertThat(producer.consumerGroupOffsetsHistory().get(0).values().iterator().next())
                .containsEntry(new TopicPartition(Topics.SUBMISSIONS, Topics.partitionFor("r1", PARTITIONS)),
                        new org.apache.kafka.clients.consumer.OffsetAndMetadata(1));
    }

    @Test
    void shouldFinishARunWhenItsLastLeafReportsAndPublishTheReceipt() {
        // given
        deliver(Topics.SUBMISSIONS, "r2", """
                {"run_id": "r2", "workflow": {"id": "w", "budget": {"max_tokens": 500}, "leaf_max_tokens": 100,
                 "nodes": [{"kind": "leaf", "id": "a", "executor": "simulated"}]}}""");
        await().atMost(Duration.ofSeconds(5)).until(() -> !sent(Topics.TASKS).isEmpty());

        // when
        deliver(Topics.USAGE, "r2", Json.writeString(new UsageEvent("r2", "w/a", 1, "wk", 1, 30, 20, 1, false, Status.RUNNING, null, null, 0)));
        deliver(Topics.USAGE, "r2", Json.writeString(new UsageEvent("r2", "w/a", 1, "wk", 2, 0, 0, 0, true, Status.SUCCEEDED, null, null, 0)));

        // then
        await().atMost(Duration.ofSeconds(5)).until(() -> !sent(Topics.RESULTS).isEmpty());
        Receipt receipt = Json.read(sent(Topics.RESULTS).get(0).value(), Receipt.class);
        assertThat(receipt.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(receipt.nodes().get(0).spent().totalTokens()).isEqualTo(50);
        assertThat(receipt.nodes().get(0).reserved().tokens()).isZero();
    }

    @Test
    void shouldRejectAnInvalidSubmissionWithADeadLetterAndARejectedReceipt() {
        // given
        deliver(Topics.SUBMISSIONS, "bad-1", """
                {"run_id": "bad-1", "workflow": {"id": "w", "budget": {"max_tokens": -5}, "nodes": []}}""");

        // when / then
        await().atMost(Duration.ofSeconds(5)).until(() -> !sent(Topics.RESULTS).isEmpty());
        Receipt receipt = Json.read(sent(Topics.RESULTS).get(0).value(), Receipt.class);
        assertThat(receipt.status()).isEqualTo(Status.REJECTED);
        assertThat(receipt.reason()).contains("workflow.budget.max_tokens: must be ≥ 0, got -5");
        Rejection rejection = Json.read(sent(Topics.DLQ).get(0).value(), Rejection.class);
        assertThat(rejection.sourceTopic()).isEqualTo(Topics.SUBMISSIONS);
        assertThat(rejection.payload()).contains("\"max_tokens\": -5");
        assertThat(sent(Topics.TASKS)).isEmpty();
    }

    @Test
    void shouldDeadLetterMalformedAndUnknownUsageWithoutStopping() {
        // given
        deliver(Topics.USAGE, "r9", "{not json");
        deliver(Topics.USAGE, "r9", Json.writeString(new UsageEvent("r9", "w/a", 1, "wk", 1, 1, 1, 1, false, Status.RUNNING, null, null, 0)));
        deliver(Topics.SUBMISSIONS, "r3", """
                {"run_id": "r3", "workflow": {"id": "w", "leaf_max_tokens": 10, "nodes": [{"kind": "leaf", "id": "a", "executor": "simulated"}]}}""");

        // when / then: both bad records dead-lettered, and the loop still serves the next submission
        await().atMost(Duration.ofSeconds(5)).until(() -> !sent(Topics.TASKS).isEmpty());
        List<Rejection> dead = sent(Topics.DLQ).stream().map(r -> Json.read(r.value(), Rejection.class)).toList();
        assertThat(dead).hasSize(2);
        assertThat(dead.get(0).errors().get(0)).contains("not a valid UsageEvent");
        assertThat(dead.get(1).errors().get(0)).isEqualTo("run_id: no active run 'r9' on this coordinator");
    }

    @Test
    void shouldRefuseASecondRunWithTheSameId() {
        // given
        String json = """
                {"run_id": "dup", "workflow": {"id": "w", "leaf_max_tokens": 10, "nodes": [{"kind": "leaf", "id": "a", "executor": "simulated"}]}}""";
        deliver(Topics.SUBMISSIONS, "dup", json);
        deliver(Topics.SUBMISSIONS, "dup", json);

        // when / then
        await().atMost(Duration.ofSeconds(5)).until(() -> !sent(Topics.DLQ).isEmpty());
        assertThat(Json.read(sent(Topics.DLQ).get(0).value(), Rejection.class).errors())
                .containsExactly("run_id: a run with id 'dup' was already submitted");
        assertThat(sent(Topics.TASKS)).hasSize(1);
    }

    @Test
    void shouldRollBackToTheCommittedStateWhenATransactionFailsAndRedoTheWork() {
        // given: the first transaction fails to commit, as when the broker restarts under it
        producer.commitTransactionException = new org.apache.kafka.common.KafkaException("transaction aborted by a broker restart");
        String json = """
                {"run_id": "r7", "workflow": {"id": "w", "leaf_max_tokens": 10, "nodes": [{"kind": "leaf", "id": "a", "executor": "simulated"}]}}""";
        deliver(Topics.SUBMISSIONS, "r7", json);

        // when: the loop rolls back and Kafka delivers the uncommitted input again, from the committed offset
        await().atMost(Duration.ofSeconds(5)).until(() -> loop.producers.size() == 2);
        TopicPartition tp = new TopicPartition(Topics.SUBMISSIONS, Topics.partitionFor("r7", PARTITIONS));
        loop.consumer.schedulePollTask(() -> loop.consumer.addRecord(new ConsumerRecord<>(Topics.SUBMISSIONS, tp.partition(),
                0L, "r7", json.getBytes(StandardCharsets.UTF_8))));

        // then: the old producer is closed, the new one publishes the run's task once and commits
        MockProducer<String, byte[]> second = loop.producers.get(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> second.commitCount() >= 1);
        assertThat(loop.producers.get(0).closed()).isTrue();
        assertThat(loop.producers.get(0).commitCount()).isZero();
        assertThat(second.history().stream().filter(r -> r.topic().equals(Topics.TASKS)).count()).isEqualTo(1);
        assertThat(second.history().stream().filter(r -> r.topic().equals(Topics.RUNS)).count()).isEqualTo(1);
    }
}
