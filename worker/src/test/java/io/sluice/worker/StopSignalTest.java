package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import io.sluice.schemas.Halt;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Grant;
import io.sluice.schemas.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A halt reaches every covered leaf at once, however slow one executor's cancellation callback is. */
class StopSignalTest {

    private final ExecutorService callbacks = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        callbacks.shutdownNow();
    }

    @Test
    void shouldStopEveryCoveredLeafWhileASlowCallbackStillRuns() throws InterruptedException {
        // given: two running leaves; the first one's executor blocks in its cancellation callback
        RunningLeaves running = new RunningLeaves();
        StopSignal slow = new StopSignal(callbacks);
        StopSignal other = new StopSignal(callbacks);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch slowEntered = new CountDownLatch(1);
        slow.onStop(() -> {
            slowEntered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        running.add(new LeafTask("r1", "w/a", 1, Grant.UNLIMITED, null, "simulated", null, 0), slow);
        running.add(new LeafTask("r1", "w/b", 1, Grant.UNLIMITED, null, "simulated", null, 0), other);

        // when: the halt watcher's thread stops them (this once ran the callbacks on it, one after the other)
        int stopped = running.stopCovered(new Halt("r1", "w", Status.CANCELLED, "w: max_tokens 10 exhausted", 0));

        // then: both stopped on return, the slow callback still running on a thread of its own
        assertThat(stopped).isEqualTo(2);
        assertThat(slow.isStopped()).isTrue();
        assertThat(other.await(Duration.ZERO)).isTrue();
        assertThat(slowEntered.await(5, TimeUnit.SECONDS)).isTrue();
        release.countDown();
    }
}
