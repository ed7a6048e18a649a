package io.sluice.coordinator.ledger;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.sluice.schemas.Halt;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;

/** What one call of the ledger produced so far; drained into a {@link Decisions} at the end of the call. */
final class Outbox {

    final List<LeafTask> tasks = new ArrayList<>();
    final List<Halt> halts = new ArrayList<>();
    /** Final entries of leaves that ended in this call, by path, in the order they ended. */
    final Map<String, LedgerEntry> endedLeaves = new LinkedHashMap<>();
    /**
     * Leaves in flight or between attempts whose state changed in this call, in the order of their first change;
     * their entries are taken at its end (so a leaf changed twice appears once, as it is then).
     */
    final Set<LiveLeaf> changedLeaves = new LinkedHashSet<>();
    /** Groups changed in this call, by pre-order index (so entries come out coalesced and in document order). */
    final BitSet changed = new BitSet();
    boolean runEnded;
    /** Attempts given up for lost in this call. */
    int abandoned;

    void changed(GroupNode g, long nowMs) {
        changed.set(g.index);
        g.updatedAtMs = nowMs;
    }

    void changed(LiveLeaf leaf) {
        changedLeaves.add(leaf);
    }

    /** A leaf ended: its final entry. (If it changed earlier in the call, {@link RunLedger} skips that.) */
    void ended(LedgerEntry entry) {
        endedLeaves.put(entry.path(), entry);
    }

    boolean isEmpty() {
        return tasks.isEmpty() && halts.isEmpty() && endedLeaves.isEmpty() && changedLeaves.isEmpty()
                && changed.isEmpty() && !runEnded && abandoned == 0;
    }

    void clear() {
        tasks.clear();
        halts.clear();
        endedLeaves.clear();
        changedLeaves.clear();
        changed.clear();
        runEnded = false;
        abandoned = 0;
    }
}
