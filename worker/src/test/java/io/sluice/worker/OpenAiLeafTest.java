package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.schemas.Grant;
import io.sluice.schemas.Halt;
import io.sluice.schemas.Json;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.Status;
import io.sluice.schemas.UsageEvent;
import io.sluice.testprovider.BillEntry;
import io.sluice.testprovider.TestProvider;
import io.sluice.worker.execute.Price;
import io.sluice.worker.openai.EndpointConfig;
import io.sluice.worker.openai.OpenAiExecutor;
import io.sluice.worker.openai.PromptBound;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@code openai} executor run by the worker's {@link LeafRuntime} against a real OpenAI-compatible HTTP server on
 * loopback ({@link TestProvider}) that keeps its own bill: every assertion on spend is made against that bill.
 */
class OpenAiLeafTest {

    private static final String KEY = "sk-test-" + UUID.randomUUID().toString().replace("-", "");
    private static final Map<String, String> ENV = Map.of(EndpointConfig.ENV_API_KEY, KEY);
    private static TestProvider provider;

    private final FakeSink sink = new FakeSink();
    private final WorkerMetrics metrics = new WorkerMetrics(new SimpleMeterRegistry(), "w1");
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final LeafRuntime runtime = new LeafRuntime("w1", sink, Clock.systemUTC(), metrics, timer, Duration.ofSeconds(5));
    private final String scenario = "s-" + UUID.randomUUID();
    private final EndpointConfig config = EndpointConfig.of(EndpointConfig.OPENAI, provider.baseUrl())
            .withApiKeyEnv(EndpointConfig.ENV_API_KEY).withRateLimitRetries(8, Duration.ofMillis(100));
    private final OpenAiExecutor executor = new OpenAiExecutor(config, ENV);

    @BeforeAll
    static void startProvider() throws Exception {
        provider = TestProvider.start(TestProvider.Options.defaults().withApiKey(KEY));
    }

    @AfterAll
    static void stopProvider() {
        provider.close();
    }

    @AfterEach
    void stopTimer() {
        timer.shutdownNow();
    }

