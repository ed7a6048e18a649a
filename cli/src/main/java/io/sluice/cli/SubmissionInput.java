package io.sluice.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import io.sluice.schemas.ValidationLimits;

/**
 * Reads a submission given as a file name or {@code -} (standard input) for {@code validate} and {@code submit} —
 * never more than one byte beyond the largest submission accepted, so that {@code /dev/zero} or a huge file is refused
 * with its size instead of exhausting the heap.
 */
final class SubmissionInput {

    private SubmissionInput() {
    }

    /** The input is too large or cannot be read; the message says which. */
    static final class InputException extends Exception {
        InputException(String message) {
            super(message);
        }
    }

    static byte[] read(String file, ValidationLimits limits) throws InputException {
        int max = limits.maxPayloadBytes();
        try (InputStream in = "-".equals(file) ? System.in : Files.newInputStream(Path.of(file))) {
            byte[] bytes = in.readNBytes(max + 1);
            if (bytes.length > max) {
                throw new InputException(label(file) + ": more than " + max + " bytes; a submission may have at most " + max);
            }
            return bytes;
        } catch (IOException | RuntimeException e) {
            throw new InputException("cannot read " + label(file) + ": " + e.getMessage());
        }
    }

    static String label(String file) {
        return "-".equals(file) ? "standard input" : file;
    }
}
