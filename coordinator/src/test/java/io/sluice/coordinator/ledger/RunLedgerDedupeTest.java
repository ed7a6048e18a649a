package io.sluice.coordinator.ledger;

import static io.sluice.coordinator.ledger.Trees.NONE;
import static io.sluice.coordinator.ledger.Trees.leaf;
import static io.sluice.coordinator.ledger.Trees.repeated;
import static io.sluice.coordinator.ledger.Trees.strict;
import static io.sluice.coordinator.ledger.Trees.tokens;
import static io.sluice.coordinator.ledger.Trees.workflow;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Status;
import io.sluice.schemas.UsageEvent;

/**
 * Usage events that must change nothing: duplicates and late events are ignored; forged, out-of-range and
 * out-of-order ones are refused with a reason for the dead-letter topic.
 */
class RunLedgerDedupeTest {

    private Driver d;

    @BeforeEach
    void startRun() {
        d = Driver.of(strict(workflow("w", tokens(1000), 100L, leaf("a"), repeated("r", NONE, 2), leaf("later"))));
        d.begin();
    }

    private static UsageEvent event(String path, int attempt, long seq, long in, boolean isFinal) {
        return new UsageEvent("run-1", path, attempt, "worker-9", seq, in, 0, 1, isFinal,
                isFinal ? Status.SUCCEEDED : Status.RUNNING, null, null, 0);
    }

    private void assertIgnored(UsageEvent e, long expectedCount) {
        LedgerEntry before = d.entry("w");
        Decisions result = d.raw(e);
        assertThat(result.isEmpty()).as("decisions for %s", e).isTrue();
        assertThat(result.rejection()).as("rejection of %s", e).isNull();
        assertThat(d.ledger.duplicatesIgnored()).isEqualTo(expectedCount);
        assertThat(d.entry("w")).isEqualTo(before);
    }

    private void assertRefused(UsageEvent e, String reason) {
        LedgerEntry before = d.entry("w");
        long refusedBefore = d.ledger.rejectedEvents();
        Decisions result = d.raw(e);
        assertThat(result.isEmpty()).as("decisions for %s", e).isTrue();
        assertThat(result.rejection()).as("rejection of %s", e).isEqualTo(reason);
        assertThat(d.ledger.rejectedEvents()).isEqualTo(refusedBefore + 1);
        assertThat(d.entry("w")).isEqualTo(before);
    }

    @Test
    void shouldIgnoreARepeatedSequenceNumber() {
        // given
        d.raw(event("w/a", 1, 1, 10, false));

        // when / then
        assertIgnored(event("w/a", 1, 1, 10, false), 1);
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(10);
    }

    @Test
    void shouldIgnoreAnOlderSequenceNumberArrivingLate() {
        // given
        d.raw(event("w/a", 1, 1, 10, false));
        d.raw(event("w/a", 1, 2, 10, false));
        d.raw(event("w/a", 1, 3, 10, false));

        // when / then: seq 2 arrives again after seq 3
        assertIgnored(event("w/a", 1, 2, 10, false), 1);
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(30);
    }

    @Test
    void shouldIgnoreEventsOfAFinishedAttempt() {
        // given
        d.raw(event("w/a", 1, 1, 10, false));
        d.raw(event("w/a", 1, 2, 0, true));

        // when / then: the final again, and a usage event after the final
        assertIgnored(event("w/a", 1, 2, 0, true), 1);
        assertIgnored(event("w/a", 1, 3, 50, false), 2);
        assertThat(d.entry("w/a").status()).isEqualTo(Status.SUCCEEDED);
    }

    @Test
    void shouldRefuseAnAttemptNeverDispatched() {
        assertRefused(event("w/a", 2, 1, 10, false), "attempt: w/a attempt 2 was never dispatched (the attempt in flight is 1)");
        assertRefused(event("w/a", 0, 1, 10, false), "attempt: must be ≥ 1, got 0");
    }

    @Test
    void shouldRefuseUnknownAndNeverDispatchedPaths() {
        // given: one leaf in flight at a time (leaf_max_tokens 100 of 1000 admits all four, so cap it)
        d = Driver.of(strict(workflow("w", tokens(1000).withMaxParallel(1), 100L, leaf("a"), leaf("later"))));
        d.begin();

        // when / then
        assertRefused(event("w/nope", 1, 1, 10, false), "path: run run-1 has no leaf 'w/nope'");
        assertRefused(event("w/r[7]", 1, 1, 10, false), "path: run run-1 has no leaf 'w/r[7]'");
        assertRefused(event("w", 1, 1, 10, false), "path: run run-1 has no leaf 'w'");
        assertRefused(event("w/later", 1, 1, 10, false), "path: w/later was never dispatched");
        assertThat(d.ledger.duplicatesIgnored()).isZero();
    }

