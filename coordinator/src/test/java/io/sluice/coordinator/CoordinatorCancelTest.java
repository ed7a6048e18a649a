package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;

import io.sluice.schemas.Halt;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Rejection;
import io.sluice.schemas.Status;
import io.sluice.schemas.Topics;
import io.sluice.schemas.UsageEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Cancel requests on sluice.cancellations, as the coordinator's loop takes them: carried out, or dead-lettered. */
class CoordinatorCancelTest {

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
                {"run_id": "%s", "workflow": {"id": "w", "leaf_max_tokens": 10, "nodes": [
                 {"kind": "branch", "id": "b", "nodes": [{"kind": "leaf", "id": "a", "executor": "simulated"}]},
                 {"kind": "leaf", "id": "x", "executor": "simulated"}]}}""".formatted(runId);
    }

    private static String cancelJson(String runId, String path) {
        return """
                {"run_id": "%s", %s "reason": "not needed", "requested_by": "alice@ops-1", "requested_at_ms": 1}"""
                .formatted(runId, path == null ? "" : "\"path\": \"" + path + "\",");
    }

    private List<LeafTask> tasksOf(String runId) {
        return loop.sent(Topics.TASKS, LeafTask.class).stream().filter(t -> t.runId().equals(runId)).toList();
    }

    private List<Rejection> deadLetters(String kind) {
        return loop.sent(Topics.DLQ, Rejection.class).stream().filter(r -> kind.equals(r.kind())).toList();
    }

    @Test
    void shouldHaltTheRunThroughTheSamePathAsABudgetHaltAndSayWhoCancelledIt() {
        // given
        loop = new LoopHarness().start();
        loop.deliver(Topics.SUBMISSIONS, "c1", submissionJson("c1"));
        await().atMost(WAIT).until(() -> tasksOf("c1").size() == 2);

        // when
        loop.deliver(Topics.CANCELLATIONS, "c1", cancelJson("c1", null));
        await().atMost(WAIT).until(() -> !loop.sent(Topics.CONTROL, Halt.class).isEmpty());
        for (LeafTask t : tasksOf("c1")) {
            loop.deliver(Topics.USAGE, "c1", Json.writeString(new UsageEvent("c1", t.path(), t.attempt(), "w1", 1, 0, 0, 0,
                    true, Status.CANCELLED, null, null, 2)));
        }

        // then
        assertThat(loop.sent(Topics.CONTROL, Halt.class)).singleElement().satisfies(h -> {
            assertThat(h.path()).isEqualTo("w");
            assertThat(h.cause()).isEqualTo(Status.CANCELLED);
            assertThat(h.reason()).isEqualTo("w: cancelled by alice@ops-1: not needed");
        });
        await().atMost(WAIT).until(() -> !loop.sent(Topics.RESULTS, Receipt.class).isEmpty());
        Receipt receipt = loop.sent(Topics.RESULTS, Receipt.class).get(0);
        assertThat(receipt.status()).isEqualTo(Status.CANCELLED);
        assertThat(receipt.nodes().get(0).reason()).isEqualTo("w: cancelled by alice@ops-1: not needed");
        assertThat(loop.registry.get("sluice.coordinator.halts").tag("cause", "cancelled").counter().count()).isEqualTo(1);
        assertThat(deadLetters("cancel")).isEmpty();
    }

    @Test
    void shouldDeadLetterEveryCancelItCannotCarryOutWithWhy() {
        // given
        loop = new LoopHarness().start();
        loop.deliver(Topics.SUBMISSIONS, "c2", submissionJson("c2"));
        await().atMost(WAIT).until(() -> tasksOf("c2").size() == 2);
        int home = Topics.partitionFor("c2", LoopHarness.PARTITIONS);

        // when: no such run, no such node, a leaf, a key that is not the run, the wrong partition, a tombstone, junk
        loop.deliver(Topics.CANCELLATIONS, "nope", cancelJson("nope", null));
        loop.deliver(Topics.CANCELLATIONS, "c2", cancelJson("c2", "w/zz"));
        loop.deliver(Topics.CANCELLATIONS, "c2", cancelJson("c2", "w/b/a"));
        loop.deliver(Topics.CANCELLATIONS, home, "other", cancelJson("c2", null));
        loop.deliver(Topics.CANCELLATIONS, (home + 1) % LoopHarness.PARTITIONS, "c2", cancelJson("c2", null));
        loop.deliver(Topics.CANCELLATIONS, "c2", null);
        loop.deliver(Topics.CANCELLATIONS, "c2", "{\"run_id\": \"c2\"}");

        // then: each is refused with its reason; the run goes on
        await().atMost(WAIT).until(() -> deadLetters("cancel").size() == 7);
        assertThat(deadLetters("cancel")).extracting(r -> r.errors().get(0)).containsExactlyInAnyOrder(
                "run_id: no active run 'nope'",
                "path: w/zz is no workflow or branch of run c2 (a leaf is cancelled with its branch)",
                "path: w/b/a is no workflow or branch of run c2 (a leaf is cancelled with its branch)",
                "key: 'other' is not the request's run_id 'c2' (key it by run id)",
                "partition: a cancel of run 'c2' belongs on partition " + home
                        + ", where its run is (Kafka's default partitioner on the run id)",
                "record has no value (a tombstone), expected a CancelRequest",
                deadLetters("cancel").stream().map(r -> r.errors().get(0)).filter(e -> e.startsWith("not a valid"))
                        .findFirst().orElse("a schema error"));
        assertThat(deadLetters("cancel")).allSatisfy(r -> assertThat(r.sourceTopic()).isEqualTo(Topics.CANCELLATIONS));
        assertThat(loop.sent(Topics.CONTROL, Halt.class)).isEmpty();
        assertThat(loop.loopAlive()).isTrue();
        assertThat(loop.registry.get("sluice.coordinator.dead.letters").tag("kind", "cancel").counter().count())
                .isEqualTo(7);
    }
}
