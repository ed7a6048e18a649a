package io.sluice.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
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

    @Parameters(index = "0", paramLabel = "FILE", description = "Submission JSON")
    Path file;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            err.println("cannot read " + file + ": " + e.getMessage());
            return Exit.INVALID;
        }
        ValidationResult result = new SubmissionValidator(ValidationLimits.DEFAULTS).validate(bytes);
        if (result.isValid()) {
            spec.commandLine().getOut().println(file + ": valid submission");
            return Exit.OK;
        }
        err.println(file + ": invalid submission");
        result.errors().forEach(e -> err.println("  " + e));
        return Exit.INVALID;
    }
}
