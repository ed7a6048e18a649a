package io.sluice.cli.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a unified JVM GC log ({@code -Xlog:gc:file=…}): every collection line ends with the heap before and after it
 * and the heap's size, e.g. {@code GC(7) Pause Young (Normal) (G1 Evacuation Pause) 68M->12M(256M) 3.1ms}. The
 * largest "after" is the most heap that was still in use right after a collection — the high-water mark of what the
 * process really held, without the garbage a used-heap sample includes.
 */
final class GcLog {

    private static final Pattern HEAP = Pattern.compile("(\\d+)([KMG])->(\\d+)([KMG])\\((\\d+)([KMG])\\)");

    private GcLog() {
    }

    /** The largest heap after a collection in the log's lines, in bytes; empty when no collection ran. */
    static OptionalLong peakAfterCollection(List<String> lines) {
        long peak = -1;
        for (String line : lines) {
            Matcher m = HEAP.matcher(line);
            if (m.find()) {
                peak = Math.max(peak, bytes(m.group(3), m.group(4)));
            }
        }
        return peak < 0 ? OptionalLong.empty() : OptionalLong.of(peak);
    }

    /** Collections in the log's lines. */
    static int collections(List<String> lines) {
        int n = 0;
        for (String line : lines) {
            if (HEAP.matcher(line).find()) {
                n++;
            }
        }
        return n;
    }

    static List<String> read(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            return List.of();
        }
    }

    private static long bytes(String amount, String unit) {
        long v = Long.parseLong(amount);
        return switch (unit.toUpperCase(Locale.ROOT)) {
            case "K" -> v * 1024;
            case "M" -> v * 1024 * 1024;
            default -> v * 1024 * 1024 * 1024;
        };
    }
}
