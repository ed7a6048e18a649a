package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WorkerSilenceTest {

    private static final long LEASE = 10_000;
    private static final long NOW = 1_000_000;

    @Test
    void shouldHearAPartitionWhoseNewestHeartbeatIsRecent() {
        WorkerSilence s = new WorkerSilence(LEASE);
        s.heard(0, NOW - 1_000, NOW);

        assertThat(s.silent(0, NOW)).isFalse();
        assertThat(s.silent(0, NOW + LEASE / 2 - 1_000)).isFalse();
        assertThat(s.silent(0, NOW + LEASE / 2 - 999)).isTrue();
    }

    @Test
    void shouldTakeACoordinatorReadingOldHeartbeatsForSilenceNotForHearingItsWorkers() {
        // given: after a broker restart the coordinator reads a backlog: heartbeats written 12 s ago, read now
        WorkerSilence s = new WorkerSilence(LEASE);

        // when
        s.heard(0, NOW - 12_000, NOW);

        // then: silent — the workers' newer heartbeats are unread, so no lease may lapse yet (once, reading any old
        // heartbeat counted as hearing the workers, and attempts whose renewals were still unread lapsed, charged)
        assertThat(s.silent(0, NOW)).isTrue();
        // and once it has caught up, it hears them again; an older record read later changes nothing
        s.heard(0, NOW - 500, NOW + 100);
        s.heard(0, NOW - 9_000, NOW + 200);
        assertThat(s.silent(0, NOW + 200)).isFalse();
    }

    @Test
    void shouldNotLetAWorkerClockAheadOfTheCoordinatorsKeepAPartitionHeardForever() {
        WorkerSilence s = new WorkerSilence(LEASE);
        s.heard(0, NOW + 3_600_000, NOW);

        assertThat(s.silent(0, NOW + LEASE)).isTrue();
    }

    @Test
    void shouldTakeARecordWithoutATimestampAsWrittenWhenRead() {
        WorkerSilence s = new WorkerSilence(LEASE);
        s.heard(0, -1, NOW);

        assertThat(s.silent(0, NOW + LEASE / 2)).isFalse();
    }

    @Test
    void shouldNeverBeSilentWithoutLeasesNorForAPartitionNotHeardOfYet() {
        assertThat(new WorkerSilence(0).silent(0, NOW)).isFalse();
        assertThat(new WorkerSilence(LEASE).silent(3, NOW)).isFalse();
    }
}
