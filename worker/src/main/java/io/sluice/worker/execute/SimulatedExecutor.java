package io.sluice.worker.execute;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.schemas.Json;

/**
 * A deterministic stand-in for a model: it plays the turns its input scripts, spending through the context exactly
 * as a real agent loop would, so that budgets, truncation, deadlines and cancellation can be exercised without a
 * model.
 *
 * <p>Input: {@code {"turns": [{"input_tokens": 300, "output_tokens": 200, "latency_ms": 5}, ...], "fail_at_turn": 3}}
 * ({@code latency_ms} and {@code fail_at_turn} optional; {@code fail_at_turn} is 1-based; an optional
 * {@code "price": {"input_per_million_microusd": 150000, "output_per_million_microusd": 600000}} prices every turn, as
 * a model's price table would; an optional {@code "wrap_up": {"input_tokens": 50, "output_tokens": 100}} is the turn
 * played from the grant's wrap-up reserve when the budget runs out with turns left). Each turn:
 * <ol>
 *   <li>at {@code fail_at_turn} it throws before spending (the leaf fails);</li>
 *   <li>it begins a step with the turn's input, asking for its output: when the steps are exhausted or the input
 *       does not fit what is left, the turn is not started and the leaf ends {@code budget_exceeded};</li>
 *   <li>it waits {@code latency_ms}, returning early if cancelled (the unfinished turn spends nothing);</li>
 *   <li>it produces {@code min(output_tokens, permit cap)} tokens, like a model cut at {@code max_tokens}; a
 *       truncated turn is reported and then ends the leaf {@code budget_exceeded}.</li>
 * </ol>
 * Output: {@code {"turns_completed": k, "truncated": false, "output_tokens": n, "text": "[turn 1: 200 tokens]..."}}.
 *
 * <p>Thread-safety: stateless.
 */
public final class SimulatedExecutor implements LeafExecutor {

    public static final String NAME = "simulated";

    private static final Set<String> INPUT_FIELDS = Set.of("turns", "fail_at_turn", "price", "wrap_up");
    private static final Set<String> PRICE_FIELDS = Set.of("input_per_million_microusd", "output_per_million_microusd");
    private static final Set<String> TURN_FIELDS = Set.of("input_tokens", "output_tokens", "latency_ms");

    /** Public for {@link java.util.ServiceLoader}. */
    public SimulatedExecutor() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Outcome execute(LeafContext ctx) throws InterruptedException {
        Script script;
        try {
            script = Script.parse(ctx.input());
        } catch (IllegalArgumentException e) {
            return Outcome.failedPermanently(null, e.getMessage()); // another attempt would read the same input
        }
        Progress progress = new Progress();
        ctx.recordOutput(progress.toJson());
        for (int k = 1; k <= script.turns().size(); k++) {
            Turn turn = script.turns().get(k - 1);
            if (script.failAtTurn() != null && script.failAtTurn() == k) {
                throw new IllegalStateException("simulated failure at turn " + k);
            }
            StepPermit permit;
            try {
                permit = ctx.beginStep(turn.inputTokens(), turn.outputTokens(), script.price());
            } catch (BudgetExhaustedException e) {
                return wrapUp(ctx, script, progress, e.getMessage());
            }
            if (turn.latencyMs() > 0 && ctx.awaitCancellation(Duration.ofMillis(turn.latencyMs()))) {
                return Outcome.cancelled(progress.toJson());
            }
            long produced = Math.min(turn.outputTokens(), permit.maxOutputTokens());
            permit.complete(produced);
            progress.add(k, produced, turn.outputTokens());
            ctx.recordOutput(progress.toJson());
            if (produced < turn.outputTokens()) {
                return wrapUp(ctx, script, progress, "turn " + k + " output truncated to " + produced + " of "
                        + turn.outputTokens() + " tokens (" + permit.outputLimit() + ")");
            }
        }
        return Outcome.succeeded(progress.toJson());
    }

    /** One scripted model turn. */
    record Turn(long inputTokens, long outputTokens, long latencyMs) {
    }

    /**
     * The budget ran out with work left: with a {@code wrap_up} turn and a reserve, one last turn from it, like a
     * "summarise what you have" call; either way the leaf ends budget_exceeded with its output.
     */
    private static Outcome wrapUp(LeafContext ctx, Script script, Progress progress, String why) throws InterruptedException {
        if (script.wrapUp() == null || !ctx.wrapUpAvailable()) {
            return Outcome.budgetExceeded(progress.toJson(), why);
        }
        Turn turn = script.wrapUp();
        StepPermit permit;
        try {
            permit = ctx.beginWrapUpStep(turn.inputTokens(), turn.outputTokens(), script.price());
        } catch (BudgetExhaustedException e) {
            return Outcome.budgetExceeded(progress.toJson(), why + "; no wrap-up: " + e.getMessage());
        }
        if (turn.latencyMs() > 0 && ctx.awaitCancellation(Duration.ofMillis(turn.latencyMs()))) {
            return Outcome.cancelled(progress.toJson());
        }
        long produced = Math.min(turn.outputTokens(), permit.maxOutputTokens());
        permit.complete(produced);
        progress.wrapUp(produced);
        return Outcome.budgetExceeded(progress.toJson(), why + "; wrapped up in " + produced + " tokens");
    }

