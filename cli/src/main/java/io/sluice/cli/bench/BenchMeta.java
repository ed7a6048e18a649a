package io.sluice.cli.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Where a bench ran: the source's git commit ({@code git rev-parse --short HEAD} in the working directory, when git
 * and a repository are there; "unknown" otherwise) and whether the tree had uncommitted changes, when, on what
 * machine and Java, against which broker.
 *
 * @param dirty true when {@code git status} showed changes to tracked files; null when unknown
 */
record BenchMeta(String commit, Boolean dirty, String startedAt, double seconds, Machine machine, Broker broker) {

    /** @param memoryBytes total memory of the machine (/proc/meminfo), null where unknown */
    record Machine(int cores, String javaVersion, String javaVm, String os, long benchMaxHeapBytes, Long memoryBytes) {
    }

    /** @param embedded true for the broker the bench started in its own JVM */
    record Broker(boolean embedded, String bootstrapServers) {
    }

    static BenchMeta collect(Instant startedAt, double seconds, boolean embedded, String bootstrapServers) {
        String commit = git("rev-parse", "--short", "HEAD");
        String status = commit == null ? null : git("status", "--porcelain", "--untracked-files=no");
        Machine machine = new Machine(Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
                ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getMax(), memTotal());
        return new BenchMeta(commit == null ? "unknown" : commit, status == null ? null : !status.isBlank(),
                startedAt.toString(), seconds, machine, new Broker(embedded, bootstrapServers));
    }

    /** The repository's top directory, or null outside one. */
    static Path repositoryRoot() {
        String top = git("rev-parse", "--show-toplevel");
        return top == null || top.isBlank() ? null : Path.of(top.trim());
    }

    private static Long memTotal() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return null;
    }

    /** The trimmed output of a git command, or null when it cannot run or fails. */
    private static String git(String... args) {
        List<String> command = new java.util.ArrayList<>();
        command.add("git");
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                return null;
            }
            return new String(out, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
