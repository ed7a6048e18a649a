package io.sluice.schemas;

import java.util.List;

/**
 * The outcome of {@link SubmissionValidator#validate}: the parsed submission, or the reasons it was refused.
 * Exactly one of the two is present.
 *
 * @param submission the parsed submission when valid, else null
 * @param errors     empty when valid, else one line per problem in document order, each starting with the JSON
 *                   path of the offending value, e.g. {@code workflow.nodes[2].budget.max_tokens: must be ≥ 0, got -5}
 */
public record ValidationResult(Submission submission, List<String> errors) {

    public ValidationResult {
        errors = errors == null ? List.of() : List.copyOf(errors);
        if ((submission == null) == errors.isEmpty()) {
            throw new IllegalArgumentException("a validation result has either a submission or errors, got "
                    + (submission == null ? "neither" : "both"));
        }
    }

    static ValidationResult valid(Submission submission) {
        return new ValidationResult(submission, List.of());
    }

    static ValidationResult invalid(List<String> errors) {
        return new ValidationResult(null, errors);
    }

    public boolean isValid() {
        return submission != null;
    }

    /**
     * The submission.
     *
     * @throws SubmissionRejectedException carrying {@link #errors()} when it was refused
     */
    public Submission orElseThrow() {
        if (submission == null) {
            throw new SubmissionRejectedException(errors);
        }
        return submission;
    }
}
