package io.sluice.systemtest.fault;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import io.sluice.schemas.Json;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.systemtest.kafka.RunTopics;
import io.sluice.testprovider.BillEntry;
import io.sluice.testprovider.TestProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code openai} executor end to end: {@code sluice worker} processes configured only by
 * {@code OPENAI_BASE_URL} / {@code OPENAI_API_KEY}, a coordinator process, a broker process, and an OpenAI-compatible
 * provider in a process of its own that keeps the bill ({@link TestProvider}, counting prompts as the worst
 * byte-level tokenizer would). A strict run whose leaves want more than its budget must halt with the provider's
 * bill within the limit, the ledger never below the bill, every call capped, a refused request sent once, and the
 * key nowhere in what Sluice wrote.
 */
@ExtendWith(FaultExtension.class)
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class OpenAiWorkerIT {

    private static final Logger log = LoggerFactory.getLogger(OpenAiWorkerIT.class);
    private static final Pattern LISTENING = Pattern.compile("^test-provider listening on (\\S+)");
    private static final long LIMIT = 3_000;
    private static final int LEAVES = 16;

    @Test
    void shouldKeepTheProvidersBillWithinAStrictBudget(ProcessCluster cluster) throws Exception {
        // given: a provider with a key, and workers that know it only from their environment
        String key = "sk-it-" + UUID.randomUUID().toString().replace("-", "");
        SluiceProcess provider = cluster.startProcess("provider", "io.sluice.testprovider.Main",
                List.of("--api-key-env", "TEST_PROVIDER_KEY", "--tokenizer", "bytes"), Map.of("TEST_PROVIDER_KEY", key));
        String baseUrl = provider.awaitOutput(LISTENING, ProcessCluster.START_TIMEOUT);
        cluster.startBroker();
        cluster.startCoordinator("c1", Map.of());
        Map<String, String> env = Map.of("OPENAI_BASE_URL", baseUrl, "OPENAI_API_KEY", key);
        List<SluiceProcess> workers = List.of(cluster.launchWorker("o1", 4, env), cluster.launchWorker("o2", 4, env));
        workers.forEach(w -> w.awaitOutput(Pattern.compile("^worker \\S+ running against "), ProcessCluster.START_TIMEOUT));
        RunTopics topics = new RunTopics(cluster.bootstrapServers());
        String runId = FaultRuns.runId("openai");

        // when: 16 leaves of ~210 tokens each against 3,000, four at a time, and one the provider refuses
        Receipt receipt = FaultRuns.run(topics, cluster.bootstrapServers(), submission(runId), FaultRuns.RUN_TIMEOUT, e -> { });

        // then
        List<BillEntry> bill = bill(baseUrl);
        List<BillEntry> served = bill.stream().filter(b -> runId.equals(b.scenario())).toList();
        List<BillEntry> refused = bill.stream().filter(b -> (runId + "-bad").equals(b.scenario())).toList();
        long billed = served.stream().mapToLong(BillEntry::totalTokens).sum() + refused.stream().mapToLong(BillEntry::totalTokens).sum();
        LedgerEntry root = receipt.nodes().stream().filter(n -> n.path().equals("openai")).findFirst().orElseThrow();
        log.info("run {} ended {}: {} calls billed {} tokens, ledger {} of {}", runId, receipt.status(), served.size(), billed,
                root.spent().totalTokens(), LIMIT);
        assertThat(receipt.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(served).as("calls that reached the model").isNotEmpty().hasSizeLessThan(LEAVES)
                .allSatisfy(b -> {
                    assertThat(b.capParameter()).as("every call carries a cap").isEqualTo("max_tokens");
                    assertThat(b.stream()).isTrue();
                    assertThat(b.includeUsage()).isTrue();
                    assertThat(b.authorized()).isTrue();
                });
        assertThat(billed).as("the provider's bill within the strict limit").isLessThanOrEqualTo(LIMIT);
        assertThat(root.spent().totalTokens()).as("the ledger, never below the bill").isGreaterThanOrEqualTo(billed)
                .isLessThanOrEqualTo(LIMIT);
        assertThat(refused).as("a 400 is sent once, not retried").hasSize(1);
        assertThat(receipt.nodes().stream().filter(n -> n.path().equals("openai/bad")).findFirst().orElseThrow().status())
                .isEqualTo(Status.FAILED);
        String written = Json.writeString(topics.usage(runId)) + Json.writeString(receipt) + Json.writeString(topics.ledger(runId));
        assertThat(written).as("what Sluice wrote of the run").doesNotContain(key).contains("w1 w2 w3");
        for (SluiceProcess w : workers) {
            assertThat(Files.readString(w.stdout()) + Files.readString(w.stderr())).as(w.name() + "'s logs").doesNotContain(key);
        }
        // SIGTERM ends a worker and a coordinator in order, and that is success (exit 0, not 143)
        workers.get(0).terminate(Duration.ofSeconds(30));
        cluster.coordinator("c1").terminate(Duration.ofSeconds(30));
        assertThat(workers.get(0).exitCode()).as("worker exit code").isZero();
        assertThat(cluster.coordinator("c1").exitCode()).as("coordinator exit code").isZero();
    }

    private static Submission submission(String runId) {
        List<String> leaves = new ArrayList<>();
        // first in document order, so that it is admitted before the budget runs out
        leaves.add(leaf("bad", "This request names a model the provider does not serve.",
                "{\"scenario\": \"RUN-bad\", \"status\": 400, \"error_message\": \"The model 'nope' does not exist\"}"));
        for (int i = 0; i < LEAVES; i++) {
            leaves.add(leaf("l%02d".formatted(i), "Summarise finding %d of the audit in three short sentences.".formatted(i),
                    "{\"scenario\": \"RUN\", \"completion_tokens\": 150, \"token_interval_ms\": 4}"));
        }
        return FaultRuns.submission(runId, """
                {"run_id": "RUN", "mode": "strict", "workflow": {"id": "openai", "leaf_max_tokens": 400,
                 "budget": {"max_tokens": %d, "max_parallel": 4}, "nodes": [%s]}}""".formatted(LIMIT, String.join(",", leaves)));
    }

    private static String leaf(String id, String prompt, String testProvider) {
        return """
                {"kind": "leaf", "id": "%s", "executor": "openai", "input": {"model": "test-model",
                 "messages": [{"role": "user", "content": "%s"}], "test_provider": %s}}""".formatted(id, prompt, testProvider);
    }

    private static List<BillEntry> bill(String baseUrl) throws Exception {
        URI uri = URI.create(baseUrl).resolve(TestProvider.BILL_PATH);
        HttpResponse<byte[]> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        return TestProvider.parseBill(r.body());
    }
}
