package io.sluice.schemas;

import java.util.List;

/** A submission refused by {@link SubmissionValidator}; {@link #errors()} says why, one line per problem. */
public final class SubmissionRejectedException extends RuntimeException {

    private final List<String> errors;

    public SubmissionRejectedException(List<String> errors) {
        super(summary(errors));
        this.errors = List.copyOf(errors);
    }

    /** One line per problem in document order, each starting with the JSON path of the offending value. */
    public List<String> errors() {
        return errors;
    }

    private static String summary(List<String> errors) {
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("errors must not be empty");
        }
        return "submission rejected: " + errors.get(0)
                + (errors.size() > 1 ? " (and " + (errors.size() - 1) + " more)" : "");
    }
}
