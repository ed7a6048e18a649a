package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.schemas.Halt;
import io.sluice.schemas.Status;
import io.sluice.schemas.Topics;
import org.junit.jupiter.api.Test;

class HaltsTest {

    private final Halts halts = new Halts();

    private boolean put(Halt h) {
        return halts.put(Topics.ledgerKey(h.runId(), h.path()), h);
    }

    @Test
    void shouldFindTheHaltCoveringASubtreeOfTheRunOnly() {
        put(new Halt("r1", "wf/scan", Status.CANCELLED, "wf/scan: max_tokens 600 exhausted", 1));

        assertThat(halts.covering("r1", "wf/scan")).isPresent();
        assertThat(halts.covering("r1", "wf/scan/readme")).isPresent();
        assertThat(halts.covering("r1", "wf/scanner")).isEmpty();
        assertThat(halts.covering("r1", "wf/other")).isEmpty();
        assertThat(halts.covering("r2", "wf/scan/readme")).isEmpty();
    }

    @Test
    void shouldPreferTheWorstStatusOfSeveralCoveringHalts() {
        put(new Halt("r1", "wf", Status.TIMED_OUT, "wf: deadline", 1));
        put(new Halt("r1", "wf/scan", Status.CANCELLED, "wf/scan: budget", 2));

        assertThat(halts.covering("r1", "wf/scan/x")).get().extracting(Halt::status).isEqualTo(Status.CANCELLED);
        assertThat(halts.covering("r1", "wf/y")).get().extracting(Halt::status).isEqualTo(Status.TIMED_OUT);
    }

    @Test
    void shouldReportOnlyNewOrChangedHaltsAndForgetTombstoned() {
        Halt h = new Halt("r1", "wf", Status.CANCELLED, "stop", 1);

        assertThat(put(h)).isTrue();
        assertThat(put(h)).isFalse();
        halts.remove(h.key());

        assertThat(halts.covering("r1", "wf/x")).isEmpty();
        assertThat(halts.size()).isZero();
    }
}
