package io.sluice.coordinator.ledger;

import static io.sluice.coordinator.ledger.Trees.NONE;
import static io.sluice.coordinator.ledger.Trees.repeated;
import static io.sluice.coordinator.ledger.Trees.strict;
import static io.sluice.coordinator.ledger.Trees.tokens;
import static io.sluice.coordinator.ledger.Trees.workflow;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;

import io.sluice.schemas.Halt;
import io.sluice.schemas.Heartbeat;
import io.sluice.schemas.Status;
import io.sluice.schemas.UsageEvent;
import org.junit.jupiter.api.Test;

/**
 * Liveness is the coordinator's: an attempt whose worker was heard of holds a lease, renewed by its usage events and
 * its worker's heartbeats; one that lapses is given up as lost and its worker told to stop it.
 */
class RunLedgerLeaseTest {

    private static final long LEASE = 10_000;
    private static final LedgerConfig CONFIG = new LedgerConfig(1.25, 0.5, 1000, 2, Duration.ofMillis(100),
            Duration.ofMillis(100)).withLease(Duration.ofMillis(LEASE));

    private static Driver run() {
        Driver d = Driver.of(strict(workflow("w", tokens(1000), 100L, repeated("l", NONE, 1))), CONFIG);
        d.begin();
        return d;
    }

    private static Heartbeat beat(String worker, String path, int attempt, long at) {
        return new Heartbeat("run-1", worker, List.of(new Heartbeat.Attempt(path, attempt)), at);
    }

    @Test
    void shouldGiveUpAnAttemptWhoseWorkerFellSilentAndTellItToStop() {
        // given: its worker reported one step, then nothing
        Driver d = run();
        d.usage("w/l", 10, 0, 1);
        assertThat(d.ledger.nextDeadlineMs()).hasValue(Driver.START + LEASE);

        // when
        assertThat(d.tick(Driver.START + LEASE - 1).isEmpty()).isTrue();
        Decisions lapsed = d.tick(Driver.START + LEASE);

        // then: lost, charged its whole grant, its worker told to stop that attempt (not the leaf's next one)
        assertThat(lapsed.halts()).singleElement().satisfies(h -> {
            assertThat(h.path()).isEqualTo("w/l");
            assertThat(h.attempt()).isEqualTo(1);
            assertThat(h.key()).isEqualTo("run-1|w/l#1");
            assertThat(h.covers("w/l", 1)).isTrue();
            assertThat(h.covers("w/l", 2)).isFalse();
        });
        assertThat(d.entry("w/l").status()).isEqualTo(Status.PENDING);
        assertThat(d.entry("w/l").reason()).startsWith("attempt 1 lost (lease lapsed: no word from worker worker-1 for "
                + "10000 ms): charged its whole grant 100 tokens (reported 10)");
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(100);
        // and the late events of the frozen worker are ignored
        d.running.remove("w/l");
        Decisions retry = d.tick(d.ledger.nextDeadlineMs().getAsLong());
        assertThat(retry.tasks()).singleElement().satisfies(t -> assertThat(t.attempt()).isEqualTo(2));
    }

    @Test
    void shouldKeepAnAttemptAliveWhileItsWorkerBeats() {
        // given
        Driver d = run();
        d.usage("w/l", 10, 0, 1);

        // when: a heartbeat every 5 s for 30 s, then the final event
        for (long t = 5_000; t <= 30_000; t += 5_000) {
            d.now = Driver.START + t;
            assertThat(d.ledger.onHeartbeat(beat("worker-1", "w/l", 1, d.now), d.now).halts()).isEmpty();
        }
        Decisions last = d.finish("w/l", Status.SUCCEEDED);

        // then
        assertThat(last.receipt().status()).isEqualTo(Status.SUCCEEDED);
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(10);
    }

    @Test
    void shouldNotRenewForAnotherWorkerNorReviveALapsedAttempt() {
        // given
        Driver d = run();
        d.usage("w/l", 10, 0, 1);

        // when: only an impostor beats for it, then the real worker beats too late
        d.now = Driver.START + 5_000;
        d.ledger.onHeartbeat(beat("impostor", "w/l", 1, d.now), d.now);
        d.now = Driver.START + LEASE + 1;
        Decisions late = d.ledger.onHeartbeat(beat("worker-1", "w/l", 1, d.now), d.now);

        // then: it lapsed all the same
        assertThat(late.halts()).extracting(Halt::attempt).containsExactly(1);
        assertThat(d.entry("w/l").status()).isEqualTo(Status.PENDING);
    }