    @Test
    void shouldChargeWhatTheProviderBilledAndCapTheCall() {
        // given
        LeafTask task = task(grant(1_000L), input(scripted().put("completion_tokens", 16)));

        // when
        runtime.execute(task, executor, new StopSignal());

        // then
        BillEntry bill = onlyBill();
        assertThat(bill.stream()).isTrue();
        assertThat(bill.includeUsage()).isTrue();
        assertThat(bill.authorized()).isTrue();
        assertThat(bill.capParameter()).isEqualTo("max_tokens");
        assertThat(bill.completionTokens()).isEqualTo(16);
        UsageEvent step = sink.events.get(0);
        assertThat(step.inputTokens()).isEqualTo(bill.promptTokens());
        assertThat(step.outputTokens()).isEqualTo(16);
        assertThat(bill.cap()).isEqualTo(1_000L - PromptBound.of(task.input(), PromptBound.Overheads.DEFAULTS));
        assertThat(bill.promptTokens()).isLessThanOrEqualTo(PromptBound.of(task.input(), PromptBound.Overheads.DEFAULTS));
        UsageEvent end = finalEvent();
        assertThat(end.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(end.output().path("content").asText()).startsWith("w1 w2 ").endsWith("w16 ");
        assertThat(end.output().path("finish_reason").asText()).isEqualTo("stop");
        assertThat(end.output().path("model").asText()).isEqualTo("test-model");
    }

    @Test
    void shouldNeverLetTheProviderBillMoreThanTheGrant() {
        // given: the model would write far more than the grant leaves
        LeafTask task = task(grant(120L), input(scripted().put("completion_tokens", 10_000)));

        // when
        runtime.execute(task, executor, new StopSignal());

        // then: cut at the grant, billed within it, and the ledger holds what was billed
        BillEntry bill = onlyBill();
        assertThat(bill.totalTokens()).isLessThanOrEqualTo(120L);
        assertThat(bill.finishReason()).isEqualTo("length");
        assertThat(charged()).isEqualTo(bill.totalTokens());
        UsageEvent end = finalEvent();
        assertThat(end.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(end.error()).contains("by the grant (max_tokens 120)");
        assertThat(end.output().path("content").asText()).startsWith("w1 ");
    }

    @Test
    void shouldHoldACostLimitAgainstWhatTheProvidersBillCosts() {
        // given: $1 / $4 per million input / output tokens, a grant of 1,000 µUSD, a model that would write far more
        Price price = new Price(1_000_000, 4_000_000);
        OpenAiExecutor priced = new OpenAiExecutor(config.withPrices(Map.of("test-model", price)), ENV);
        LeafTask task = task(new Grant(null, null, null, null, 1_000L), input(scripted().put("completion_tokens", 10_000)));

        // when
        runtime.execute(task, priced, new StopSignal());

        // then: the call was capped at what the cost left buys; the bill, priced, is within the limit and the ledger
        BillEntry bill = onlyBill();
        long bound = PromptBound.of(task.input(), PromptBound.Overheads.DEFAULTS);
        assertThat(bill.cap()).isEqualTo((1_000L - bound) / 4);
        long billedCost = price.cost(bill.promptTokens(), bill.completionTokens());
        long chargedCost = sink.events.stream().mapToLong(UsageEvent::costMicrousd).sum();
        assertThat(billedCost).isLessThanOrEqualTo(1_000L);
        assertThat(chargedCost).isEqualTo(billedCost);
        assertThat(finalEvent().status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(finalEvent().error()).contains("(max_cost_microusd 1000)");
    }

    @Test
    void shouldRefuseAModelWithoutAPriceWhereACostLimitApplies() {
        // when
        runtime.execute(task(new Grant(null, null, null, null, 1_000L), input(scripted())), executor, new StopSignal());

        // then: never run as if free
        assertThat(provider.bill(scenario)).isEmpty();
        assertThat(finalEvent().status()).isEqualTo(Status.FAILED);
        assertThat(finalEvent().retriable()).isFalse();
        assertThat(finalEvent().error()).contains("model 'test-model' has no price");
    }

    @Test
    void shouldHandBackASummaryFromTheWrapUpReserveWhenTheGrantRunsOut() {
        // given: 1,200 tokens of which 1,000 are kept back for the wrap-up; a model that would write far more
        Grant grant = new Grant(1_200L, null, null, null).withWrapUpTokens(1_000L);
        ObjectNode input = input(scripted().put("completion_tokens", 10_000));

        // when
        runtime.execute(task(grant, input), executor, new StopSignal());

        // then: the work call was capped below the reserve, then one wrap-up call; all within the grant
        List<BillEntry> bill = provider.bill(scenario);
        assertThat(bill).hasSize(2);
        assertThat(bill.get(0).cap()).isLessThanOrEqualTo(200L);
        assertThat(bill.stream().mapToLong(BillEntry::totalTokens).sum()).isLessThanOrEqualTo(1_200L);
        assertThat(charged()).isEqualTo(bill.stream().mapToLong(BillEntry::totalTokens).sum());
        UsageEvent end = finalEvent();
        assertThat(end.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(end.error()).contains("wrapped up in");
        assertThat(end.output().path("wrapped_up").asBoolean()).isTrue();
        assertThat(end.output().path("partial_content").asText()).startsWith("w1 w2 ");
        assertThat(end.output().path("content").asText()).startsWith("w1 ");
        assertThat(end.output().path("steps").asInt()).isEqualTo(2);
    }

    @Test
    void shouldEndWithoutAWrapUpWhenTheReserveCannotHoldTheConversation() {
        // given: a reserve too small for the prompt of the wrap-up call
        Grant grant = new Grant(600L, null, null, null).withWrapUpTokens(50L);

        // when
        runtime.execute(task(grant, input(scripted().put("completion_tokens", 10_000))), executor, new StopSignal());

        // then
        assertThat(provider.bill(scenario)).hasSize(1);
        assertThat(finalEvent().status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(finalEvent().error()).contains("no wrap-up");
        assertThat(charged()).isLessThanOrEqualTo(600L);
    }

    @Test
    void shouldLetTheInputsOwnMaxTokensOnlyNarrowTheCap() {
        // given
        ObjectNode input = input(scripted().put("completion_tokens", 50));
        input.put("max_tokens", 5);

        // when
        runtime.execute(task(grant(1_000L), input), executor, new StopSignal());

        // then
        assertThat(onlyBill().cap()).isEqualTo(5L);
        assertThat(finalEvent().status()).isEqualTo(Status.SUCCEEDED);
        assertThat(finalEvent().output().path("finish_reason").asText()).isEqualTo("length");
    }

    @Test
    void shouldCapACallEvenWhenNothingLimitsIt() {
        // when
        runtime.execute(task(Grant.UNLIMITED, input(scripted())), executor, new StopSignal());

        // then
        assertThat(onlyBill().cap()).isEqualTo(EndpointConfig.DEFAULT_MAX_TOKENS);
    }

    @Test
    void shouldContinueAResponseCutBelowTheGrantStepByStep() {
        // given: every call is cut at the input's 5 tokens; the model never stops on its own
        ObjectNode input = input(scripted().put("completion_tokens", 12));
        input.put("max_tokens", 5).put("continue", true);

        // when
        runtime.execute(task(new Grant(10_000L, null, null, 3L), input), executor, new StopSignal());

        // then
        List<BillEntry> bill = provider.bill(scenario);
        assertThat(bill).hasSize(3).allSatisfy(b -> assertThat(b.cap()).isEqualTo(5L));
        assertThat(charged()).isEqualTo(bill.stream().mapToLong(BillEntry::totalTokens).sum());
        UsageEvent end = finalEvent();
        assertThat(end.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(end.error()).contains("max_steps 3");
        assertThat(end.output().path("steps").asInt()).isEqualTo(3);
        assertThat(end.output().path("content").asText()).isEqualTo("w1 w2 w3 w4 w5 ".repeat(3));
    }

    @Test
    void shouldRetryRateLimitsInsideTheAttemptHonouringRetryAfter() {
        // given
        LeafTask task = task(grant(1_000L), input(scripted().put("status", 429).put("fail_first", 2)
                .put("retry_after_ms", 30).put("completion_tokens", 4)));

        // when
        runtime.execute(task, executor, new StopSignal());

        // then: two refusals (not billed), then the call
        List<BillEntry> bill = provider.bill(scenario);
        assertThat(bill).extracting(BillEntry::status).containsExactly(429, 429, 200);
        assertThat(charged()).isEqualTo(bill.get(2).totalTokens());
        assertThat(finalEvent().status()).isEqualTo(Status.SUCCEEDED);
    }

    @Test
    void shouldRetryUnavailableWithBackoffAndFailTheAttemptWhenItLasts() {
        // given: always 503, no Retry-After
        LeafTask task = task(grant(1_000L), input(scripted().put("status", 503)));
        OpenAiExecutor patient = new OpenAiExecutor(config.withRateLimitRetries(3, Duration.ofMillis(40)), ENV);

        // when
        runtime.execute(task, patient, new StopSignal());

        // then: 1 + 3 retries, nothing charged, retriable
        assertThat(provider.bill(scenario)).hasSize(4);
        assertThat(charged()).isZero();
        UsageEvent end = finalEvent();
        assertThat(end.status()).isEqualTo(Status.FAILED);
        assertThat(end.retriable()).isNull();
        assertThat(end.error()).contains("provider answered 503");
    }

    @Test
    void shouldFailABadRequestAtOnceWithoutRetrying() {
        // given
        LeafTask task = task(grant(1_000L), input(scripted().put("status", 400).put("error_message", "Unknown model 'x'")));

        // when
        runtime.execute(task, executor, new StopSignal());

        // then
        assertThat(provider.bill(scenario)).hasSize(1);
        UsageEvent end = finalEvent();
        assertThat(end.status()).isEqualTo(Status.FAILED);
        assertThat(end.retriable()).isFalse();
        assertThat(end.error()).isEqualTo("provider answered 400: Unknown model 'x'");
        assertThat(charged()).isZero();
    }

    @Test
    void shouldFailAServerErrorAsRetriableAndChargeNothing() {
        // when
        runtime.execute(task(grant(1_000L), input(scripted().put("status", 500))), executor, new StopSignal());

        // then
        assertThat(provider.bill(scenario)).hasSize(1);
        assertThat(finalEvent().status()).isEqualTo(Status.FAILED);
        assertThat(finalEvent().retriable()).isNull();
        assertThat(charged()).isZero();
    }

    @Test
    void shouldNeverWriteTheKeyAnywhere() {
        // given: a worker with a wrong key; the provider quotes the key it was given in its 401
        String wrong = "sk-wrong-" + UUID.randomUUID().toString().replace("-", "");
        OpenAiExecutor misconfigured = new OpenAiExecutor(config, Map.of(EndpointConfig.ENV_API_KEY, wrong));

        // when
        runtime.execute(task(grant(1_000L), input(scripted())), misconfigured, new StopSignal());

        // then
        UsageEvent end = finalEvent();
        assertThat(end.status()).isEqualTo(Status.FAILED);
        assertThat(end.retriable()).isFalse();
        assertThat(end.error()).startsWith("provider answered 401: Incorrect API key provided: [REDACTED]");
        assertThat(Json.writeString(sink.events)).doesNotContain(wrong).doesNotContain(KEY);
        assertThat(misconfigured.toString()).doesNotContain(wrong);
    }

    @Test
    void shouldChargeTheWholePermitWhenTheStreamBreaksBeforeUsage() {
        // given
        LeafTask task = task(grant(500L), input(scripted().put("completion_tokens", 100).put("disconnect_after_tokens", 3)));

        // when
        runtime.execute(task, executor, new StopSignal());

        // then: the provider billed 3 tokens of output; the ledger holds the whole permit, never less
        BillEntry bill = onlyBill();
        assertThat(bill.completionTokens()).isEqualTo(3);
        assertThat(charged()).isEqualTo(500L).isGreaterThanOrEqualTo(bill.totalTokens());
        UsageEvent end = finalEvent();
        assertThat(end.status()).isEqualTo(Status.FAILED);
        assertThat(end.error()).contains("charged the whole permit (500 tokens)");
        assertThat(end.output().path("content").asText()).isEqualTo("w1 w2 w3 ");
    }

    @Test
    void shouldChargeTheWholePermitWhenTheProviderSendsNoUsage() {
        // when
        runtime.execute(task(grant(300L), input(scripted().put("omit_usage", true))), executor, new StopSignal());

        // then
        assertThat(charged()).isEqualTo(300L).isGreaterThanOrEqualTo(onlyBill().totalTokens());
        UsageEvent end = finalEvent();
        assertThat(end.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(end.output().has("charged_whole_permit")).isTrue();
    }

    @Test
    void shouldChargeAndFlagAProviderThatReportsMoreThanThePermit() {
        // when
        runtime.execute(task(grant(200L), input(scripted().put("completion_tokens", 10).put("extra_completion_tokens", 500))),
                executor, new StopSignal());

        // then: spend is truth
        assertThat(charged()).isEqualTo(onlyBill().totalTokens()).isGreaterThan(200L);
        UsageEvent end = finalEvent();
        assertThat(end.status()).isEqualTo(Status.BUDGET_EXCEEDED);
        assertThat(end.output().has("usage_beyond_permit")).isTrue();
    }

    @Test
    void shouldAbortTheCallAtOnceWhenHaltedWhileWaitingForTheFirstToken() throws Exception {
        // given: a model that thinks for a minute
        LeafTask task = task(grant(1_000L), input(scripted().put("first_token_ms", 60_000)));
        StopSignal signal = new StopSignal();
        ExecutorService leaf = Executors.newSingleThreadExecutor();
        try {
            Future<?> running = leaf.submit(() -> runtime.execute(task, executor, signal));
            await("the provider is thinking").atMost(Duration.ofSeconds(10)).until(() -> provider.inFlight() > 0);

            // when
            long haltedAt = System.currentTimeMillis();
            signal.stop(StopSignal.Stop.halt(new Halt("run-1", "wf", Status.CANCELLED, "wf: budget", 1L)));
            running.get();

            // then: the provider saw the connection close, long before its first token
            await("the provider noticed").atMost(Duration.ofSeconds(10)).until(() -> provider.bill(scenario).size() == 1);
            BillEntry bill = onlyBill();
            assertThat(bill.clientClosed()).isTrue();
            assertThat(bill.clientClosedAtMs() - haltedAt).isLessThan(10_000);
            assertThat(finalEvent().status()).isEqualTo(Status.CANCELLED);
            assertThat(charged()).isEqualTo(1_000L);
            assertThat(executor.cancelStats().count()).isEqualTo(1);
        } finally {
            leaf.shutdownNow();
        }
    }

    @Test
    void shouldCutAStreamAtTheDeadlineKeepingItsText() {
        // given: a slow stream that outlives the leaf's deadline
        long deadline = System.currentTimeMillis() + 400;
        LeafTask task = new LeafTask("run-1", "wf/leaf", 1, grant(5_000L), deadline, "openai",
                input(scripted().put("completion_tokens", 1_000).put("token_interval_ms", 20)), System.currentTimeMillis());

        // when
        runtime.execute(task, executor, new StopSignal());

        // then
        await("the provider noticed").atMost(Duration.ofSeconds(10)).until(() -> provider.bill(scenario).size() == 1);
        BillEntry bill = onlyBill();
        assertThat(bill.clientClosed()).isTrue();
        assertThat(bill.clientClosedAtMs()).isGreaterThanOrEqualTo(deadline);
        assertThat(bill.completionTokens()).isBetween(1L, 999L);
        UsageEvent end = finalEvent();
        assertThat(end.status()).isEqualTo(Status.TIMED_OUT);
        assertThat(end.output().path("content").asText()).startsWith("w1 w2 ");
        long permit = PromptBound.of(task.input(), PromptBound.Overheads.DEFAULTS) + EndpointConfig.DEFAULT_MAX_TOKENS;
        assertThat(charged()).isEqualTo(permit).isGreaterThanOrEqualTo(bill.totalTokens());
    }

    @Test
    void shouldRefuseInputsThatCannotBeBudgetedWithoutCallingTheProvider() {
        // given
        ObjectNode twoChoices = input(scripted());
        twoChoices.put("n", 2);
        ObjectNode image = input(scripted());
        ObjectNode part = ((ObjectNode) image.get("messages").get(0)).putArray("content").addObject();
        part.put("type", "image_url").putObject("image_url").put("url", "https://example.com/cat.png");

        // when
        runtime.execute(task(grant(1_000L), twoChoices), executor, new StopSignal());
        runtime.execute(task(grant(1_000L), image), executor, new StopSignal());

        // then
        assertThat(provider.bill(scenario)).isEmpty();
        List<UsageEvent> finals = sink.events.stream().filter(UsageEvent::isFinal).toList();
        assertThat(finals).extracting(UsageEvent::status).containsOnly(Status.FAILED);
        assertThat(finals).extracting(UsageEvent::retriable).containsOnly(false);
        assertThat(finals.get(0).error()).contains("n must be 1");
        assertThat(finals.get(1).error()).contains("'image_url' has no byte bound");
    }

    @Test
    void shouldKeepAtMostTheConfiguredCallsInFlight() throws Exception {
        // given: a provider of its own, to count what is in flight at once
        TestProvider own = TestProvider.start(TestProvider.Options.defaults());
        EndpointConfig d = EndpointConfig.of(EndpointConfig.OPENAI, own.baseUrl());
        OpenAiExecutor narrow = new OpenAiExecutor(d.withMaxConcurrentRequests(2), Map.of());
        ExecutorService leaves = Executors.newFixedThreadPool(6);
        try {
            // when
            List<Future<?>> runs = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                LeafTask task = new LeafTask("run-1", "wf/leaf-" + i, 1, grant(1_000L), null, "openai",
                        input(scripted().put("completion_tokens", 5).put("token_interval_ms", 20)), System.currentTimeMillis());
                runs.add(leaves.submit(() -> runtime.execute(task, narrow, new StopSignal())));
            }
            for (Future<?> f : runs) {
                f.get();
            }

            // then
            assertThat(own.bill()).hasSize(6);
            assertThat(own.peakInFlight()).isLessThanOrEqualTo(2);
            assertThat(sink.events.stream().filter(UsageEvent::isFinal)).extracting(UsageEvent::status)
                    .containsOnly(Status.SUCCEEDED);
        } finally {
            leaves.shutdownNow();
            own.close();
        }
    }

    private ObjectNode scripted() {
        return Json.mapper().createObjectNode().put("scenario", scenario);
    }

    private static ObjectNode input(ObjectNode testProvider) {
        ObjectNode input = Json.mapper().createObjectNode();
        input.put("model", "test-model");
        input.putArray("messages").addObject().put("role", "user").put("content", "Say hello to the budget, in words.");
        input.set("test_provider", testProvider);
        return input;
    }

    private static LeafTask task(Grant grant, JsonNode input) {
        return new LeafTask("run-1", "wf/leaf", 1, grant, null, "openai", input, System.currentTimeMillis());
    }

    private static Grant grant(Long maxTokens) {
        return new Grant(maxTokens, null, null, null);
    }

    private BillEntry onlyBill() {
        List<BillEntry> bill = provider.bill(scenario);
        assertThat(bill).hasSize(1);
        return bill.get(0);
    }

    private UsageEvent finalEvent() {
        return sink.events.stream().filter(UsageEvent::isFinal).reduce((a, b) -> b).orElseThrow();
    }

    /** What the ledger is told this attempt spent. */
    private long charged() {
        return sink.events.stream().mapToLong(e -> e.inputTokens() + e.outputTokens()).sum();
    }
}
