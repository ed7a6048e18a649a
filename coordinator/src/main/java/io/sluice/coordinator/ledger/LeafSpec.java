package io.sluice.coordinator.ledger;

import java.util.Comparator;
import java.util.PriorityQueue;

import io.sluice.schemas.Leaf;
import io.sluice.schemas.NodePaths;

/**
 * One {@link Leaf} of the submission, standing for all its copies. Copies are never materialised before
 * dispatch: {@link #nextCopy} is the cursor of the next copy to admit, and a copy's ordinal (its position among
 * the run's leaves in document order) is {@code firstOrdinal + copy}.
 */
final class LeafSpec implements Child {

    final Leaf leaf;
    final GroupNode parent;
    private final int indexInParent;
    final int firstOrdinal;
    final int copies;
    /** Copies before this index were dispatched, refused or cancelled; the rest are pending. */
    int nextCopy;
    /** Copies whose retry is due, waiting for admission, lowest copy first (they precede {@link #nextCopy}); or null. */
    private PriorityQueue<LiveLeaf> dueRetries;

    LeafSpec(Leaf leaf, GroupNode parent, int indexInParent, int firstOrdinal) {
        this.leaf = leaf;
        this.parent = parent;
        this.indexInParent = indexInParent;
        this.firstOrdinal = firstOrdinal;
        this.copies = Math.max(0, leaf.copies());
    }

    @Override
    public int indexInParent() {
        return indexInParent;
    }

    /** True when a due retry or a never-dispatched copy waits for admission. */
    boolean hasPending() {
        return nextCopy < copies || hasDueRetry();
    }

    /** Copies never dispatched yet. */
    long pending() {
        return copies - nextCopy;
    }

    boolean hasDueRetry() {
        return dueRetries != null && !dueRetries.isEmpty();
    }

    /** The due retry next in document order, or null. */
    LiveLeaf peekDueRetry() {
        return dueRetries == null ? null : dueRetries.peek();
    }

    LiveLeaf pollDueRetry() {
        return dueRetries == null ? null : dueRetries.poll();
    }

    void addDueRetry(LiveLeaf leaf) {
        if (dueRetries == null) {
            dueRetries = new PriorityQueue<>(Comparator.comparingInt((LiveLeaf l) -> l.copy));
        }
        dueRetries.add(leaf);
    }

    String path(int copy) {
        return NodePaths.child(parent.path, NodePaths.copy(leaf.id(), copy, copies));
    }
}
