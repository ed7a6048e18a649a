package io.sluice.coordinator.ledger;

import static io.sluice.coordinator.ledger.Trees.NONE;
import static io.sluice.coordinator.ledger.Trees.parallel;
import static io.sluice.coordinator.ledger.Trees.repeated;
import static io.sluice.coordinator.ledger.Trees.strict;
import static io.sluice.coordinator.ledger.Trees.workflow;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import io.sluice.schemas.Status;
import io.sluice.schemas.UsageEvent;
import org.junit.jupiter.api.Test;

/**
 * What one valid submission may make a coordinator do at once: a run without max_parallel still has an in-flight cap,
 * and one call dispatches a bounded chunk, the rest in the calls after it; a permanent failure ends its leaf at once.
 */
class RunLedgerBoundsTest {

    @Test
    void shouldCapAWorkflowWithoutMaxParallelAtTheLedgersRunCap() {
        // given: 200,000 leaves, no max_parallel anywhere (this once dispatched everything in one call)
        Driver d = Driver.of(strict(workflow("w", NONE, 10L, repeated("l", NONE, 200_000))),
                LedgerConfig.defaults().withRunMaxParallel(50));

        // when
        Decisions begun = d.begin();

        // then
        assertThat(begun.tasks()).hasSize(50);
        assertThat(d.ledger.liveLeafObjects()).isEqualTo(50);
        d.work("w/l[0]", 5);
        assertThat(d.last().tasks()).hasSize(1);
        assertThat(d.maxRunning()).isEqualTo(50);
    }

    @Test
    void shouldLeaveAWorkflowsOwnMaxParallelAsItIs() {
        // given
        Driver d = Driver.of(strict(workflow("w", parallel(80), 10L, repeated("l", NONE, 1000))),
                LedgerConfig.defaults().withRunMaxParallel(50));

        // when / then
        assertThat(d.begin().tasks()).hasSize(80);
    }

    @Test
    void shouldDispatchInChunksAndAskForTheNextCallAtOnce() {
        // given: room for 25 at once, but at most 10 per call
        Driver d = Driver.of(strict(workflow("w", parallel(25), 10L, repeated("l", NONE, 100))),
                LedgerConfig.defaults().withMaxDispatchPerCall(10));

        // when
        Decisions first = d.begin();

        // then: 10 now, and a tick is due at once for the rest
        assertThat(first.tasks()).hasSize(10);
        assertThat(d.ledger.hasPendingDispatch()).isTrue();
        assertThat(d.ledger.nextDeadlineMs()).hasValue(Driver.START);
        assertThat(d.tick(Driver.START + 1).tasks()).hasSize(10);
        assertThat(d.tick(Driver.START + 2).tasks()).hasSize(5); // max_parallel, not the chunk, stopped it
        assertThat(d.ledger.hasPendingDispatch()).isFalse();
        assertThat(d.ledger.nextDeadlineMs()).isEmpty();
    }

    @Test
    void shouldGoOnWithACutDispatchInAnyKindOfCall() {
        // given
        Driver d = Driver.of(strict(workflow("w", parallel(25), 10L, repeated("l", NONE, 100))),
                LedgerConfig.defaults().withMaxDispatchPerCall(10));
        d.begin();

        // when: the next call is a duplicate usage event
        Decisions d2 = d.raw(new UsageEvent("run-1", "w/l[0]", 1, "worker-1", 0, 0, 0, 0, false, Status.RUNNING, null, null, 0));

        // then: refused, and still the next chunk goes out
        assertThat(d2.rejection()).isNotNull();
        assertThat(d2.tasks()).hasSize(10);
    }

    @Test
    void shouldRestoreACutDispatchAndGoOnWithItAsTheOriginalWould() {
        // given
        LedgerConfig config = LedgerConfig.defaults().withMaxDispatchPerCall(10);
        Driver d = Driver.of(strict(workflow("w", parallel(25), 10L, repeated("l", NONE, 100))), config);
        d.begin();
        Driver other = d.takeOver();

        // when
        Decisions original = d.tick(Driver.START + 5);
        Decisions restored = other.tick(Driver.START + 5);

        // then
        assertThat(restored).isEqualTo(original);
        assertThat(restored.tasks()).hasSize(10);
    }

    @Test
    void shouldEndALeafAtOnceWhenItsWorkerReportsAPermanentFailure() {
        // given: three attempts allowed
        Driver d = Driver.of(strict(workflow("w", NONE, 10L, repeated("l", NONE, 1))),
                new LedgerConfig(1.25, 0.5, 1000, 3, Duration.ZERO, Duration.ZERO));
        d.begin();

        // when
        d.raw(new UsageEvent("run-1", "w/l", 1, "worker-1", 1, 0, 0, 0, true, Status.FAILED,
                "unknown executor 'nope'", false, null, 0));

        // then: not retried
        assertThat(d.ledger.isTerminal()).isTrue();
        assertThat(d.entry("w/l").status()).isEqualTo(Status.FAILED);
        assertThat(d.entry("w/l").reason()).isEqualTo("failed (worker: unknown executor 'nope'); not retried: its worker "
                + "reports the failure as permanent");
        assertThat(d.dispatched).hasSize(1);
    }
}
