package io.sluice.coordinator.ledger;

/** A child of a workflow or branch in the ledger's tree: a group, or a leaf definition standing for its copies. */
sealed interface Child permits GroupNode, LeafSpec {

    /** Position among the parent's children, in document order. */
    int indexInParent();
}
