package io.sluice.worker;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import io.sluice.schemas.Halt;
import io.sluice.schemas.Heartbeat;
import io.sluice.schemas.LeafTask;

/**
 * The leaves this worker has taken and not finished, with their stop signals, so that a halt or the shutdown can
 * reach them. A leaf is added before its halt check and removed when it ended: a halt that arrives in between is
 * seen by one side or the other (the watcher stores a halt before it stops the leaves).
 *
 * <p>Thread-safety: thread-safe.
 */
final class RunningLeaves {

    /** A taken leaf. Identity equality: two deliveries of one task are two entries. */
    static final class Leaf {
        final LeafTask task;
        final StopSignal signal;

        Leaf(LeafTask task, StopSignal signal) {
            this.task = task;
            this.signal = signal;
        }
    }

    private final Set<Leaf> leaves = ConcurrentHashMap.newKeySet();

    Leaf add(LeafTask task, StopSignal signal) {
        Leaf leaf = new Leaf(task, signal);
        leaves.add(leaf);
        return leaf;
    }

    void remove(Leaf leaf) {
        leaves.remove(leaf);
    }

    /** Stops the leaves {@code halt} covers (for a halt of one attempt: that attempt). @return how many this call stopped */
    int stopCovered(Halt halt) {
        int stopped = 0;
        for (Leaf leaf : leaves) {
            if (leaf.task.runId().equals(halt.runId()) && halt.covers(leaf.task.path(), leaf.task.attempt())
                    && leaf.signal.stop(StopSignal.Stop.halt(halt))) {
                stopped++;
            }
        }
        return stopped;
    }

    void stopAll(StopSignal.Stop why) {
        leaves.forEach(leaf -> leaf.signal.stop(why));
    }

    int size() {
        return leaves.size();
    }

    /** The attempts taken and not finished, by run: what this worker's heartbeats name. */
    Map<String, List<Heartbeat.Attempt>> attemptsByRun() {
        Map<String, List<Heartbeat.Attempt>> byRun = new TreeMap<>();
        for (Leaf leaf : leaves) {
            byRun.computeIfAbsent(leaf.task.runId(), r -> new ArrayList<>())
                    .add(new Heartbeat.Attempt(leaf.task.path(), leaf.task.attempt()));
        }
        return byRun;
    }
}
