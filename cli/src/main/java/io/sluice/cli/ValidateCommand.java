package io.sluice.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

import io.sluice.schemas.SubmissionValidator;
import io.sluice.schemas.ValidationLimits;
import io.sluice.schemas.ValidationResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code sluice validate FILE}: checks a submission without a broker. */
@Command(name = "validate", mixinStandardHelpOptions = true, description = "Validates a workflow submission file.")
final class ValidateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "Submission JSON, or - for standard input")
    String file;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        byte[] bytes;
        try {
            bytes = SubmissionInput.read(file, ValidationLimits.DEFAULTS);
        } catch (SubmissionInput.InputException e) {
            err.println(e.getMessage());
            return Exit.INVALID;
        }
        ValidationResult result = new SubmissionValidator(ValidationLimits.DEFAULTS).validate(bytes);
        String name = SubmissionInput.label(file);
        if (result.isValid()) {
            spec.commandLine().getOut().println(name + ": valid submission");
            return Exit.OK;
        }
        err.println(name + ": invalid submission");
        result.errors().forEach(e -> err.println("  " + e));
        return Exit.INVALID;
    }
}
