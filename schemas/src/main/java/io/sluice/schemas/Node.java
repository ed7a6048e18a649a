package io.sluice.schemas;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/** A child of a workflow or branch: a {@link Branch} or a {@link Leaf}, told apart on the wire by {@code kind}. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
@JsonSubTypes({@JsonSubTypes.Type(value = Branch.class, name = "branch"), @JsonSubTypes.Type(value = Leaf.class, name = "leaf")})
public sealed interface Node permits Branch, Leaf {

    /** Unique among its siblings; a node's path is its ancestors' ids and its own joined by {@code /}. */
    String id();

    /** Never null; {@link Budget#NONE} when the submission gave none. */
    Budget budget();
}
