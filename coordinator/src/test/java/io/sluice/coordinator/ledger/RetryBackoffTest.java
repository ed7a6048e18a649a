package io.sluice.coordinator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** The retry backoff: capped, exponential, with a jitter that is a pure function of its inputs. */
class RetryBackoffTest {

    private static final LedgerConfig DEFAULTS = LedgerConfig.defaults();

    @Test
    void shouldDoubleTheBackoffPerAttemptUpToTheCap() {
        assertThat(RetryBackoff.cappedMs(200, 10_000, 1)).isEqualTo(200);
        assertThat(RetryBackoff.cappedMs(200, 10_000, 2)).isEqualTo(400);
        assertThat(RetryBackoff.cappedMs(200, 10_000, 6)).isEqualTo(6400);
        assertThat(RetryBackoff.cappedMs(200, 10_000, 7)).isEqualTo(10_000);
        assertThat(RetryBackoff.cappedMs(200, 10_000, 100)).isEqualTo(10_000);
        assertThat(RetryBackoff.cappedMs(200, Long.MAX_VALUE, 100)).isEqualTo(Long.MAX_VALUE);
        assertThat(RetryBackoff.cappedMs(0, 10_000, 5)).isZero();
    }

    @Test
    void shouldJitterBetweenHalfAndAllOfTheCappedBackoff() {
        for (int attempt = 1; attempt <= 10; attempt++) {
            long capped = RetryBackoff.cappedMs(200, 10_000, attempt);
            for (int copy = 0; copy < 50; copy++) {
                long delay = RetryBackoff.delayMs(DEFAULTS, "run-1", "w/l[" + copy + "]", attempt);
                assertThat(delay).isBetween(capped / 2, capped);
            }
        }
    }

    @Test
    void shouldGiveTheSameDelayForTheSameRunPathAndAttempt() {
        // given / when / then: a pure function — and the same on every JVM (a fixed value, pinned)
        long delay = RetryBackoff.delayMs(DEFAULTS, "run-1", "w/a", 1);
        assertThat(RetryBackoff.delayMs(DEFAULTS, "run-1", "w/a", 1)).isEqualTo(delay);
        assertThat(RetryBackoff.jitter("run-1", "w/a", 1)).isEqualTo(RetryBackoff.jitter("run-1", "w/a", 1));
        assertThat(delay).isEqualTo(PINNED_RUN_1_W_A_1);
    }

    /** delayMs(defaults, "run-1", "w/a", 1): a change here changes every replayed run's retry times. */
    private static final long PINNED_RUN_1_W_A_1 = 113;

    @Test
    void shouldSpreadTheJitterOverRunsPathsAndAttempts() {
        // given
        Set<Long> delays = new HashSet<>();
        double sum = 0;
        int n = 0;

        // when
        for (String run : new String[] {"run-1", "run-2"}) {
            for (int copy = 0; copy < 100; copy++) {
                for (int attempt = 1; attempt <= 3; attempt++) {
                    double u = RetryBackoff.jitter(run, "w/l[" + copy + "]", attempt);
                    assertThat(u).isGreaterThanOrEqualTo(0.0).isLessThan(1.0);
                    sum += u;
                    n++;
                    delays.add(RetryBackoff.delayMs(new LedgerConfig(1.25, 0.5, 1000, 3, Duration.ofMillis(1000),
                            Duration.ofMillis(1000)), run, "w/l[" + copy + "]", attempt));
                }
            }
        }

        // then: well spread (600 draws over 500 possible delays), centred near 0.5
        assertThat(delays).hasSizeGreaterThan(250);
        assertThat(sum / n).isBetween(0.45, 0.55);
    }
}
