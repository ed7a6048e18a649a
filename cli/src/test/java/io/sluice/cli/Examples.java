package io.sluice.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The example submissions that ship in the schemas jar under {@code /examples/}, as files a user would pass. */
final class Examples {

    private Examples() {
    }

    /** Copies {@code /examples/<name>} into {@code dir} and returns the file. */
    static Path copy(String name, Path dir) throws IOException {
        try (InputStream in = Examples.class.getResourceAsStream("/examples/" + name)) {
            assertThat(in).as("/examples/%s on the classpath", name).isNotNull();
            Path file = dir.resolve(name);
            Files.copy(in, file);
            return file;
        }
    }
}
