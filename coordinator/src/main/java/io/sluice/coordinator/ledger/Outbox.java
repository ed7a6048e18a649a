package io.sluice.coordinator.ledger;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import io.sluice.schemas.Halt;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;

/** What one call of the ledger produced so far; drained into a {@link Decisions} at the end of the call. */
final class Outbox {

    final List<LeafTask> tasks = new ArrayList<>();
    final List<Halt> halts = new ArrayList<>();
    final List<LedgerEntry> leafEntries = new ArrayList<>();
    /** Groups changed in this call, by pre-order index (so entries come out coalesced and in document order). */
    final BitSet changed = new BitSet();
    boolean runEnded;

    void changed(GroupNode g, long nowMs) {
        changed.set(g.index);
        g.updatedAtMs = nowMs;
    }

    boolean isEmpty() {
        return tasks.isEmpty() && halts.isEmpty() && leafEntries.isEmpty() && changed.isEmpty() && !runEnded;
    }

    void clear() {
        tasks.clear();
        halts.clear();
        leafEntries.clear();
        changed.clear();
        runEnded = false;
    }
}
