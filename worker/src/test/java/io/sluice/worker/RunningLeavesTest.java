package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import io.sluice.schemas.Grant;
import io.sluice.schemas.Halt;
import io.sluice.schemas.Heartbeat;
import io.sluice.schemas.LeafTask;
import org.junit.jupiter.api.Test;

/** What a worker runs: what its heartbeats name, and what an attempt's halt stops. */
class RunningLeavesTest {

    private static LeafTask task(String run, String path, int attempt) {
        return new LeafTask(run, path, attempt, Grant.UNLIMITED, null, "simulated", null, 0);
    }

    @Test
    void shouldNameEveryAttemptItRunsByRun() {
        // given
        RunningLeaves running = new RunningLeaves();
        running.add(task("r1", "w/a", 1), new StopSignal());
        running.add(task("r1", "w/b", 2), new StopSignal());
        running.add(task("r2", "w/a", 1), new StopSignal());

        // when
        Map<String, List<Heartbeat.Attempt>> byRun = running.attemptsByRun();

        // then
        assertThat(byRun).containsOnlyKeys("r1", "r2");
        assertThat(byRun.get("r1")).containsExactlyInAnyOrder(new Heartbeat.Attempt("w/a", 1), new Heartbeat.Attempt("w/b", 2));
        assertThat(byRun.get("r2")).containsExactly(new Heartbeat.Attempt("w/a", 1));
    }

    @Test
    void shouldStopOnlyTheAttemptWhoseLeaseLapsed() {
        // given: attempt 1 (frozen, then woken) and attempt 2 (its retry) of one leaf on this worker
        RunningLeaves running = new RunningLeaves();
        StopSignal first = new StopSignal();
        StopSignal retry = new StopSignal();
        running.add(task("r1", "w/a", 1), first);
        running.add(task("r1", "w/a", 2), retry);

        // when
        int stopped = running.stopCovered(Halt.ofAttempt("r1", "w/a", 1, "lease lapsed", 0));

        // then
        assertThat(stopped).isEqualTo(1);
        assertThat(first.isStopped()).isTrue();
        assertThat(retry.isStopped()).isFalse();
        Halts halts = new Halts();
        halts.put(Halt.ofAttempt("r1", "w/a", 1, "lease lapsed", 0).key(), Halt.ofAttempt("r1", "w/a", 1, "lease lapsed", 0));
        assertThat(halts.covering("r1", "w/a", 1)).isPresent();
        assertThat(halts.covering("r1", "w/a", 2)).isEmpty();
    }
}
