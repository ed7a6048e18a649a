package io.sluice.worker.openai;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.schemas.Json;
import io.sluice.worker.execute.Allowance;
import io.sluice.worker.execute.BudgetExhaustedException;
import io.sluice.worker.execute.LeafContext;
import io.sluice.worker.execute.LeafExecutor;
import io.sluice.worker.execute.Outcome;
import io.sluice.worker.execute.Price;
import io.sluice.worker.execute.StepPermit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a leaf as calls to an OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, llama.cpp server,
 * LiteLLM, gateways), each call a step under the leaf's grant, charged what the provider reports.
 *
 * <p><b>A step</b> ({@link ChatInput} for what the input may hold):
 * <ol>
 *   <li>reserve the prompt's proven upper bound ({@link PromptBound}) and ask for the output the input wants (its
 *       own {@code max_tokens}, else {@link EndpointConfig#defaultMaxTokens}): {@link LeafContext#beginStep} returns the
 *       cap, at most what is left of the grant; the call carries it as {@code max_tokens} (or
 *       {@code max_completion_tokens}), so no call ever leaves uncapped;</li>
 *   <li>stream the completion ({@code stream: true}, {@code stream_options.include_usage: true}) through
 *       {@link ChatCall}, recording the text so far as the leaf's partial output;</li>
 *   <li>settle: with the provider's final usage chunk, complete the step with its {@code prompt_tokens} and
 *       {@code completion_tokens} (the unused part of the reservation is refunded; more than the permit is still
 *       charged, and flagged: spend is truth). When the call was sent and ended without usage — cancelled, broken,
 *       cut by silence or a timeout, or a provider that omits usage — the step is charged its <em>whole permit</em>,
 *       since the provider may have billed any of it: the ledger may exceed the bill, never fall below it. An answer
 *       with an error status, or a request that never connected, spends nothing.</li>
 * </ol>
 *
 * <p><b>Errors, classified once.</b> 429 and 503 are retried inside the attempt, up to
 * {@link EndpointConfig#maxRateLimitRetries} times, after {@code retry-after-ms} / {@code Retry-After} or a capped
 * exponential backoff with jitter, but never past the leaf's deadline; other 5xx, 408, 409, timeouts, resets and
 * broken streams fail the attempt (a new attempt is made as for any failure); every other 4xx (400, 401, 403, 404,
 * 422, …) ends the leaf {@code failed} at once, not retried, with the provider's message. Every message is redacted
 * ({@link Secrets}): the key appears in no reason, output or log.
 *
 * <p><b>Ends.</b> {@code finish_reason: length} at a cap the grant set ends the leaf {@code budget_exceeded} with the
 * text so far; below it (the input's own cap) the leaf succeeds — or, with {@code "continue": true} and
 * {@code max_steps} left, the text is appended as an assistant message, the model is asked to go on, and the next
 * step begins, each capped and charged as above. A halt, the deadline or the worker's shutdown abort the call in
 * flight at once, also while waiting for the first token ({@link LeafContext#onCancel}).
 *
 * <p>Output: {@code {"content", "finish_reason", "model", "steps", "usage": {"prompt_tokens", "completion_tokens"},
 * "tool_calls"?, "charged_whole_permit"?}}.
 *
 * <p>Thread-safety: one instance serves all leaves of the worker at once; per-leaf state is local. At most
 * {@link EndpointConfig#maxConcurrentRequests} calls are in flight; more wait for a turn (cancellable).
 */
public final class OpenAiExecutor implements LeafExecutor {

    private static final Logger log = LoggerFactory.getLogger(OpenAiExecutor.class);
    private static final Duration MIN_BACKOFF = Duration.ofMillis(250);
    private static final long PROGRESS_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final EndpointConfig config;
    private final Secrets secrets;
    private final Semaphore turns;
    private final AtomicLong cancels = new AtomicLong();
    private final AtomicLong cancelNanosTotal = new AtomicLong();
    private final AtomicLong cancelNanosMax = new AtomicLong();
    private volatile HttpClient client;

    /** The built-in {@code openai} executor: {@code OPENAI_BASE_URL} and {@code OPENAI_API_KEY}. For ServiceLoader. */
    public OpenAiExecutor() {
        this(EndpointConfig.fromEnvironment(System.getenv()), System.getenv());
    }

    /**
     * @param env where {@link EndpointConfig#apiKeyEnv()} is looked up
     * @throws IllegalArgumentException when the endpoint's key file cannot be read
     */
    public OpenAiExecutor(EndpointConfig config, Map<String, String> env) {
        this.config = Objects.requireNonNull(config, "config");
        this.secrets = Secrets.of(config, env);
        this.turns = new Semaphore(config.maxConcurrentRequests(), true);
    }

    @Override
    public String name() {
        return config.name();
    }

    public EndpointConfig config() {
        return config;
    }

    /**
     * Calls aborted by a cancellation so far, and how long from the abort to the call's end (connection closed,
     * reader released), in microseconds.
     */
    public record CancelStats(long count, long meanMicros, long maxMicros) {
    }

    public CancelStats cancelStats() {
        long n = cancels.get();
        return new CancelStats(n, n == 0 ? 0 : cancelNanosTotal.get() / n / 1000, cancelNanosMax.get() / 1000);
    }

    @Override
    public Outcome execute(LeafContext ctx) throws InterruptedException {
        ChatInput input;
        try {
            input = ChatInput.parse(ctx.input());
        } catch (IllegalArgumentException e) {
            return Outcome.failedPermanently(null, e.getMessage());
        }
        String model = ctx.input().path("model").asText();
        Price price = config.prices().get(model);
        if (price == null && ctx.remaining().costMicrousd() != Allowance.UNLIMITED) {
            return Outcome.failedPermanently(null, "model '" + model + "' has no price in the configuration of executor '"
                    + config.name() + "', and a cost limit (max_cost_microusd) applies: it is never run as if free");
        }
        AtomicReference<ChatCall> inFlight = new AtomicReference<>();
        ctx.onCancel(() -> {
            ChatCall call = inFlight.get();
            if (call != null) {
                call.abort();
            }
        });
        Transcript transcript = new Transcript();
        ArrayNode messages = input.messages();
        while (true) {
            if (ctx.isCancelled()) {
                return Outcome.cancelled(transcript.output());
            }
            long bound;
            try {
                bound = PromptBound.of(input.uncapped(messages), config.overheads());
            } catch (PromptBound.UnboundedPromptException e) {
                return Outcome.failedPermanently(null, "openai input: " + e.getMessage());
            }
            StepPermit permit;
            try {
                permit = ctx.beginStep(bound, input.wantedOutput(config.defaultMaxTokens()), price);
            } catch (BudgetExhaustedException e) {
                return exhausted(ctx, input, messages, "", price, inFlight, transcript, e.getMessage());
            }
            ObjectNode body = input.request(messages, config.capParameter(), permit.maxOutputTokens());
            StepEnd end = step(ctx, body, permit, inFlight, transcript);
            if (end.outcome != null) {
                return end.outcome;
            }
            ChatStep step = end.step;
            String finish = step.finishReason();
            if ("length".equals(finish)) {
                if (permit.outputLimit() != null && step.completionTokens() >= permit.maxOutputTokens()) {
                    return exhausted(ctx, input, messages, step.text(), price, inFlight, transcript, "output cut at "
                            + permit.maxOutputTokens() + " tokens by the grant (" + permit.outputLimit() + ")");
                }
                if (input.continueOnLength()) {
                    messages.addObject().put("role", "assistant").put("content", step.text());
                    messages.addObject().put("role", "user").put("content", ChatInput.CONTINUE_PROMPT);
                    continue;
                }
            }
            return Outcome.succeeded(transcript.output());
        }
    }

    /**
     * The grant ran out with work left. With a wrap-up reserve, one last tools-free call asks the model to summarise
     * what it has so far; its answer becomes the leaf's content (what came before stays as {@code partial_content}).
     * Either way the leaf ends budget_exceeded with its output.
     *
     * @param unsent the last step's text, not yet in {@code messages}
     */
    private Outcome exhausted(LeafContext ctx, ChatInput input, ArrayNode messages, String unsent, Price price,
                              AtomicReference<ChatCall> inFlight, Transcript transcript, String why)
            throws InterruptedException {
        if (!ctx.wrapUpAvailable()) {
            return Outcome.budgetExceeded(transcript.output(), why);
        }
        ArrayNode wrap = messages.deepCopy();
        if (!unsent.isEmpty()) {
            wrap.addObject().put("role", "assistant").put("content", unsent);
        }
        wrap.addObject().put("role", "user").put("content", ChatInput.WRAP_UP_PROMPT);
        StepPermit permit;
        try {
            permit = ctx.beginWrapUpStep(PromptBound.of(input.wrapUp(wrap), config.overheads()), config.defaultMaxTokens(), price);
        } catch (BudgetExhaustedException e) {
            return Outcome.budgetExceeded(transcript.output(), why + "; no wrap-up: " + e.getMessage());
        }
        transcript.beginWrapUp();
        StepEnd end = step(ctx, input.wrapUpRequest(wrap, config.capParameter(), permit.maxOutputTokens()), permit, inFlight,
                transcript);
        if (end.outcome != null) {
            return end.outcome;
        }
        return Outcome.budgetExceeded(transcript.output(), why + "; wrapped up in " + end.step.completionTokens() + " tokens");
    }

    /** A step's end: the completed step to go on from, or the leaf's outcome. */
    private record StepEnd(ChatStep step, Outcome outcome) {
    }

    /** One step: the call, its retries after 429/503, and its settlement on the permit. */
    private StepEnd step(LeafContext ctx, ObjectNode body, StepPermit permit, AtomicReference<ChatCall> inFlight,
                         Transcript transcript) throws InterruptedException {
        HttpRequest request = request(body);
        for (int retry = 0; ; retry++) {
            if (!acquireTurn(ctx)) {
                return new StepEnd(null, Outcome.cancelled(transcript.output()));
            }
            ChatCall.Result result;
            try {
                ChatCall call = new ChatCall(client(), request, config.streamIdleTimeout());
                inFlight.set(call);
                if (ctx.isCancelled()) {
                    call.abort();
                }
                long[] lastProgress = {System.nanoTime()};
                result = call.run(s -> {
                    if (System.nanoTime() - lastProgress[0] > PROGRESS_EVERY_NANOS) {
                        lastProgress[0] = System.nanoTime();
                        ctx.recordOutput(transcript.outputWith(s));
                    }
                });
            } finally {
                inFlight.set(null);
                turns.release();
            }
            if (result instanceof ChatCall.Completed c) {
                return settle(ctx, permit, c.step(), transcript);
            }
            if (result instanceof ChatCall.Aborted a) {
                recordCancel(a.abortToEndNanos());
                chargeWholePermit(permit, transcript, a.partial());
                return new StepEnd(null, Outcome.cancelled(transcript.output()));
            }
            if (result instanceof ChatCall.Broken b) {
                chargeWholePermit(permit, transcript, b.partial());
                return new StepEnd(null, Outcome.failed(transcript.output(), secrets.redact(b.reason())
                        + "; charged the whole permit (" + (permit.inputTokens() + permit.maxOutputTokens())
                        + " tokens): the provider may have billed it"));
            }
            if (result instanceof ChatCall.NotSent n) {
                return new StepEnd(null, Outcome.failed(transcript.output(), secrets.redact(n.reason())));
            }
            ChatCall.Refused refused = (ChatCall.Refused) result;
            String reason = "provider answered " + refused.status() + ": " + secrets.redact(refused.message());
            int status = refused.status();
            if (status == 429 || status == 503) {
                Optional<Duration> asked = RetryAfter.of(refused.headers(), Instant.now());
                if (retry >= config.maxRateLimitRetries()) {
                    return new StepEnd(null, Outcome.failed(transcript.output(), reason + " (" + (retry + 1) + " times)"));
                }
                Duration wait = asked.isPresent() ? asked.get() : backoff(retry);
                Instant deadline = ctx.remaining().deadline();
                if (deadline != null && Instant.now().plus(wait).isAfter(deadline)) {
                    return new StepEnd(null, Outcome.failed(transcript.output(), reason + "; waiting " + wait.toMillis()
                            + " ms to retry would pass the leaf's deadline"));
                }
                log.debug("{}: {} attempt {}: {}; retrying in {} ms", config.name(), ctx.task().path(), ctx.task().attempt(),
                        reason, wait.toMillis());
                if (ctx.awaitCancellation(wait)) {
                    return new StepEnd(null, Outcome.cancelled(transcript.output()));
                }
                continue;
            }
            if (status >= 500 || status == 408 || status == 409) {
                return new StepEnd(null, Outcome.failed(transcript.output(), reason));
            }
            return new StepEnd(null, Outcome.failedPermanently(transcript.output(), reason));
        }
    }

    private StepEnd settle(LeafContext ctx, StepPermit permit, ChatStep step, Transcript transcript) {
        long prompt;
        long completion;
        if (step.hasUsage()) {
            prompt = step.promptTokens();
            completion = step.completionTokens();
            if (prompt > permit.inputTokens() || completion > permit.maxOutputTokens()) {
                transcript.flag("usage_beyond_permit", "the provider reported " + prompt + " prompt and " + completion
                        + " completion tokens against a permit of " + permit.inputTokens() + " and " + permit.maxOutputTokens());
                log.warn("{}: {} attempt {} step {}: {}", config.name(), ctx.task().path(), ctx.task().attempt(),
                        permit.step(), transcript.flags.get("usage_beyond_permit"));
            }
        } else {
            prompt = permit.inputTokens();
            completion = permit.maxOutputTokens();
            transcript.flag("charged_whole_permit", "the provider sent no usage; step " + permit.step()
                    + " was charged its whole permit");
            log.warn("{}: {} attempt {} step {}: the stream had no usage chunk (does the endpoint support "
                    + "stream_options.include_usage?); charged the whole permit", config.name(), ctx.task().path(),
                    ctx.task().attempt(), permit.step());
        }
        transcript.add(step, prompt, completion);
        try {
            permit.complete(prompt, completion);
        } catch (BudgetExhaustedException e) {
            return new StepEnd(null, Outcome.budgetExceeded(transcript.output(), e.getMessage()));
        }
        ctx.recordOutput(transcript.output());
        return new StepEnd(step, null);
    }

    private void chargeWholePermit(StepPermit permit, Transcript transcript, ChatStep partial) {
        transcript.add(partial, permit.inputTokens(), permit.maxOutputTokens());
        transcript.flag("charged_whole_permit", "step " + permit.step() + " ended before the provider reported usage "
                + "and was charged its whole permit");
        try {
            permit.complete(permit.inputTokens(), permit.maxOutputTokens());
        } catch (BudgetExhaustedException e) {
            // within the grant by construction; reported as the leaf's overspend if not
        }
    }

    private boolean acquireTurn(LeafContext ctx) throws InterruptedException {
        while (!turns.tryAcquire(50, TimeUnit.MILLISECONDS)) {
            if (ctx.isCancelled()) {
                return false;
            }
        }
        if (ctx.isCancelled()) {
            turns.release();
            return false;
        }
        return true;
    }

    private Duration backoff(int retry) {
        long capMs = config.maxBackoff().toMillis();
        long base = Math.min(capMs, MIN_BACKOFF.toMillis() << Math.min(retry, 20));
        return Duration.ofMillis(base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1));
    }

    private void recordCancel(long nanos) {
        cancels.incrementAndGet();
        cancelNanosTotal.addAndGet(nanos);
        cancelNanosMax.accumulateAndGet(nanos, Math::max);
    }

    private HttpRequest request(ObjectNode body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(config.chatCompletionsUrl())
                .timeout(config.requestTimeout())
                .header("Content-Type", "application/json")
                .header("Accept", "text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(Json.write(body)));
        String auth = secrets.authorization();
        if (auth != null) {
            b.header("Authorization", auth);
        }
        return b.build();
    }

    private HttpClient client() {
        HttpClient c = client;
        if (c == null) {
            synchronized (this) {
                c = client;
                if (c == null) {
                    boolean tls = "https".equalsIgnoreCase(config.baseUrl().getScheme());
                    c = HttpClient.newBuilder()
                            .connectTimeout(config.connectTimeout())
                            .followRedirects(HttpClient.Redirect.NEVER)
                            .version(tls ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1)
                            .build();
                    client = c;
                }
            }
        }
        return c;
    }

    @Override
    public String toString() {
        return "OpenAiExecutor[" + config.name() + " at " + config.baseUrl() + ", " + secrets + "]";
    }

    /** The leaf's output across its steps. */
    private static final class Transcript {
        private final StringBuilder content = new StringBuilder();
        private String partialContent;
        private final ArrayNode toolCalls = Json.mapper().createArrayNode();
        private final Map<String, String> flags = new java.util.LinkedHashMap<>();
        private String finishReason;
        private String model;
        private int steps;
        private long promptTokens;
        private long completionTokens;

        void add(ChatStep step, long prompt, long completion) {
            content.append(step.text());
            step.toolCalls().forEach(toolCalls::add);
            if (step.finishReason() != null) {
                finishReason = step.finishReason();
            }
            if (step.model() != null) {
                model = step.model();
            }
            steps++;
            promptTokens += prompt;
            completionTokens += completion;
        }

        /** What follows is the wrap-up: the content so far becomes the partial content. */
        void beginWrapUp() {
            partialContent = content.toString();
            content.setLength(0);
        }

        void flag(String name, String why) {
            flags.put(name, why);
        }

        ObjectNode output() {
            return outputWith(null);
        }

        /** The output with a step still streaming. */
        ObjectNode outputWith(ChatStep streaming) {
            ObjectNode o = Json.mapper().createObjectNode();
            o.put("content", streaming == null ? content.toString() : content + streaming.text());
            o.put("finish_reason", finishReason);
            o.put("model", streaming != null && streaming.model() != null ? streaming.model() : model);
            o.put("steps", steps);
            o.putObject("usage").put("prompt_tokens", promptTokens).put("completion_tokens", completionTokens);
            if (!toolCalls.isEmpty()) {
                o.set("tool_calls", toolCalls.deepCopy());
            }
            if (partialContent != null) {
                o.put("wrapped_up", true);
                o.put("partial_content", partialContent);
            }
            flags.forEach(o::put);
            return o;
        }
    }
}
