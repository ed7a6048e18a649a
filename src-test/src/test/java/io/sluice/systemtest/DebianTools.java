package io.sluice.systemtest;

import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;

/**
 * The programs from Debian that a few system tests run (prometheus, docker-compose, kcat; {@code .ci/run} installs
 * them when missing). A test without its program is skipped, unless {@code SLUICE_REQUIRE_TOOLS} is set (as
 * {@code .ci/run} sets it): then it fails, so that CI never passes by skipping.
 */
public final class DebianTools {

    private DebianTools() {
    }

    /**
     * The program: {@code $SLUICE_<NAME>} (e.g. {@code SLUICE_PROMETHEUS}), else the first on the PATH.
     *
     * @param debianPackage the package that ships it, for the message when it is missing
     */
    public static Path require(String program, String debianPackage) {
        String configured = System.getenv("SLUICE_" + program.toUpperCase(Locale.ROOT).replace('-', '_'));
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .map(dir -> Path.of(dir, program)).filter(Files::isExecutable).findFirst().orElseGet(() -> {
                    String why = "no " + program + " (Debian's package " + debianPackage + "; .ci/run installs it)";
                    if (System.getenv("SLUICE_REQUIRE_TOOLS") != null) {
                        fail(why);
                    }
                    Assumptions.abort(why);
                    return null;
                });
    }
}
