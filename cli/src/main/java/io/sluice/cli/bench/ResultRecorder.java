package io.sluice.cli.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * Keeps a report as {@code <dir>/<yyyy-MM-dd>-<commit>.json} (the UTC date of the run), with {@code -2}, {@code -3}…
 * before {@code .json} when that name is taken, so no earlier result is overwritten. The directory defaults to
 * {@code bench/results} at the top of the git repository the command runs in, else under the working directory.
 */
final class ResultRecorder {

    private ResultRecorder() {
    }

    static Path defaultDirectory() {
        Path root = BenchMeta.repositoryRoot();
        return (root != null ? root : Path.of("").toAbsolutePath()).resolve("bench").resolve("results");
    }

    /** Writes the JSON; returns the file. */
    static Path record(BenchReport report, String json, Path directory) throws IOException {
        Files.createDirectories(directory);
        String date = LocalDate.ofInstant(java.time.Instant.parse(report.meta().startedAt()), ZoneOffset.UTC).toString();
        String base = date + "-" + report.meta().commit().replaceAll("[^A-Za-z0-9._-]", "_");
        Path file = directory.resolve(base + ".json");
        for (int n = 2; Files.exists(file); n++) {
            file = directory.resolve(base + "-" + n + ".json");
        }
        Files.writeString(file, json + System.lineSeparator(), StandardCharsets.UTF_8);
        return file;
    }
}
