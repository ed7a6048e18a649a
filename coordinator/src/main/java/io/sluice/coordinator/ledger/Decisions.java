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
 * @param entries every workflow/branch node that changed in the call (once each, in document order), preceded by
 *                an entry per leaf that became terminal in the call — except leaves cancelled before they were ever
 *                dispatched in runs too large for leaf-level receipts: those are only counted, in their nodes'
 *                entries
 * @param receipt non-null exactly once: in the result of the call in which the run became terminal
 */
public record Decisions(List<LeafTask> tasks, List<Halt> halts, List<LedgerEntry> entries, Receipt receipt) {

    static final Decisions NONE = new Decisions(List.of(), List.of(), List.of(), null);

    public Decisions {
        tasks = tasks == null ? List.of() : List.copyOf(tasks);
        halts = halts == null ? List.of() : List.copyOf(halts);
        entries = entries == null ? List.of() : List.copyOf(entries);
    }

    /** True when there is nothing to publish. */
    public boolean isEmpty() {
        return tasks.isEmpty() && halts.isEmpty() && entries.isEmpty() && receipt == null;
    }
}
