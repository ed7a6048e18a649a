package io.sluice.cli;

import java.time.Duration;

import picocli.CommandLine;

/** {@link Durations} for picocli options: a bad value is a one-line usage error naming the option. */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

    @Override
    public Duration convert(String value) {
        try {
            return Durations.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
