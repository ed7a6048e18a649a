package io.sluice.systemtest.fault;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;

/**
 * One {@code sluice} command ({@code broker}, {@code coordinator}, {@code worker}) running in a JVM of its own:
 * {@code java -cp <the test JVM's class path> io.sluice.cli.SluiceCommand ...}, its stdout and stderr going to
 * {@code <name>.N.out} / {@code <name>.N.err} in the test's log directory (N counts the starts of one name, so a
 * restarted broker keeps the log of its previous life).
 *
 * <p>{@link #kill()} is SIGKILL ({@link Process#destroyForcibly()}): the process gets no chance to flush,
 * acknowledge or commit anything. {@link #terminate} is SIGTERM: the command's orderly shutdown runs.
 *
 * <p>Thread-safety: confined to the test thread, apart from {@link #kill()}, which is safe from a shutdown hook.
 */
final class SluiceProcess {

    /** JVM options of every child: small heaps, one GC thread, so that 5–7 JVMs share 2 cores. */
    static final List<String> JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Xss512k", "-Djava.awt.headless=true");
    static final String MAIN_CLASS = "io.sluice.cli.SluiceCommand";
    static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(20);

    private final String name;
    private final List<String> command;
    private final Path stdout;
    private final Path stderr;
    private final Process process;
    private final long startedAtNanos;

    private SluiceProcess(String name, List<String> command, Path stdout, Path stderr, Process process) {
        this.name = name;
        this.command = command;
        this.stdout = stdout;
        this.stderr = stderr;
        this.process = process;
        this.startedAtNanos = System.nanoTime();
    }

    /**
     * Starts {@code sluice <args>} in a new JVM.
     *
     * @param name   a file-name-safe label, e.g. {@code worker-2}
     * @param logDir where stdout and stderr go
     */
    static SluiceProcess start(String name, Path logDir, List<String> args) {
        return start(name, logDir, MAIN_CLASS, args, java.util.Map.of());
    }

    /**
     * Starts {@code mainClass} of the test class path in a new JVM, with {@code env} added to its environment.
     *
     * @param name a file-name-safe label, e.g. {@code provider}
     */
    static SluiceProcess start(String name, Path logDir, String mainClass, List<String> args, java.util.Map<String, String> env) {
        try {
            Files.createDirectories(logDir);
            int life = 1;
            while (Files.exists(logDir.resolve(name + "." + life + ".out"))) {
                life++;
            }
            Path out = logDir.resolve(name + "." + life + ".out");
            Path err = logDir.resolve(name + "." + life + ".err");
            List<String> command = new ArrayList<>();
            command.add(javaExecutable());
            command.addAll(JVM_OPTIONS);
            command.add("-Dsluice.process.name=" + name);
            command.add("-cp");
            command.add(testClassPath());
            command.add(mainClass);
            command.addAll(args);
            ProcessBuilder builder = new ProcessBuilder(command);
            builder.environment().putAll(env);
            Process process = builder
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.PIPE)
                    .start();
            return new SluiceProcess(name, List.copyOf(command), out, err, process);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + " (sluice " + String.join(" ", args) + ")", e);
        }
    }

    private static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * The test JVM's class path: Surefire/Failsafe set {@code java.class.path} to the test class path (test
     * classes, every module under test and their dependencies) even when the JVM itself was started from a
     * manifest-only jar.
     */
    static String testClassPath() {
        String cp = System.getProperty("java.class.path", "");
        if (!cp.contains("sluice-cli") && !cp.contains("cli" + java.io.File.separator + "target")) {
            String surefire = System.getProperty("surefire.test.class.path");
            if (surefire != null && !surefire.isBlank()) {
                return surefire;
            }
            throw new IllegalStateException("the test JVM's class path does not hold the sluice command: " + cp);
        }
        return cp;
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    Duration uptime() {
        return Duration.ofNanos(System.nanoTime() - startedAtNanos);
    }

    Path stdout() {
        return stdout;
    }

    Path stderr() {
        return stderr;
    }

    /**
     * Waits for a line of stdout matching {@code pattern} and returns its first group (or the whole match).
     *
     * @throws org.awaitility.core.ConditionTimeoutException when none comes within {@code atMost}
     * @throws IllegalStateException when the process exits first
     */
    String awaitOutput(Pattern pattern, Duration atMost) {
        String[] found = new String[1];
        await(name + " to print " + pattern).atMost(atMost).pollInterval(Duration.ofMillis(50)).until(() -> {
            Optional<String> match = firstMatch(pattern);
            if (match.isPresent()) {
                found[0] = match.get();
                return true;
            }
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + " before printing " + pattern
                        + "; stderr:\n" + tail(stderr, 40));
            }
            return false;
        });
        return found[0];
    }

    private Optional<String> firstMatch(Pattern pattern) throws IOException {
        if (!Files.exists(stdout)) {
            return Optional.empty();
        }
        for (String line : readLines(stdout)) {
            Matcher m = pattern.matcher(line);
            if (m.find()) {
                return Optional.of(m.groupCount() > 0 ? m.group(1) : m.group());
            }
        }
        return Optional.empty();
    }

    /** SIGSTOP: the process freezes as it is, its sockets open (as in a long GC pause or a stalled VM). */
    void freeze() {
        signal("-STOP");
    }

    /** SIGCONT: a frozen process goes on where it stopped. */
    void thaw() {
        signal("-CONT");
    }

    private void signal(String signal) {
        try {
            Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill " + signal + " " + process.pid() + " failed");
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** SIGKILL, then waits (bounded) until the process is gone. Idempotent. */
    void kill() {
        process.destroyForcibly();
        waitForExit(DEFAULT_STOP_TIMEOUT);
    }

    /** The exit code once the process has ended, else null. */
    Integer exitCode() {
        return process.isAlive() ? null : process.exitValue();
    }

    /** SIGTERM; if the orderly shutdown takes longer than {@code atMost}, SIGKILL. */
    void terminate(Duration atMost) {
        process.destroy();
        if (!waitForExit(atMost)) {
            kill();
        }
    }

    private boolean waitForExit(Duration atMost) {
        try {
            return process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    /** "worker-2 (pid 1234, running 12.3 s)" or "worker-2 (pid 1234, exited 137)". */
    String describe() {
        String state = process.isAlive() ? "running " + uptime().toMillis() / 1000.0 + " s" : "exited " + process.exitValue();
        return name + " (pid " + process.pid() + ", " + state + ")";
    }

    String commandLine() {
        List<String> shown = new ArrayList<>(command);
        int cp = shown.indexOf("-cp");
        if (cp >= 0 && cp + 1 < shown.size()) {
            shown.set(cp + 1, "<test class path>");
        }
        return String.join(" ", shown);
    }

    /** A log file's lines; bytes that are not UTF-8 are replaced, never an error. */
    static List<String> readLines(Path file) throws IOException {
        return new String(Files.readAllBytes(file), StandardCharsets.UTF_8).lines().toList();
    }

    /** The last {@code lines} lines of a log file, or a note that it is missing. */
    static String tail(Path file, int lines) {
        try {
            if (!Files.exists(file)) {
                return "(no " + file.getFileName() + ")";
            }
            List<String> all = readLines(file);
            int from = Math.max(0, all.size() - lines);
            String head = from > 0 ? "... (" + from + " earlier lines in " + file + ")\n" : "";
            return head + String.join("\n", all.subList(from, all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }
}
