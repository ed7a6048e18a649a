package io.sluice.cli.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.schemas.Budget;
import io.sluice.schemas.Json;
import io.sluice.schemas.Leaf;
import io.sluice.schemas.Mode;
import io.sluice.schemas.Node;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.Workflow;
import io.sluice.testprovider.BillEntry;
import io.sluice.testprovider.TestProvider;
import io.sluice.testprovider.Tokenizer;
import io.sluice.worker.execute.ExecutorRegistry;
import io.sluice.worker.openai.EndpointConfig;
import io.sluice.worker.openai.OpenAiExecutor;
import io.sluice.worker.openai.PromptBound;

/**
 * The {@code openai} executor through the in-process coordinator and workers, against an OpenAI-compatible server on
 * loopback ({@link TestProvider}) that counts prompts as OpenAI does for GPT-4o ({@link Tokenizer#O200K}: the real
 * {@code o200k_base} tokenizer and OpenAI's chat accounting):
 * <ul>
 *   <li><b>bound slack</b>: a run of one leaf per prompt of {@link #PROMPTS} (prose, code, JSON, German, Chinese,
 *       emoji, one word, a multi-turn conversation; 8 completion tokens each). For every call: what strict mode
 *       reserved for its prompt ({@link PromptBound}, default overheads) ÷ the provider's {@code prompt_tokens}, and
 *       the least margin (a negative one would break strict mode);</li>
 *   <li><b>cancel latency</b>: strict runs of C = workers × slots leaves with {@code timeout_ms} 1,000 whose model
 *       (a) thinks for a minute before its first token, (b) streams a token every 5 ms for far longer: from the
 *       deadline (the run's start + {@code timeout_ms}) to the provider noticing the connection closed, p50/p99/max
 *       over calls; and, inside the workers, from the abort to the call's end (the executor's own count).</li>
 * </ul>
 */
final class ProviderSection implements BenchSection {

    static final long CANCEL_TIMEOUT_MS = 1_000;
    private static final String EXECUTOR = "openai";

    /** Prompts of the kinds a fan-out sends, for the bound's slack. */
    static final List<List<String>> PROMPTS = List.of(
            List.of("Summarise the incident below in three sentences for an executive audience. On Tuesday at 14:02 UTC "
                    + "the login service began returning HTTP 500 for roughly 30% of requests after the 4.2 rollout; the "
                    + "on-call engineer rolled back at 14:19 and error rates returned to baseline by 14:25."),
            List.of("Review this function and list any bugs:\n\n```java\npublic static int median(int[] xs) {\n"
                    + "    Arrays.sort(xs);\n    return xs[xs.length / 2];\n}\n```"),
            List.of("Extract the fields as JSON: {\"order_id\": \"A-1093\", \"items\": [{\"sku\": \"X-1\", \"qty\": 2}, "
                    + "{\"sku\": \"Y-7\", \"qty\": 1}], \"ship_to\": {\"city\": \"Lyon\", \"zip\": \"69002\"}}"),
            List.of("Übersetze bitte ins Englische: Die Überprüfung der Budgetgrenzen erfolgt vor jedem Aufruf, "
                    + "nicht danach; überschüssige Reservierungen werden zurückerstattet."),
            List.of("请用三句话总结以下内容：预算在每次调用之前预留，调用之后按照提供方报告的用量结算，多余的部分退还。"),
            List.of("Rate these reactions 1-5: 🎉🔥👍 😡💀 🙂🙃 🚀🚀🚀 ✅❌"),
            List.of("Hi"),
            List.of("You are a careful analyst.", "What were the top three causes of churn last quarter?",
                    "Pricing changes, onboarding friction, and a missing SSO integration.",
                    "Which of those is cheapest to fix, and why? Answer briefly."));

    /**
     * @param workers     in-process workers
     * @param concurrency slots of each
     */
    record Params(int workers, int concurrency) {
    }

    record Slack(int calls, double boundOverBilledP50, double boundOverBilledMax, double boundOverBilledMin,
                 long leastMarginTokens) {
    }

    record Cancel(String variant, int calls, Percentiles deadlineToClosedMs, long maxMs, long tokensBilled,
                  long tokensCharged, String status) {
    }

    record Result(Slack slack, Cancel thinking, Cancel streaming, OpenAiExecutor.CancelStats inWorker)
            implements SectionResult {

        @Override
        public List<Figure> figures() {
            List<Figure> f = new ArrayList<>();
            f.add(Figure.of("prompt bound ÷ provider's prompt_tokens", String.format("%.2f / %.2f", slack.boundOverBilledP50(),
                    slack.boundOverBilledMax()), "p50/max", slack.calls() + " calls, GPT-4o's tokenizer (o200k_base); least "
                    + "margin " + slack.leastMarginTokens() + " tokens (never below 0), min ratio "
                    + String.format("%.2f", slack.boundOverBilledMin())));
            for (Cancel c : List.of(thinking, streaming)) {
                f.add(Figure.of("deadline → connection closed, " + c.variant(), c.deadlineToClosedMs().describe(), "ms p50/p99",
                        c.calls() + " calls, max " + c.maxMs() + " ms; billed " + c.tokensBilled() + " tokens, ledger "
                        + c.tokensCharged() + " (" + c.status() + ")"));
            }
            f.add(Figure.of("abort → call ended, in the worker", inWorker.meanMicros() / 1000.0 + " / " + inWorker.maxMicros()
                    / 1000.0, "ms mean/max", inWorker.count() + " aborted calls"));
            return f;
        }
    }

    @Override
    public SectionName name() {
        return SectionName.PROVIDER;
    }

