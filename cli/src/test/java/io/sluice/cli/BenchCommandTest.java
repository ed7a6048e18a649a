package io.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.schemas.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static io.sluice.cli.CliRun.sluice;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code sluice bench} as a user runs it, scaled down to a smoke run: an embedded broker, every section with tiny
 * parameters, the JSON report on stdout. It asserts the report's shape and that each figure is sane (positive
 * rates, a ratio, strict spend within its limit) — never a timing.
 */
class BenchCommandTest {

    @Test
    @Timeout(180)
    void shouldReportEverySectionWithSaneFiguresOnASmokeRun() {
        // given
        CliRun.assumeNoClusterInEnvironment();

        // when
        CliRun run = sluice("bench", "--no-record", "--json",
                "--baseline-records", "2000", "--latency-samples", "50",
                "--leaves", "200", "--workers", "1,2", "--concurrency", "8",
                "--trials", "1", "--halt-step-ms", "600", "--overshoot-leaves", "40",
                "--scale-leaves", "300", "--scale-heap", "256m",
                "--fold-events", "20000", "--fold-kafka-events", "2000",
                "--idle-seconds", "2", "--idle-concurrency", "4", "--inflight-concurrency", "4", "--inflight-leaf-ms", "300");

        // then
        assertThat(run.exitCode()).as(run::toString).isZero();
        JsonNode report = Json.tree(run.out().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(report.path("meta").path("machine").path("cores").asInt()).isPositive();
        assertThat(report.path("meta").path("commit").asText()).isNotBlank();
        assertThat(report.path("parameters").path("throughput").path("leaves").asInt()).isEqualTo(200);
        JsonNode sections = report.path("sections");
        StringBuilder took = new StringBuilder("bench smoke run, seconds per section:");
        sections.properties().forEach(e -> took.append(String.format(" %s %.1f", e.getKey(), e.getValue().path("seconds").asDouble())));
        System.out.println(took);
        for (String name : new String[] {"baseline", "throughput", "halt", "overshoot", "scale", "fold", "idle", "provider"}) {
            assertThat(sections.path(name).path("status").asText()).as("%s: %s", name, sections.path(name)).isEqualTo("ok");
        }

        JsonNode baseline = sections.path("baseline").path("result");
        assertThat(baseline.path("record_bytes").asInt()).isBetween(100, 1000);
        assertThat(baseline.path("produce_records_per_s").asDouble()).isPositive();
        assertThat(baseline.path("consume_records_per_s").asDouble()).isPositive();
        assertThat(baseline.path("share_consume_records_per_s").asDouble()).as("%s", baseline).isPositive();
        assertThat(baseline.path("latency_p50_ms").asDouble()).isPositive();
        assertThat(baseline.path("latency_p99_ms").asDouble()).isGreaterThanOrEqualTo(baseline.path("latency_p50_ms").asDouble());

        JsonNode points = sections.path("throughput").path("result").path("points");
        assertThat(points).hasSize(2);
        assertThat(points.get(0).path("workers").asInt()).isEqualTo(1);
        assertThat(points.get(1).path("workers").asInt()).isEqualTo(2);
        for (JsonNode p : points) {
            assertThat(p.path("leaves_per_s").asDouble()).isPositive();
            assertThat(p.path("ratio_to_consume").asDouble()).isPositive();
            assertThat(p.path("status").asText()).isEqualTo("succeeded");
        }

        JsonNode halt = sections.path("halt").path("result");
        for (String variant : new String[] {"budget", "deadline"}) {
            JsonNode v = halt.path(variant);
            assertThat(v.path("trials")).as("%s: %s", variant, v).hasSize(1);
            JsonNode trial = v.path("trials").get(0);
            assertThat(trial.path("halt_durable_ms").isNumber()).as("%s", trial).isTrue();
            assertThat(trial.path("last_in_flight_stopped_ms").isNumber()).as("%s", trial).isTrue();
            assertThat(trial.path("in_flight_stopped").asInt()).isPositive();
            assertThat(v.path("halt_durable_ms").path("n").asInt()).isEqualTo(1);
        }
        assertThat(halt.path("budget").path("trials").get(0).path("queued_refused").asInt()).isPositive();

        JsonNode overshoot = sections.path("overshoot").path("result");
        assertThat(overshoot.path("strict").path("ratio").asDouble()).isPositive().isLessThanOrEqualTo(1.0);
        assertThat(overshoot.path("strict").path("overshoot").asLong()).isZero();
        assertThat(overshoot.path("optimistic").path("ratio").asDouble()).isPositive();

        JsonNode scale = sections.path("scale").path("result");
        assertThat(scale.path("completed").asBoolean()).as("%s", scale).isTrue();
        assertThat(scale.path("leaves_per_s").asDouble()).isPositive();
        assertThat(scale.path("heap_used_peak_bytes").asLong()).isPositive();
        assertThat(scale.path("ledger_records").asLong()).isPositive();
        assertThat(scale.path("ledger_bytes").asLong()).isGreaterThan(scale.path("ledger_records").asLong());

        JsonNode fold = sections.path("fold").path("result");
        assertThat(fold.path("pure").path("events_per_s").asDouble()).isPositive();
        assertThat(fold.path("pure").path("decode_events_per_s").asDouble()).isPositive();
        assertThat(fold.path("kafka").path("events_per_s").asDouble()).as("%s", fold).isPositive();

        JsonNode idle = sections.path("idle").path("result");
        assertThat(idle.path("idle")).hasSize(1);
        assertThat(idle.path("idle").get(0).path("outcome").asText()).isEqualTo("ok");
        assertThat(idle.path("idle").get(0).path("cpu_percent_of_one_core").asDouble()).isGreaterThanOrEqualTo(0.0);
        assertThat(idle.path("in_flight").path("outcome").asText()).as("%s", idle).isEqualTo("ok");
        assertThat(idle.path("in_flight").path("peak_from_events").asInt()).isBetween(1, 4);

        JsonNode provider = sections.path("provider").path("result");
        assertThat(provider.path("slack").path("least_margin_tokens").asLong()).as("%s", provider).isNotNegative();
        assertThat(provider.path("slack").path("calls").asInt()).isEqualTo(8);
        assertThat(provider.path("thinking").path("tokens_charged").asLong())
                .isGreaterThanOrEqualTo(provider.path("thinking").path("tokens_billed").asLong());
        assertThat(provider.path("streaming").path("tokens_charged").asLong())
                .isGreaterThanOrEqualTo(provider.path("streaming").path("tokens_billed").asLong());
    }

    @Test
    void shouldRefuseABadOptionWithOneLine() {
        // when
        CliRun run = sluice("bench", "--sections", "baseline,warp", "--no-record");

        // then
        assertThat(run.exitCode()).isEqualTo(Exit.INVALID);
        assertThat(run.err().strip()).isEqualTo("sluice bench: --sections: unknown section 'warp' (expected any of "
                + "baseline,throughput,halt,overshoot,scale,fold,idle,provider)");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void shouldRefuseAnOutOfRangeValueNamingTheOption() {
        // when
        CliRun run = sluice("bench", "--workers", "2,0", "--no-record");

        // then
        assertThat(run.exitCode()).isEqualTo(Exit.INVALID);
        assertThat(run.err().strip()).isEqualTo("sluice bench: --workers: each must be 1..64, got 0");
    }

    @Test
    void shouldRefuseAValueThatIsNoNumberWithOneLine() {
        // when
        CliRun run = sluice("bench", "--trials", "x", "--no-record");

        // then
        assertThat(run.exitCode()).isEqualTo(Exit.INVALID);
        assertThat(run.err().strip()).isEqualTo("sluice bench: --trials: not a whole number: 'x'");
    }
}
