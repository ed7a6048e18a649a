package io.sluice.cli.bench;

import java.util.ArrayList;
import java.util.List;

import io.sluice.schemas.Status;
import io.sluice.schemas.UsageEvent;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HaltAnalysisTest {

    private final List<HaltAnalysis.UsageRecord> records = new ArrayList<>();

    private void event(String path, long seq, long tokens, boolean isFinal, Status status, long ts) {
        UsageEvent e = new UsageEvent("r", path, 1, "w", seq, tokens, 0, isFinal ? 0 : 1, isFinal, status, null, null, ts);
        records.add(new HaltAnalysis.UsageRecord(e, ts, records.size()));
    }

    @Test
    void shouldMeasureFromTheEventThatExhaustedTheBudget() {
        // given: two leaves start (1-token steps), a's 200 tokens at 1000 exhaust the limit 202, b's come after
        event("h/a[0]", 1, 1, false, Status.RUNNING, 0);
        event("h/a[1]", 1, 1, false, Status.RUNNING, 5);
        event("h/a[0]", 2, 200, false, Status.RUNNING, 1000);
        event("h/a[0]", 2, 200, false, Status.RUNNING, 1001); // a duplicate: folded once
        event("h/a[1]", 2, 200, false, Status.RUNNING, 1010);
        event("h/a[0]", 3, 0, true, Status.CANCELLED, 1040);
        event("h/a[2]", 1, 0, true, Status.CANCELLED, 1060); // never started: refused
        event("h/a[1]", 3, 0, true, Status.CANCELLED, 1070);
        event("h/a[3]", 1, 0, true, Status.CANCELLED, 1090); // never started: refused

        // when
        HaltAnalysis.Trial t = HaltAnalysis.budget("r", records, 202, 1020L, 1030L);

        // then
        assertThat(t.triggerAtMs()).isEqualTo(1000);
        assertThat(t.haltWrittenMs()).isEqualTo(20);
        assertThat(t.haltDurableMs()).isEqualTo(30);
        assertThat(t.lastInFlightStoppedMs()).isEqualTo(70);
        assertThat(t.lastQueuedRefusedMs()).isEqualTo(90);
        assertThat(t.inFlightStopped()).isEqualTo(2);
        assertThat(t.queuedRefused()).isEqualTo(2);
        assertThat(t.tokensAfterTrigger()).isEqualTo(200);
        assertThat(t.tokensAfterHalt()).isZero();
        assertThat(t.spent()).isEqualTo(402);
    }

    @Test
    void shouldMeasureADeadlineFromItsDueTime() {
        // given
        event("h/a[0]", 1, 1, false, Status.RUNNING, 0);
        event("h/a[0]", 2, 0, true, Status.TIMED_OUT, 1507);
        event("h/a[1]", 1, 0, true, Status.TIMED_OUT, 1900);

        // when
        HaltAnalysis.Trial t = HaltAnalysis.deadline("r", records, 1500, null, null);

        // then
        assertThat(t.lastInFlightStoppedMs()).isEqualTo(7);
        assertThat(t.lastQueuedRefusedMs()).isEqualTo(400);
        assertThat(t.haltWrittenMs()).isNull();
        assertThat(t.tokensAfterHalt()).isNull();
        assertThat(t.tokensAfterTrigger()).isZero();
    }

    @Test
    void shouldRefuseARunThatNeverReachedItsLimit() {
        // given
        event("h/a[0]", 1, 1, false, Status.RUNNING, 0);
        event("h/a[0]", 2, 0, true, Status.SUCCEEDED, 10);

        // when / then
        assertThatThrownBy(() -> HaltAnalysis.budget("r", records, 5, null, null))
                .hasMessage("run r: usage never reached the limit 5 (spent 1)");
    }
}
