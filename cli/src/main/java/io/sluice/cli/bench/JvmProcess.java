package io.sluice.cli.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.sluice.cli.SluiceCommand;

/**
 * A {@code sluice} command in a JVM of its own ({@code java -cp <this JVM's class path> io.sluice.cli.SluiceCommand
 * …}), for figures that must not share a heap or CPU accounting with the bench: a coordinator's heap, an idle
 * worker's CPU. Its output is drained by two daemon threads (the last lines kept for error messages); it is ready
 * once a line containing the given marker appears on stdout.
 *
 * <p>CPU time and peak memory come from {@code /proc/<pid>/stat} (utime + stime over all threads, in clock ticks) and
 * {@code /proc/<pid>/status} (VmHWM), so they need Linux; elsewhere they are absent. {@link #close()} sends SIGTERM
 * (the command's orderly shutdown), waits, then kills; it is idempotent.
 */
final class JvmProcess implements AutoCloseable {

    static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final int KEPT_LINES = 40;

    private final String name;
    private final Process process;
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final Deque<String> lastLines = new ArrayDeque<>();
    private final String marker;
    /** Kills the process should the bench's JVM exit without closing it (Ctrl-C, say): no orphan is left running. */
    private final Thread reaper;

    private JvmProcess(String name, Process process, String marker) {
        this.name = name;
        this.process = process;
        this.marker = marker;
        this.reaper = new Thread(process::destroyForcibly, "sluice-bench-reap-" + name);
    }

    /**
     * Starts {@code sluice <args>} with the given JVM options.
     *
     * @param readyMarker text of the stdout line that says the command is up
     */
    static JvmProcess start(String name, List<String> jvmOptions, List<String> args, String readyMarker) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(SluiceCommand.class.getName());
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove("SLUICE_BOOTSTRAP_SERVERS"); // the command gets its cluster as an argument
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + ": " + e.getMessage(), e);
        }
        JvmProcess p = new JvmProcess(name, process, readyMarker);
        Runtime.getRuntime().addShutdownHook(p.reaper);
        p.drain(process.getInputStream(), true);
        p.drain(process.getErrorStream(), false);
        process.onExit().thenRun(() -> p.ready.completeExceptionally(
                new IllegalStateException(name + " exited with code " + process.exitValue() + p.lastOutput())));
        return p;
    }

    private void drain(InputStream in, boolean stdout) {
        Thread t = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    synchronized (lastLines) {
                        lastLines.addLast(line);
                        if (lastLines.size() > KEPT_LINES) {
                            lastLines.removeFirst();
                        }
                    }
                    if (stdout && line.contains(marker)) {
                        ready.complete(null);
                    }
                }
            } catch (IOException e) {
                // the process went away
            }
        }, "sluice-bench-" + name + (stdout ? "-out" : "-err"));
        t.setDaemon(true);
        t.start();
    }

    /**
     * Waits for the ready line.
     *
     * @throws IllegalStateException when the process exits first (with its last output) or does not get ready in time
     */
    void awaitReady(Duration timeout) throws InterruptedException {
        try {
            ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException(name + " not ready within " + timeout.toSeconds() + " s" + lastOutput(), e);
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    /** ": <the last lines it printed>", or "" when it printed nothing, for error messages. */
    String lastOutput() {
        synchronized (lastLines) {
            if (lastLines.isEmpty()) {
                return "";
            }
            // the most telling line of a Java failure is usually the last "Exception"/"Error" one, else the last line
            String pick = lastLines.peekLast();
            for (String l : lastLines) {
                if (l.contains("Exception") || l.contains("Error") || l.contains("ERROR")) {
                    pick = l;
                }
            }
            return ": " + pick.trim();
        }
    }

    /** CPU time the process has used, all threads, user + system; empty where /proc is not readable. */
    OptionalLong cpuNanos() {
        try {
            long ticks = cpuTicks(Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat")));
            return OptionalLong.of(ticks * 1_000_000_000L / ClockTicks.PER_SECOND);
        } catch (IOException | RuntimeException e) {
            return process.info().totalCpuDuration().map(d -> OptionalLong.of(d.toNanos())).orElse(OptionalLong.empty());
        }
    }

    /** CPU time of the process's JIT compiler threads (C1, C2), user + system; empty where /proc is not readable. */
    OptionalLong jitCpuNanos() {
        Path tasks = Path.of("/proc", Long.toString(process.pid()), "task");
        long ticks = 0;
        try (var threads = Files.list(tasks)) {
            for (Path t : (Iterable<Path>) threads::iterator) {
                try {
                    String name = Files.readString(t.resolve("comm")).trim();
                    if (!name.startsWith("C1 CompilerThre") && !name.startsWith("C2 CompilerThre")) {
                        continue;
                    }
                    ticks += cpuTicks(Files.readString(t.resolve("stat")));
                } catch (IOException e) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(ticks * 1_000_000_000L / ClockTicks.PER_SECOND);
    }

    /** utime + stime of a {@code /proc/.../stat} line, in clock ticks. */
    private static long cpuTicks(String stat) {
        // fields after the command name "(java)": state is field 3, utime 14, stime 15
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    /** A field of {@code /proc/<pid>/status} given in kB, in bytes (VmHWM = peak resident set); empty if unknown. */
    OptionalLong statusBytes(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (line.startsWith(field + ":")) {
                    String[] parts = line.substring(field.length() + 1).trim().split("\\s+");
                    return OptionalLong.of(Long.parseLong(parts[0]) * 1024);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or the process is gone
        }
        return OptionalLong.empty();
    }

    /** A count field of {@code /proc/<pid>/status} (e.g. Threads); empty if unknown. */
    OptionalLong statusCount(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (line.startsWith(field + ":")) {
                    return OptionalLong.of(Long.parseLong(line.substring(field.length() + 1).trim()));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or the process is gone
        }
        return OptionalLong.empty();
    }

    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                process.destroy(); // SIGTERM: the command drains and exits
                if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(reaper);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook runs anyway
            }
        }
    }

    /** The kernel's clock ticks per second ({@code getconf CLK_TCK}), 100 when it cannot be asked. */
    private static final class ClockTicks {
        static final long PER_SECOND = ask();

        private static long ask() {
            try {
                Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return Long.parseLong(out);
                }
            } catch (IOException | RuntimeException e) {
                // fall through
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 100;
        }
    }
}
