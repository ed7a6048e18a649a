package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.schemas.Rejection;
import org.junit.jupiter.api.Test;

class WorkerMetricsTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void shouldRegisterEveryMeterAtZeroBeforeAnyTaskArrives() {
        // when: an idle worker's meters
        new WorkerMetrics(registry, "host-1", () -> 1, () -> 8, List.of("simulated", "openai"));

        // then: every series a dashboard shows exists, tagged with the worker's name
        assertThat(registry.getMeters()).allSatisfy(m -> assertThat(m.getId().getTag("worker")).isEqualTo("host-1"));
        for (String status : List.of("succeeded", "failed", "budget_exceeded", "timed_out", "cancelled", "lost")) {
            assertThat(registry.get("sluice.worker.tasks").tag("status", status).counter().count()).isZero();
        }
        for (String reason : List.of("halted", "expired", "not_started")) {
            assertThat(registry.get("sluice.worker.dropped").tag("reason", reason).counter().count()).isZero();
        }
        for (String kind : List.of("task", "halt")) {
            assertThat(registry.get("sluice.worker.dead.letters").tag("kind", kind).counter().count()).isZero();
        }
        assertThat(registry.get("sluice.worker.tokens").tag("direction", "output").counter().count()).isZero();
        assertThat(registry.get("sluice.worker.abandoned").counter().count()).isZero();
        assertThat(registry.get("sluice.worker.step").tag("executor", "openai").timer().count()).isZero();
        assertThat(registry.get("sluice.worker.slots.free").gauge().value()).isEqualTo(8);
    }

    @Test
    void shouldCountTheRejectionsItsSinkWroteByKindAndRemoveOnlyItsOwnMetersOnClose() {
        // given
        WorkerMetrics metrics = new WorkerMetrics(registry, "host-1", () -> 1, () -> 8, List.of("simulated"));
        WorkerMetrics other = new WorkerMetrics(registry, "host-2", () -> 1, () -> 8, List.of("simulated"));
        FakeSink fake = new FakeSink();
        UsageSink sink = metrics.counting(fake);

        // when
        sink.reject(new Rejection("sluice.tasks", 0, 1, "k", "r", "task", List.of("bad"), null, 0)).join();
        sink.reject(new Rejection("sluice.control", 0, 2, "k", "r", "halt", List.of("bad"), null, 0)).join();
        sink.reject(new Rejection("sluice.tasks", 0, 3, "k", "r", "task", List.of("bad"), null, 0)).join();
        metrics.abandoned();
        assertThat(fake.rejections).hasSize(3);

        // then
        assertThat(registry.get("sluice.worker.dead.letters").tag("worker", "host-1").tag("kind", "task").counter().count())
                .isEqualTo(2);
        assertThat(registry.get("sluice.worker.dead.letters").tag("worker", "host-1").tag("kind", "halt").counter().count())
                .isEqualTo(1);
        assertThat(registry.get("sluice.worker.abandoned").tag("worker", "host-1").counter().count()).isEqualTo(1);

        // when
        metrics.close();

        // then
        assertThat(registry.getMeters()).isNotEmpty()
                .allSatisfy(m -> assertThat(m.getId().getTag("worker")).isEqualTo("host-2"));
        other.close();
        assertThat(registry.getMeters()).isEmpty();
    }
}