    @Test
    void shouldRefuseASequenceNumberThatSkipsAhead() {
        // given: a forged seq far ahead — folded, it would make every genuine later event a duplicate
        d.raw(event("w/a", 1, 1, 10, false));

        // when / then
        assertRefused(event("w/a", 1, 1000, 10, false), "seq: 1000 skips ahead of w/a attempt 1's next seq 2");
        d.raw(event("w/a", 1, 2, 10, false));
        d.raw(event("w/a", 1, 3, 0, true));
        assertThat(d.entry("w/a").status()).isEqualTo(Status.SUCCEEDED);
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(20);
    }

    @Test
    void shouldRefuseEventsOfAnotherWorkerThanTheOneThatStartedTheAttempt() {
        // given: worker-9's first event binds the attempt to it
        d.raw(event("w/a", 1, 1, 10, false));

        // when / then
        assertRefused(new UsageEvent("run-1", "w/a", 1, "intruder", 2, 500, 0, 1, true, Status.SUCCEEDED, null, null, 0),
                "worker_id: 'intruder' is not the worker 'worker-9' that started w/a attempt 1");
        assertThat(d.raw(event("w/a", 1, 2, 10, false)).rejection()).isNull();
        assertThat(d.entry("w/a").workerId()).isEqualTo("worker-9");
    }

    @Test
    void shouldRefuseAbsurdAndNegativeAmountsSoThatNoSumOverflows() {
        // when / then: Long.MAX_VALUE once made total_tokens negative
        assertRefused(new UsageEvent("run-1", "w/a", 1, "worker-9", 1, Long.MAX_VALUE, 0, 1, false, Status.RUNNING, null,
                null, 0), "input_tokens: 9223372036854775807 would take the run's spent input tokens beyond "
                + RunLedger.MAX_AMOUNT + " (spent 0)");
        assertRefused(new UsageEvent("run-1", "w/a", 1, "worker-9", 1, 0, -1, 1, false, Status.RUNNING, null, null, 0),
                "usage: negative amounts (input_tokens 0, output_tokens -1, steps 1, cost_microusd 0)");
        // sums: each event within 10^15, together beyond it
        d.raw(new UsageEvent("run-1", "w/a", 1, "worker-9", 1, 0, 0, RunLedger.MAX_AMOUNT - 1, false, Status.RUNNING,
                null, null, 0));
        assertRefused(new UsageEvent("run-1", "w/a", 1, "worker-9", 2, 0, 0, 2, false, Status.RUNNING, null, null, 0),
                "steps: 2 would take the run's spent steps beyond " + RunLedger.MAX_AMOUNT + " (spent "
                        + (RunLedger.MAX_AMOUNT - 1) + ")");
        assertThat(d.entry("w").spent().steps()).isEqualTo(RunLedger.MAX_AMOUNT - 1);
    }

    @Test
    void shouldIgnoreEverythingOnceTheRunIsOver() {
        // given
        for (String path : d.runningPaths()) {
            d.work(path, 5);
        }
        assertThat(d.ledger.isTerminal()).isTrue();

        // when / then
        assertIgnored(event("w/a", 1, 99, 10, true), 1);
        assertThat(d.ledger.onTick(1_000_000).isEmpty()).isTrue();
    }

    @Test
    void shouldRefuseAnEventOfAnotherRun() {
        UsageEvent foreign = new UsageEvent("run-2", "w/a", 1, "worker-9", 1, 1, 0, 1, false, Status.RUNNING, null, null, 0);
        assertThatThrownBy(() -> d.ledger.onUsage(foreign, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("run-2");
    }

    @Test
    void shouldRefuseAStatusItsPlaceForbids() {
        // given: no retries
        d = Driver.of(strict(workflow("w", tokens(1000), 100L, leaf("a"))),
                new LedgerConfig(1.25, 0.5, 1000, 1, Duration.ZERO, Duration.ZERO));
        d.begin();

        // when / then
        assertRefused(new UsageEvent("run-1", "w/a", 1, "worker-9", 1, 3, 0, 1, true, Status.RUNNING, null, null, 0),
                "status: a final event needs a terminal status, got running");
        assertRefused(new UsageEvent("run-1", "w/a", 1, "worker-9", 1, 3, 0, 1, true, Status.REJECTED, null, null, 0),
                "status: a final event needs a terminal status, got rejected");
        assertRefused(new UsageEvent("run-1", "w/a", 1, "worker-9", 1, 3, 0, 1, false, Status.SUCCEEDED, null, null, 0),
                "status: a step event's status is running, got succeeded");
        assertThat(d.entry("w/a").status()).isEqualTo(Status.RUNNING);
    }
}
