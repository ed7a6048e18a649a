package io.sluice.systemtest.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.schemas.LedgerEntry;
import io.sluice.systemtest.DebianTools;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.Topics;
import io.sluice.systemtest.kafka.RunTopics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard and the alert rules that {@code docker/} ships, proven against a real Prometheus: it scrapes a live
 * coordinator and two workers (processes of their own) while a strict run halts on its budget and a tombstone on the
 * submissions topic is dead-lettered; then every panel's PromQL and every variable of
 * {@code docker/grafana/dashboards/sluice.json} and every rule of {@code docker/prometheus/alerts.yml} is evaluated
 * through Prometheus's HTTP API. Any expression that errors or returns no data fails the test, as does a rule that
 * does not evaluate cleanly; {@code promtool check config} and {@code check rules} must pass on the shipped files.
 *
 * <p>Needs Debian's {@code prometheus} package ({@code .ci/run} installs it when missing); without it the test is
 * skipped, unless {@code SLUICE_REQUIRE_TOOLS} is set ({@code .ci/run} sets it), when it fails.
 */
@ExtendWith(FaultExtension.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class PrometheusDashboardIT {

    private static final Logger log = LoggerFactory.getLogger(PrometheusDashboardIT.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Every alert rule is `SIGNAL OP THRESHOLD` (see alerts.yml): the signal must have data while all is well. */
    private static final Pattern RULE = Pattern.compile("^(.*\\S)\\s*(?:>=|<=|==|!=|>|<)\\s*-?[0-9.]+\\s*$", Pattern.DOTALL);
    private static final Pattern LABEL_VALUES = Pattern.compile("^label_values\\((.+),\\s*(\\w+)\\)$");
    private static final Duration SCRAPED = Duration.ofSeconds(60);

    @Test
    void shouldAnswerEveryPanelAndAlertRuleFromALiveCluster(ProcessCluster cluster) throws Exception {
        // given: the shipped files pass promtool
        Path prometheus = DebianTools.require("prometheus", "prometheus");
        Path repo = Path.of(System.getProperty("sluice.test.repoDir", "..")).toAbsolutePath().normalize();
        Path config = repo.resolve("docker/prometheus/prometheus.yml");
        Path alerts = repo.resolve("docker/prometheus/alerts.yml");
        Path dashboard = repo.resolve("docker/grafana/dashboards/sluice.json");
        for (String[] check : List.of(new String[] {"check", "config", config.toString()},
                new String[] {"check", "rules", alerts.toString()})) {
            Map.Entry<Integer, String> result = PrometheusServer.promtool(prometheus, check);
            assertThat(result.getKey()).as("promtool %s %s:%n%s", check[0], check[1], result.getValue()).isZero();
        }

        // given: a coordinator and two workers serving metrics, scraped every second
        cluster.serveMetrics();
        cluster.startBroker();
        String coordinator = hostPort(ProcessCluster.metricsUrl(cluster.startCoordinator("c1", Map.of())));
        List<String> workers = cluster.startWorkers(List.of("w1", "w2"), 4).stream()
                .map(p -> hostPort(ProcessCluster.metricsUrl(p))).toList();
        Map<String, List<String>> jobs = new LinkedHashMap<>();
        jobs.put("coordinator", List.of(coordinator));
        jobs.put("worker", workers);
        try (PrometheusServer server = PrometheusServer.start(prometheus, jobs, List.of(alerts),
                cluster.logDir().resolve("prometheus"))) {
            try {
                // when: once Prometheus has seen the dead-letter counter at zero, a tombstone on the submissions topic,
                // and a strict run that halts on its budget
                await("a first scrape").atMost(SCRAPED).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() ->
                        value(server, "sum(sluice_coordinator_dead_letters_total{kind=\"submission\"})") == 0);
                tombstone(cluster.bootstrapServers());
                String runId = FaultRuns.runId("dash");
                Receipt receipt = FaultRuns.run(new RunTopics(cluster.bootstrapServers()), cluster.bootstrapServers(),
                        submission(runId), FaultRuns.RUN_TIMEOUT, e -> { });
                assertThat(receipt.status()).isEqualTo(Status.BUDGET_EXCEEDED);
                LedgerEntry root = receipt.nodes().get(0);

                // then: Prometheus scraped what happened, exactly
                await("prometheus to scrape the run").atMost(SCRAPED).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                    assertThat(server.targets()).hasSize(3).allSatisfy(t -> assertThat(t.path("health").asText())
                            .as("target %s", t.path("scrapeUrl").asText()).isEqualTo("up"));
                    assertThat(value(server, "sum(sluice_coordinator_tokens_spent_total)"))
                            .isEqualTo((double) root.spent().totalTokens());
                    assertThat(value(server, "sum(sluice_coordinator_halts_total{cause=\"budget_exceeded\"})")).isPositive();
                    assertThat(value(server, "sum(sluice_coordinator_runs_total{status=\"budget_exceeded\"})")).isEqualTo(1);
                    assertThat(value(server, "sum(sluice_coordinator_dead_letters_total{kind=\"submission\"})")).isEqualTo(1);
                    assertThat(value(server, "sum(sluice_worker_tasks_total{status=\"succeeded\"})")).isPositive();
                    assertThat(value(server, "count(sluice_worker_inflight{worker=~\"w1|w2\"})")).isEqualTo(2);
                });
                // and: every rule evaluated since
                await("every rule to be evaluated").atMost(SCRAPED).pollInterval(Duration.ofMillis(500))
                        .until(() -> rules(server).stream().allMatch(r -> !r.path("lastEvaluation").asText().startsWith("0001")));

                // then: every panel, variable and rule answers with data
                List<String> problems = new ArrayList<>();
                int[] checked = new int[1];
                JsonNode board = JSON.readTree(Files.readString(dashboard));
                for (JsonNode variable : board.path("templating").path("list")) {
                    String query = variable.path("definition").asText();
                    Matcher m = LABEL_VALUES.matcher(query);
                    if (!m.matches()) {
                        problems.add("variable " + variable.path("name").asText() + ": not label_values(...): " + query);
                        continue;
                    }
                    check(server, "variable " + variable.path("name").asText(),
                            "count by (" + m.group(2) + ") (" + substitute(m.group(1)) + ")", problems, checked);
                }
                for (JsonNode panel : panels(board)) {
                    for (JsonNode target : panel.path("targets")) {
                        check(server, "panel '" + panel.path("title").asText() + "' " + target.path("refId").asText(),
                                substitute(target.path("expr").asText()), problems, checked);
                    }
                }
                List<JsonNode> rules = rules(server);
                assertThat(rules).as("alert rules loaded").hasSizeGreaterThanOrEqualTo(5);
                for (JsonNode rule : rules) {
                    String name = "rule " + rule.path("name").asText();
                    if (!"ok".equals(rule.path("health").asText())) {
                        problems.add(name + ": health " + rule.path("health").asText() + ": " + rule.path("lastError").asText());
                    }
                    Matcher m = RULE.matcher(rule.path("query").asText());
                    if (!m.matches()) {
                        problems.add(name + ": not SIGNAL OP THRESHOLD: " + rule.path("query").asText());
                        continue;
                    }
                    check(server, name + " (its signal)", m.group(1), problems, checked);
                }
                log.info("evaluated {} expressions of the dashboard and the alert rules: {} problems", checked[0],
                        problems.size());
                assertThat(problems).as("expressions that error or return no data").isEmpty();
                assertThat(rules.stream().map(r -> r.path("name").asText())).contains("SluiceCoordinatorDown",
                        "SluiceNoWorkers", "SluiceDeadLettersGrowing", "SluiceRunStuckPastDeadline", "SluiceStrictOvershoot");
                // and: the dead letter fires its alert, and nothing else fires on a healthy cluster
                await("the dead-letter alert").atMost(SCRAPED).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                        assertThat(rules(server)).filteredOn(r -> !"inactive".equals(r.path("state").asText()))
                                .extracting(r -> r.path("name").asText() + " " + r.path("state").asText())
                                .containsExactly("SluiceDeadLettersGrowing firing"));
            } catch (AssertionError | RuntimeException e) {
                log.error("prometheus log:\n{}", server.log());
                throw e;
            }
        }
    }

    /** Grafana's variables and intervals, as "All" and a window of several scrapes would make them. */
    private static String substitute(String expr) {
        return expr.replace("$__rate_interval", "15s").replace("$job", ".*").replace("$instance", ".*");
    }

    private static void check(PrometheusServer server, String what, String expr, List<String> problems, int[] checked) {
        checked[0]++;
        try {
            JsonNode result = server.query(expr).path("result");
            if (result.isEmpty()) {
                problems.add(what + ": no data: " + expr);
            }
        } catch (IllegalArgumentException e) {
            problems.add(what + ": " + e.getMessage() + ": " + expr);
        }
    }

    private static List<JsonNode> panels(JsonNode board) {
        List<JsonNode> all = new ArrayList<>();
        for (JsonNode panel : board.path("panels")) {
            all.add(panel);
            panel.path("panels").forEach(all::add); // a collapsed row keeps its panels inside it
        }
        return all;
    }

    private static List<JsonNode> rules(PrometheusServer server) {
        List<JsonNode> rules = new ArrayList<>();
        server.ruleGroups().forEach(g -> g.path("rules").forEach(rules::add));
        return rules;
    }

    private static double value(PrometheusServer server, String expr) {
        JsonNode result = server.query(expr).path("result");
        assertThat(result).as(expr).hasSize(1);
        return Double.parseDouble(result.get(0).path("value").get(1).asText());
    }

    private static String hostPort(String url) {
        URI uri = URI.create(url);
        return uri.getHost() + ":" + uri.getPort();
    }

    private static void tombstone(String bootstrapServers) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.SUBMISSIONS, "tombstone", null)).get(30, TimeUnit.SECONDS);
        }
    }

    /** 12 leaves of 3 turns (600 tokens each, grant 700), four at a time, against 3,000 tokens: halts strict. */
    private static Submission submission(String runId) {
        List<String> leaves = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            leaves.add("""
                    {"kind": "leaf", "id": "l%02d", "executor": "simulated", "input": {"turns": [
                     {"input_tokens": 100, "output_tokens": 100, "latency_ms": 100},
                     {"input_tokens": 100, "output_tokens": 100, "latency_ms": 100},
                     {"input_tokens": 100, "output_tokens": 100, "latency_ms": 100}]}}""".formatted(i));
        }
        return FaultRuns.submission(runId, """
                {"run_id": "RUN", "mode": "strict", "workflow": {"id": "dash", "leaf_max_tokens": 700,
                 "budget": {"max_tokens": 3000, "max_parallel": 4}, "nodes": [%s]}}""".formatted(String.join(",", leaves)));
    }
}