    @Test
    void shouldBindAnAttemptToTheWorkerOfItsFirstEvent() {
        // given: a long first step; the worker's heartbeat comes before any usage
        Driver d = run();
        d.now = Driver.START + 1_000;
        d.ledger.onHeartbeat(beat("worker-7", "w/l", 1, d.now), d.now);
        assertThat(d.entry("w/l").workerId()).isEqualTo("worker-7");
        d.raw(new UsageEvent("run-1", "w/l", 1, "worker-7", 1, 10, 0, 1, false, Status.RUNNING, null, null, d.now));

        // when: usage and heartbeats of another worker
        Decisions forged = d.raw(new UsageEvent("run-1", "w/l", 1, "worker-1", 2, 500, 0, 1, true, Status.SUCCEEDED,
                null, null, d.now));
        d.ledger.onHeartbeat(beat("worker-1", "w/l", 1, d.now), d.now);

        // then
        assertThat(forged.rejection()).isEqualTo("worker_id: 'worker-1' is not the worker 'worker-7' that started w/l attempt 1");
        assertThat(d.entry("w/l").workerId()).isEqualTo("worker-7");
    }

    @Test
    void shouldLetTheLatestDeliveryRunAnAttemptWhoseAnnouncedWorkerCouldNotAcceptIt() {
        // given: worker-7 announced the attempt, its acceptance was refused across a broker restart, and the record was
        // delivered (as a first delivery: the broker had not persisted the acquisition) to worker-1, which announced it
        Driver d = run();
        d.now = Driver.START + 1_000;
        d.ledger.onHeartbeat(beat("worker-7", "w/l", 1, d.now), d.now);
        d.now = Driver.START + 4_000;
        d.ledger.onHeartbeat(beat("worker-1", "w/l", 1, d.now), d.now);

        // when: worker-1 runs it
        Decisions ran = d.raw(new UsageEvent("run-1", "w/l", 1, "worker-1", 1, 500, 0, 1, true, Status.SUCCEEDED,
                null, null, d.now));

        // then: its usage counts, exactly (once it was refused, worker-7's lease lapsed and the whole grant was charged)
        assertThat(ran.rejection()).isNull();
        assertThat(d.entry("w/l").status()).isEqualTo(Status.SUCCEEDED);
        assertThat(d.entry("w").spent().totalTokens()).isEqualTo(500);
    }

    @Test
    void shouldNeverGiveUpAnAttemptNoWorkerHasTakenYet() {
        // given: dispatched, still queued
        Driver d = run();

        // then: no lease without a worker; the queue may be long
        assertThat(d.ledger.nextDeadlineMs()).isEmpty();
        assertThat(d.tick(Driver.START + 3_600_000).isEmpty()).isTrue();
    }

    @Test
    void shouldGiveAnAttemptAFreshLeaseWhenItsRunIsTakenOver() {
        // given: heard of at START, taken over later
        Driver d = run();
        d.usage("w/l", 10, 0, 1);
        Driver other = d.takeOver();

        // when: the new owner's first call is at START + 8 s
        other.tick(Driver.START + 8_000);

        // then: the lease runs from its first call, a whole lease for the worker to be heard from
        assertThat(other.ledger.nextDeadlineMs()).hasValue(Driver.START + 8_000 + LEASE);
        assertThat(other.tick(Driver.START + LEASE).halts()).isEmpty();
        assertThat(other.tick(Driver.START + 8_000 + LEASE).halts()).extracting(Halt::attempt).containsExactly(1);
    }

    @Test
    void shouldKeepOneQueuedGiveUpPerAttemptHoweverOftenItsLeaseIsRenewed() {
        // given: an attempt whose worker beats 10,000 times, and a silent partition's extension on every call
        Driver d = run();
        d.usage("w/l", 10, 0, 1);
        for (int i = 1; i <= 10_000; i++) {
            d.now = Driver.START + i;
            d.ledger.extendLeases(d.now);
            d.ledger.onHeartbeat(beat("worker-1", "w/l", 1, d.now), d.now);
        }

        // then: the queue of give-ups does not grow with the renewals (once it held one entry per renewal)
        assertThat(d.ledger.queuedGiveUps()).isLessThanOrEqualTo(2);
        // and the lease still runs from the last renewal
        assertThat(d.ledger.nextDeadlineMs()).hasValue(Driver.START + 10_000 + LEASE);
        assertThat(d.tick(Driver.START + 10_000 + LEASE - 1).halts()).isEmpty();
        assertThat(d.tick(Driver.START + 10_000 + LEASE).halts()).extracting(Halt::attempt).containsExactly(1);
    }

    @Test
    void shouldKeepLeasesAliveThroughASilenceWhileExtendingAtMostEveryQuarterLease() {
        // given: heard of at START, then its partition silent; the caller extends on every call
        Driver d = run();
        d.usage("w/l", 10, 0, 1);

        // when: calls every second for three leases
        for (long t = 1_000; t <= 3 * LEASE; t += 1_000) {
            d.ledger.extendLeases(Driver.START + t);
            assertThat(d.tick(Driver.START + t).halts()).as("at +%d ms", t).isEmpty();
        }

        // then: the lease runs from the last extension, within a quarter lease of the last call
        long deadline = d.ledger.nextDeadlineMs().getAsLong();
        assertThat(deadline).isBetween(Driver.START + 3 * LEASE + LEASE * 3 / 4, Driver.START + 3 * LEASE + LEASE);
    }
}
