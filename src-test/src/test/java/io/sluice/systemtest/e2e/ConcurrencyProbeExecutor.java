package io.sluice.systemtest.e2e;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.sluice.schemas.Json;
import io.sluice.schemas.NodePaths;
import io.sluice.worker.execute.LeafContext;
import io.sluice.worker.execute.LeafExecutor;
import io.sluice.worker.execute.Outcome;
import io.sluice.worker.execute.StepPermit;

/**
 * A test executor ("probe") that records how many leaves really run at once on the workers — per run and per
 * parent node — so tests can assert {@code max_parallel} on observed concurrency, not on the coordinator's view.
 * Input: {@code {"hold_ms": 100, "input_tokens": 10, "output_tokens": 10}}.
 */
public final class ConcurrencyProbeExecutor implements LeafExecutor {

    private static final Map<String, AtomicInteger> CURRENT = new ConcurrentHashMap<>();
    private static final Map<String, AtomicInteger> PEAK = new ConcurrentHashMap<>();

    @Override
    public String name() {
        return "probe";
    }

    @Override
    public Outcome execute(LeafContext ctx) throws Exception {
        String run = ctx.task().runId();
        String parent = run + "|" + NodePaths.parent(ctx.task().path());
        enter(run);
        enter(parent);
        try {
            long hold = ctx.input().path("hold_ms").asLong(50);
            StepPermit permit = ctx.beginStep(ctx.input().path("input_tokens").asLong(10), ctx.input().path("output_tokens").asLong(10));
            if (ctx.awaitCancellation(Duration.ofMillis(hold))) {
                return Outcome.cancelled(null);
            }
            permit.complete(Math.min(permit.maxOutputTokens(), ctx.input().path("output_tokens").asLong(10)));
            return Outcome.succeeded(Json.mapper().createObjectNode().put("held_ms", hold));
        } finally {
            exit(parent);
            exit(run);
        }
    }

    /** The most leaves of {@code runId} seen running at once, or under {@code parentPath} when given. */
    public static int peak(String runId, String parentPath) {
        AtomicInteger p = PEAK.get(parentPath == null ? runId : runId + "|" + parentPath);
        return p == null ? 0 : p.get();
    }

    private static void enter(String key) {
        int now = CURRENT.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        PEAK.computeIfAbsent(key, k -> new AtomicInteger()).accumulateAndGet(now, Math::max);
    }

    private static void exit(String key) {
        CURRENT.get(key).decrementAndGet();
    }
}
