package io.sluice.worker;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import io.sluice.schemas.Halt;
import io.sluice.schemas.Status;

/**
 * The halts a worker knows of, by run, as read from the compacted control topic (the latest value per key;
 * a tombstone removes one).
 *
 * <p>Thread-safety: written by the halt watcher, read by every leaf.
 */
final class Halts {

    /** run id → (control record key → halt). */
    private final Map<String, Map<String, Halt>> byRun = new ConcurrentHashMap<>();
    /** control record key → run id, to apply tombstones. */
    private final Map<String, String> runOfKey = new ConcurrentHashMap<>();

    /** @return true when the halt is new or changed */
    boolean put(String key, Halt halt) {
        runOfKey.put(key, halt.runId());
        Halt previous = byRun.computeIfAbsent(halt.runId(), r -> new ConcurrentHashMap<>()).put(key, halt);
        return !halt.equals(previous);
    }

    void remove(String key) {
        String runId = runOfKey.remove(key);
        if (runId != null) {
            byRun.computeIfPresent(runId, (r, halts) -> {
                halts.remove(key);
                return halts.isEmpty() ? null : halts;
            });
        }
    }

    /** The halt covering {@code path} of run {@code runId}; of several, the one whose status ranks worst. */
    Optional<Halt> covering(String runId, String path) {
        return covering(runId, path, 0);
    }

    /**
     * The halt covering that attempt of {@code path} (a node's halt, or that attempt's own); of several, the one whose
     * status ranks worst. Attempt 0 matches only node halts.
     */
    Optional<Halt> covering(String runId, String path, int attempt) {
        Map<String, Halt> halts = byRun.get(runId);
        if (halts == null) {
            return Optional.empty();
        }
        Halt found = null;
        for (Halt h : halts.values()) {
            if (h.covers(path, attempt) && (found == null || Status.worse(statusOf(found), statusOf(h)) != statusOf(found))) {
                found = h;
            }
        }
        return Optional.ofNullable(found);
    }

    boolean hasRun(String runId) {
        return byRun.containsKey(runId);
    }

    int size() {
        return runOfKey.size();
    }

    private static Status statusOf(Halt h) {
        return h.status() != null && h.status().isTerminal() ? h.status() : Status.CANCELLED;
    }
}
