package io.sluice.coordinator.ledger;

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

    boolean hasPending() {
        return nextCopy < copies;
    }

    long pending() {
        return copies - nextCopy;
    }

    String path(int copy) {
        return NodePaths.child(parent.path, NodePaths.copy(leaf.id(), copy, copies));
    }
}
