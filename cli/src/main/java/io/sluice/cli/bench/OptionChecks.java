package io.sluice.cli.bench;

import java.time.Duration;
import java.util.List;

/** The argument checks of the bench's parameter records: every message names the command-line option. */
final class OptionChecks {

    private OptionChecks() {
    }

    /** A whole number given as text. */
    static int integer(String option, String text) {
        try {
            return Integer.parseInt(text == null ? "" : text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": not a whole number: '" + text + "'");
        }
    }

    /** Whole numbers given as text, e.g. the parts of "2,4". */
    static List<Integer> integers(String option, List<String> texts) {
        List<Integer> out = new java.util.ArrayList<>();
        for (String t : texts) {
            if (!t.isBlank()) {
                out.add(integer(option, t));
            }
        }
        return out;
    }

    /** An ISO-8601 duration given as text, e.g. PT10M. */
    static Duration duration(String option, String text) {
        try {
            return io.sluice.cli.Durations.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage());
        }
    }

    static int range(String option, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(option + ": must be " + min + ".." + max + ", got " + value);
        }
        return value;
    }

    static Duration range(String option, Duration value, Duration min, Duration max) {
        if (value == null) {
            throw new IllegalArgumentException(option + ": required");
        }
        if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            throw new IllegalArgumentException(option + ": must be " + human(min) + ".." + human(max) + ", got "
                    + human(value));
        }
        return value;
    }

    static List<Integer> each(String option, List<Integer> values, int min, int max) {
        if (values == null || values.isEmpty()) {
            throw new IllegalArgumentException(option + ": give at least one value");
        }
        for (Integer v : values) {
            if (v == null || v < min || v > max) {
                throw new IllegalArgumentException(option + ": each must be " + min + ".." + max + ", got " + v);
            }
        }
        return List.copyOf(values);
    }

    private static String human(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }
}
