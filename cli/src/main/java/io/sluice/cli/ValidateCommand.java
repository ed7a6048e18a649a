package io.sluice.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.sluice.schemas.SubmissionValidator;
import io.sluice.schemas.ValidationLimits;
import io.sluice.schemas.ValidationResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code sluice validate FILE}: checks a submission without a broker. */
@Command(name = "validate", mixinStandardHelpOptions = true, description = "Validates a workflow submission file.")
final class ValidateCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "Submission JSON")
    Path file;

    @Override
    public Integer call() {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            System.err.println("cannot read " + file + ": " + e.getMessage());
            return Exit.INVALID;
        }
        ValidationResult result = new SubmissionValidator(ValidationLimits.DEFAULTS).validate(bytes);
        if (result.isValid()) {
            System.out.println(file + ": valid submission");
            return Exit.OK;
        }
        System.err.println(file + ": invalid submission");
        result.errors().forEach(e -> System.err.println("  " + e));
        return Exit.INVALID;
    }
}
