package io.sluice.cli.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import io.sluice.schemas.Status;
import io.sluice.schemas.UsageEvent;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The bench's pure pieces: percentiles, peak concurrency, Prometheus text, GC logs. */
class BenchPiecesTest {

    @Test
    void shouldTakeNearestRankPercentilesOfMeasuredValues() {
        // when
        Percentiles p = Percentiles.of(Arrays.asList(5, 1, null, 3, 4, 2));

        // then: nulls left out, every figure one of the values
        assertThat(p.n()).isEqualTo(5);
        assertThat(p.p50()).isEqualTo(3.0);
        assertThat(p.p99()).isEqualTo(5.0);
        assertThat(p.max()).isEqualTo(5.0);
        assertThat(p.mean()).isEqualTo(3.0);
        assertThat(Percentiles.of(List.of()).describe()).isEqualTo("n/a");
    }

    @Test
    void shouldCountTheMostAttemptsBetweenTheirFirstAndFinalEvents() {
        // given: a 0..10, b 5..15, c 10..20 (touches a's end: not overlapping), d has no final event
        List<UsageEvent> events = new ArrayList<>();
        List<Long> ts = new ArrayList<>();
        add(events, ts, "a", false, 0);
        add(events, ts, "b", false, 5);
        add(events, ts, "a", true, 10);
        add(events, ts, "c", false, 10);
        add(events, ts, "b", true, 15);
        add(events, ts, "c", true, 20);
        add(events, ts, "d", false, 12);

        // when / then
        assertThat(IdleSection.peakInFlight(events, ts)).isEqualTo(2);
    }

    private static void add(List<UsageEvent> events, List<Long> ts, String path, boolean isFinal, long at) {
        events.add(new UsageEvent("r", path, 1, "w", isFinal ? 2 : 1, 1, 0, isFinal ? 0 : 1, isFinal,
                isFinal ? Status.SUCCEEDED : Status.RUNNING, null, null, at));
        ts.add(at);
    }

    @Test
    void shouldSumPrometheusSamplesWithTheGivenLabels() {
        // given
        String text = """
                # HELP jvm_memory_used_bytes The amount of used memory
                # TYPE jvm_memory_used_bytes gauge
                jvm_memory_used_bytes{area="heap",id="G1 Eden Space"} 1.0E7
                jvm_memory_used_bytes{area="heap",id="G1 Old Gen"} 2.5E7
                jvm_memory_used_bytes{area="nonheap",id="Metaspace"} 9.0E7
                sluice_worker_inflight{worker="w-1"} 3.0
                """;

        // then
        assertThat(PrometheusScrape.sum(text, "jvm_memory_used_bytes", Map.of("area", "heap"))).hasValue(3.5E7);
        assertThat(PrometheusScrape.sum(text, "sluice_worker_inflight", Map.of())).hasValue(3.0);
        assertThat(PrometheusScrape.sum(text, "jvm_gc_pause_seconds", Map.of())).isEmpty();
    }

    @Test
    void shouldTakeTheLargestHeapLeftAfterACollection() {
        // given
        List<String> log = List.of(
                "[0.012s][info][gc] Using G1",
                "[1.234s][info][gc] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 24M->6M(256M) 3.456ms",
                "[2.500s][info][gc] GC(1) Pause Young (Normal) (G1 Evacuation Pause) 40M->18M(256M) 4.1ms",
                "[3.100s][info][gc] GC(2) Pause Young (Normal) (G1 Evacuation Pause) 30M->9M(256M) 2.0ms");

        // then
        assertThat(GcLog.peakAfterCollection(log)).hasValue(18L * 1024 * 1024);
        assertThat(GcLog.collections(log)).isEqualTo(3);
        assertThat(GcLog.peakAfterCollection(List.of("[0.012s][info][gc] Using G1"))).isEmpty();
    }

    @Test
    void shouldNameTheOptionOfABadSectionName() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SectionName.fromWire("warp"))
                .hasMessageStartingWith("--sections: unknown section 'warp'");
        assertThat(SectionName.fromWire(" Halt ")).isEqualTo(SectionName.HALT);
        assertThat(SectionName.executionOrder()).endsWith(SectionName.SCALE).hasSize(SectionName.values().length);
    }
}