    /** The parsed input. */
    record Script(List<Turn> turns, Integer failAtTurn, Price price, Turn wrapUp) {

        /** @throws IllegalArgumentException naming the JSON path of the first problem */
        static Script parse(JsonNode input) {
            if (input == null || !input.isObject()) {
                throw new IllegalArgumentException("input: must be an object with a \"turns\" array");
            }
            rejectUnknown(input, "input", INPUT_FIELDS);
            JsonNode turnsNode = input.get("turns");
            if (turnsNode == null || !turnsNode.isArray()) {
                throw new IllegalArgumentException("input.turns: must be an array");
            }
            List<Turn> turns = new ArrayList<>();
            for (int i = 0; i < turnsNode.size(); i++) {
                String at = "input.turns[" + i + "]";
                JsonNode t = turnsNode.get(i);
                if (!t.isObject()) {
                    throw new IllegalArgumentException(at + ": must be an object");
                }
                rejectUnknown(t, at, TURN_FIELDS);
                turns.add(new Turn(count(t, at, "input_tokens", true), count(t, at, "output_tokens", true),
                        count(t, at, "latency_ms", false)));
            }
            Integer failAt = null;
            JsonNode f = input.get("fail_at_turn");
            if (f != null && !f.isNull()) {
                if (!f.isIntegralNumber() || !f.canConvertToInt() || f.intValue() < 1 || f.intValue() > turns.size()) {
                    throw new IllegalArgumentException("input.fail_at_turn: must be an integer from 1 to the number of turns ("
                            + turns.size() + "), got " + f);
                }
                failAt = f.intValue();
            }
            JsonNode p = optionalObject(input, "price", PRICE_FIELDS);
            Price price = p == null ? null : new Price(count(p, "input.price", "input_per_million_microusd", true),
                    count(p, "input.price", "output_per_million_microusd", true));
            JsonNode w = optionalObject(input, "wrap_up", TURN_FIELDS);
            Turn wrapUp = w == null ? null : new Turn(count(w, "input.wrap_up", "input_tokens", true),
                    count(w, "input.wrap_up", "output_tokens", true), count(w, "input.wrap_up", "latency_ms", false));
            return new Script(List.copyOf(turns), failAt, price, wrapUp);
        }

        /** {@code input.field}: null when absent, else an object of the known fields. */
        private static JsonNode optionalObject(JsonNode input, String field, Set<String> known) {
            JsonNode v = input.get(field);
            if (v == null || v.isNull()) {
                return null;
            }
            if (!v.isObject()) {
                throw new IllegalArgumentException("input." + field + ": must be an object");
            }
            rejectUnknown(v, "input." + field, known);
            return v;
        }

        private static long count(JsonNode turn, String at, String field, boolean required) {
            JsonNode v = turn.get(field);
            if (v == null || v.isNull()) {
                if (required) {
                    throw new IllegalArgumentException(at + "." + field + ": required");
                }
                return 0;
            }
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new IllegalArgumentException(at + "." + field + ": must be a non-negative integer, got " + v);
            }
            return v.longValue();
        }

        private static void rejectUnknown(JsonNode node, String at, Set<String> known) {
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                String name = field.getKey();
                if (!known.contains(name)) {
                    throw new IllegalArgumentException(at + "." + name + ": unknown field (expected one of "
                            + known.stream().sorted().toList() + ")");
                }
            }
        }
    }

    /** The output so far; deterministic for a given script and grant. */
    private static final class Progress {
        private int turnsCompleted;
        private boolean truncated;
        private boolean wrappedUp;
        private long outputTokens;
        private final StringBuilder text = new StringBuilder();

        void add(int turn, long produced, long wanted) {
            turnsCompleted = turn;
            outputTokens += produced;
            truncated = produced < wanted;
            text.append("[turn ").append(turn).append(": ").append(produced);
            if (truncated) {
                text.append(" of ").append(wanted);
            }
            text.append(" tokens]");
        }

        void wrapUp(long produced) {
            outputTokens += produced;
            wrappedUp = true;
            text.append("[wrap-up: ").append(produced).append(" tokens]");
        }

        ObjectNode toJson() {
            ObjectNode out = Json.mapper().createObjectNode();
            if (wrappedUp) {
                out.put("wrapped_up", true);
            }
            out.put("turns_completed", turnsCompleted);
            out.put("truncated", truncated);
            out.put("output_tokens", outputTokens);
            out.put("text", text.toString());
            return out;
        }
    }
}
