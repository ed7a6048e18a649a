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

/** Usage events that must change nothing: duplicates, late, unknown. */
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
        assertThat(d.ledger.duplicatesIgnored()).isEqualTo(expectedCount);
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
        d.raw(event("w/a", 1, 3, 10, false));

        // when / then: seq 2 arrives after seq 3
        assertIgnored(event("w/a", 1, 2, 10, false), 1);
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(20);
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
    void shouldIgnoreAnUnknownAttemptNumber() {
        assertIgnored(event("w/a", 2, 1, 10, false), 1);
        assertIgnored(event("w/a", 0, 1, 10, false), 2);
    }

    @Test
    void shouldIgnoreUnknownAndNeverDispatchedPaths() {
        assertIgnored(event("w/nope", 1, 1, 10, false), 1);
        assertIgnored(event("w/r[7]", 1, 1, 10, false), 2);
        assertIgnored(event("w", 1, 1, 10, false), 3);
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
    void shouldAcceptASequenceGapButNotGoBack() {
        // given / when
        d.raw(event("w/a", 1, 5, 10, false));

        // then
        assertIgnored(event("w/a", 1, 4, 10, false), 1);
        assertThat(d.raw(event("w/a", 1, 6, 10, false)).entries()).isNotEmpty();
    }

    @Test
    void shouldTakeAFinalEventWithANonTerminalStatusAsFailed() {
        // given: no retries
        d = Driver.of(strict(workflow("w", tokens(1000), 100L, leaf("a"))),
                new LedgerConfig(1.25, 0.5, 1000, 1, Duration.ZERO, Duration.ZERO));
        d.begin();

        // when
        d.raw(new UsageEvent("run-1", "w/a", 1, "worker-9", 1, 3, 0, 1, true, Status.RUNNING, null, null, 0));

        // then
        assertThat(d.entry("w/a").status()).isEqualTo(Status.FAILED);
        assertThat(d.entry("w/a").reason()).isEqualTo("failed; worker fault: final event with status running taken as failed");
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(3);
    }
}
