package io.sluice.coordinator.ledger;

import java.util.List;

import io.sluice.schemas.Halt;
import io.sluice.schemas.LeafTask;
import io.sluice.schemas.LedgerEntry;
import io.sluice.schemas.Receipt;

/**
 * What one call of a {@link RunLedger} asks its caller to publish, in this order of importance: leaf attempts to
 * dispatch, halts to broadcast, ledger entries that changed, and the run's receipt.
 *
 * @param tasks   attempts to publish to the tasks topic, in dispatch order
 * @param halts   subtrees whose leaves must stop
 * @param entries the latest entry of every node whose state changed in the call, once each: first the leaves that
 *                ended in it (in the order they ended), then the leaves in flight or between attempts that changed
 *                in it (dispatched, charged, scheduled for a retry or due for it; in the order of their first change),
 *                then every workflow/branch that changed (in document order) — except leaves cancelled before they
 *                were ever dispatched in runs too large for leaf-level receipts: those are only counted, in their
 *                nodes' entries. Enough to restore the run from ({@link RunLedger#restore})
 * @param receipt non-null exactly once: in the result of the call in which the run became terminal
 * @param rejection non-null when the call's usage event was refused without being folded: why, naming the field
 *                  (e.g. "seq: 1000 skips ahead of the attempt's next seq 3"); the caller dead-letters the event
 * @param abandoned attempts the call gave up for lost (and charged) because their lease lapsed or their final event
 *                  never came
 */
public record Decisions(List<LeafTask> tasks, List<Halt> halts, List<LedgerEntry> entries, Receipt receipt,
                        String rejection, int abandoned) {

    static final Decisions NONE = new Decisions(List.of(), List.of(), List.of(), null, null, 0);

    public Decisions {
        tasks = tasks == null ? List.of() : List.copyOf(tasks);
        halts = halts == null ? List.of() : List.copyOf(halts);
        entries = entries == null ? List.of() : List.copyOf(entries);
    }

    public Decisions(List<LeafTask> tasks, List<Halt> halts, List<LedgerEntry> entries, Receipt receipt) {
        this(tasks, halts, entries, receipt, null, 0);
    }

    Decisions withRejection(String reason) {
        return new Decisions(tasks, halts, entries, receipt, reason, abandoned);
    }

    /** True when there is nothing to publish (a rejection is the caller's to publish). */
    public boolean isEmpty() {
        return tasks.isEmpty() && halts.isEmpty() && entries.isEmpty() && receipt == null;
    }
}