    @Override
    public SectionResult run(BenchContext ctx) throws Exception {
        Params params = ctx.config().provider();
        try (TestProvider provider = TestProvider.start(TestProvider.Options.defaults().withTokenizer(Tokenizer.O200K))) {
            OpenAiExecutor executor = new OpenAiExecutor(EndpointConfig.of(EXECUTOR, provider.baseUrl()), Map.of());
            ctx.sluice().useExecutors(ExecutorRegistry.discover().replacing(executor));
            try {
                ctx.ensureWarmStack(params.workers(), params.concurrency());
                Slack slack = slack(ctx, provider);
                int c = params.workers() * params.concurrency();
                Cancel thinking = cancel(ctx, provider, "before the first token", c, 1, 60_000, 0);
                Cancel streaming = cancel(ctx, provider, "mid-stream", c, 1_000_000, 0, 5);
                return new Result(slack, thinking, streaming, executor.cancelStats());
            } finally {
                ctx.sluice().useExecutors(ExecutorRegistry.discover());
            }
        }
    }

    private static Slack slack(BenchContext ctx, TestProvider provider) {
        String runId = BenchRuns.newRunId("bound");
        ctx.log("  bound slack: %d prompts…", PROMPTS.size());
        List<Node> leaves = new ArrayList<>();
        Map<String, Long> bounds = new HashMap<>();
        for (int i = 0; i < PROMPTS.size(); i++) {
            String scenario = runId + "-" + i;
            ObjectNode input = input(PROMPTS.get(i), scenario, 8, 0, 0);
            bounds.put(scenario, PromptBound.of(input, PromptBound.Overheads.DEFAULTS));
            leaves.add(new Leaf("p" + i, null, EXECUTOR, input));
        }
        BenchRuns.TimedRun run = ctx.runs().run(new Submission(runId, Mode.STRICT,
                new Workflow("bound", new Budget(100_000L, null, null, null, null, 8), 4_000L, leaves)), ctx.runTimeout());
        if (run.receipt().status() != Status.SUCCEEDED) {
            throw new IllegalStateException("bound run " + runId + " ended " + run.receipt().status().wire() + ": "
                    + run.receipt().reason());
        }
        List<Double> ratios = new ArrayList<>();
        long leastMargin = Long.MAX_VALUE;
        for (BillEntry b : provider.bill()) {
            Long bound = bounds.get(b.scenario());
            if (bound != null && b.status() == 200) {
                ratios.add((double) bound / b.promptTokens());
                leastMargin = Math.min(leastMargin, bound - b.promptTokens());
            }
        }
        if (ratios.isEmpty()) {
            throw new IllegalStateException("the provider billed no call of run " + runId);
        }
        ratios.sort(Double::compare);
        return new Slack(ratios.size(), ratios.get(ratios.size() / 2), ratios.get(ratios.size() - 1), ratios.get(0), leastMargin);
    }

    private static Cancel cancel(BenchContext ctx, TestProvider provider, String variant, int leaves, int completionTokens,
                                 long firstTokenMs, long tokenIntervalMs) {
        String runId = BenchRuns.newRunId("cancel");
        ctx.log("  cancel %s: %d leaves, timeout_ms %d…", variant, leaves, CANCEL_TIMEOUT_MS);
        ObjectNode input = input(PROMPTS.get(0), runId, completionTokens, firstTokenMs, tokenIntervalMs);
        Leaf leaf = new Leaf("call", null, EXECUTOR, input, leaves, null);
        BenchRuns.TimedRun run = ctx.runs().run(new Submission(runId, Mode.STRICT, new Workflow("cancel",
                new Budget(null, null, null, null, CANCEL_TIMEOUT_MS, leaves), 100_000L, List.of(leaf))), ctx.runTimeout());
        long deadline = run.receipt().startedAtMs() + CANCEL_TIMEOUT_MS;
        List<BillEntry> calls = awaitBill(provider, runId, leaves);
        List<Long> delays = new ArrayList<>();
        long billed = 0;
        for (BillEntry b : calls) {
            billed += b.totalTokens();
            if (b.clientClosed()) {
                delays.add(b.clientClosedAtMs() - deadline);
            }
        }
        long charged = run.root().spent() == null ? 0 : run.root().spent().totalTokens();
        return new Cancel(variant, delays.size(), Percentiles.of(delays), delays.stream().mapToLong(Long::longValue).max().orElse(0),
                billed, charged, run.receipt().status().wire());
    }

    /** The provider records a call once it noticed its end, which may come a moment after the receipt. */
    private static List<BillEntry> awaitBill(TestProvider provider, String scenario, int calls) {
        long until = System.nanoTime() + 10_000_000_000L;
        List<BillEntry> bill = provider.bill(scenario);
        while (bill.size() < calls && provider.inFlight() > 0 && System.nanoTime() < until) {
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
            bill = provider.bill(scenario);
        }
        return bill;
    }

    private static ObjectNode input(List<String> turns, String scenario, int completionTokens, long firstTokenMs,
                                    long tokenIntervalMs) {
        ObjectNode input = Json.mapper().createObjectNode().put("model", "gpt-4o-mini");
        ArrayNode messages = input.putArray("messages");
        for (int i = 0; i < turns.size(); i++) {
            String role = turns.size() > 1 && i == 0 ? "system" : (turns.size() - i) % 2 == 1 ? "user" : "assistant";
            messages.addObject().put("role", role).put("content", turns.get(i));
        }
        input.putObject("test_provider").put("scenario", scenario).put("completion_tokens", completionTokens)
                .put("first_token_ms", firstTokenMs).put("token_interval_ms", tokenIntervalMs);
        return input;
    }
}
