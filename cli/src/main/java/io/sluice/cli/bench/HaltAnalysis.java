package io.sluice.cli.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.sluice.schemas.Halt;
import io.sluice.schemas.UsageEvent;

/**
 * Reads one halt trial off the records: a pure function of a run's usage events (in offset order on their partition,
 * with their record timestamps) and of when its halt was written and became visible. No I/O, no clock.
 *
 * <p>The trigger is the moment the halt became due: for a budget, the record timestamp of the usage event whose fold
 * made the run's spend reach its limit (events folded in offset order, each (path, attempt, seq) once, as the
 * coordinator folds them); for a deadline, the run's start plus its {@code timeout_ms}. From it:
 * <ul>
 *   <li>halt written / durable: the halt record's timestamp, and when a live read_committed reader saw it;</li>
 *   <li>last queued task refused: the latest final event with a halt status ({@code cancelled}, {@code timed_out}) of an
 *       attempt that never started — it has no step event before it (every bench leaf reports a 1-token step the
 *       moment it starts, so a started attempt always has one);</li>
 *   <li>last in-flight leaf stopped: the latest final event with a halt status of an attempt that had started;</li>
 *   <li>tokens after the trigger: what events folded after the triggering one (deadline: stamped after it)
 *       reported; tokens after the halt: what events stamped after the halt record reported.</li>
 * </ul>
 * Times are milliseconds after the trigger (the machine's one clock stamps every record here); null where nothing of
 * the kind happened.
 */
final class HaltAnalysis {

    private HaltAnalysis() {
    }

    /** One usage event as read: its record timestamp and offset. */
    record UsageRecord(UsageEvent event, long timestampMs, long offset) {
    }

    /**
     * @param triggerAtMs          epoch ms of the trigger
     * @param haltWrittenMs        halt record timestamp − trigger
     * @param haltDurableMs        when a live read_committed reader first saw the halt − trigger
     * @param lastQueuedRefusedMs  the last never-started attempt's halted final event − trigger
     * @param lastInFlightStoppedMs the last started attempt's halted final event − trigger
     * @param queuedRefused        never-started attempts that ended with a halt status
     * @param inFlightStopped      started attempts that ended with a halt status
     * @param tokensAfterTrigger   tokens reported by events folded after the trigger
     * @param tokensAfterHalt      tokens reported by events stamped after the halt record
     * @param spent                tokens the run reported in all
     */
    record Trial(String runId, long triggerAtMs, Long haltWrittenMs, Long haltDurableMs, Long lastQueuedRefusedMs,
                 Long lastInFlightStoppedMs, int queuedRefused, int inFlightStopped, long tokensAfterTrigger,
                 Long tokensAfterHalt, long spent) {
    }

    /**
     * A trial halted by its budget: the trigger is the event that made the spend reach {@code limit}.
     *
     * @throws IllegalStateException when the events never reach the limit
     */
    static Trial budget(String runId, List<UsageRecord> records, long limit, Long haltRecordMs, Long haltReadMs) {
        List<UsageRecord> folded = dedupe(records);
        long sum = 0;
        UsageRecord trigger = null;
        for (UsageRecord r : folded) {
            sum += tokens(r.event());
            if (sum >= limit) {
                trigger = r;
                break;
            }
        }
        if (trigger == null) {
            throw new IllegalStateException("run " + runId + ": usage never reached the limit " + limit + " (spent " + sum + ")");
        }
        long triggerOffset = trigger.offset();
        long after = folded.stream().filter(r -> r.offset() > triggerOffset).mapToLong(r -> tokens(r.event())).sum();
        return analyse(runId, folded, trigger.timestampMs(), after, haltRecordMs, haltReadMs);
    }

    /** A trial halted by its deadline, due at {@code deadlineMs}. */
    static Trial deadline(String runId, List<UsageRecord> records, long deadlineMs, Long haltRecordMs, Long haltReadMs) {
        List<UsageRecord> folded = dedupe(records);
        long after = folded.stream().filter(r -> r.timestampMs() > deadlineMs).mapToLong(r -> tokens(r.event())).sum();
        return analyse(runId, folded, deadlineMs, after, haltRecordMs, haltReadMs);
    }

    private static Trial analyse(String runId, List<UsageRecord> folded, long triggerMs, long tokensAfterTrigger,
                                 Long haltRecordMs, Long haltReadMs) {
        Set<String> started = new HashSet<>();
        Long lastRefused = null;
        Long lastStopped = null;
        int refused = 0;
        int stopped = 0;
        long spent = 0;
        for (UsageRecord r : folded) {
            UsageEvent e = r.event();
            spent += tokens(e);
            String attempt = e.path() + "#" + e.attempt();
            if (!e.isFinal()) {
                started.add(attempt);
                continue;
            }
            if (!Halt.isHaltStatus(e.status())) {
                continue;
            }
            if (started.contains(attempt)) {
                stopped++;
                lastStopped = max(lastStopped, r.timestampMs());
            } else {
                refused++;
                lastRefused = max(lastRefused, r.timestampMs());
            }
        }
        Long tokensAfterHalt = null;
        if (haltRecordMs != null) {
            tokensAfterHalt = folded.stream().filter(r -> r.timestampMs() > haltRecordMs).mapToLong(r -> tokens(r.event())).sum();
        }
        return new Trial(runId, triggerMs, minus(haltRecordMs, triggerMs), minus(haltReadMs, triggerMs),
                minus(lastRefused, triggerMs), minus(lastStopped, triggerMs), refused, stopped, tokensAfterTrigger,
                tokensAfterHalt, spent);
    }

    /** Each (path, attempt, seq) once, the first time, in offset order; lost notices (seq 0) kept as they come. */
    static List<UsageRecord> dedupe(List<UsageRecord> records) {
        List<UsageRecord> sorted = new ArrayList<>(records);
        sorted.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        Map<String, Boolean> seen = new HashMap<>();
        List<UsageRecord> out = new ArrayList<>();
        for (UsageRecord r : sorted) {
            UsageEvent e = r.event();
            if (seen.putIfAbsent(e.path() + "#" + e.attempt() + "#" + e.seq(), Boolean.TRUE) == null) {
                out.add(r);
            }
        }
        return out;
    }

    private static long tokens(UsageEvent e) {
        return e.inputTokens() + e.outputTokens();
    }

    private static Long max(Long a, long b) {
        return a == null ? b : Math.max(a, b);
    }

    private static Long minus(Long at, long triggerMs) {
        return at == null ? null : at - triggerMs;
    }
}
