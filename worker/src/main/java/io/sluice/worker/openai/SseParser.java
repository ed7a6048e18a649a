package io.sluice.worker.openai;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Server-sent events, as far as chat-completion streams use them: bytes in, one call per event's {@code data} out.
 *
 * <p>Lines end with LF, CRLF or CR (split on bytes: a UTF-8 multi-byte sequence never holds either). A {@code data:}
 * line adds its value (one leading space dropped) to the event, several joined by LF; a blank line dispatches the
 * event when it has data; comments ({@code :…}) and the other fields ({@code event}, {@code id}, {@code retry}) are
 * ignored. A line longer than {@link #MAX_LINE_BYTES} is refused: a stream that never ends a line must not grow the
 * worker's heap without bound.
 *
 * <p>Not thread-safe: one reader feeds it.
 */
final class SseParser {

    static final int MAX_LINE_BYTES = 4 * 1024 * 1024;

    /** A stream that is not server-sent events as this parser reads them. */
    static final class MalformedStreamException extends RuntimeException {
        MalformedStreamException(String message) {
            super(message);
        }
    }

    private final Consumer<String> onData;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    private final StringBuilder data = new StringBuilder();
    private boolean hasData;
    private boolean afterCr;

    SseParser(Consumer<String> onData) {
        this.onData = onData;
    }

    void feed(ByteBuffer bytes) {
        while (bytes.hasRemaining()) {
            byte b = bytes.get();
            if (afterCr) {
                afterCr = false;
                if (b == '\n') {
                    continue; // the LF of a CRLF
                }
            }
            if (b == '\n' || b == '\r') {
                afterCr = b == '\r';
                line(line.toString(StandardCharsets.UTF_8));
                line.reset();
            } else {
                if (line.size() >= MAX_LINE_BYTES) {
                    throw new MalformedStreamException("a server-sent event line longer than " + MAX_LINE_BYTES + " bytes");
                }
                line.write(b);
            }
        }
    }

    /** The stream ended: an event not yet ended by a blank line is dispatched (as browsers do not; providers may). */
    void end() {
        if (line.size() > 0) {
            line(line.toString(StandardCharsets.UTF_8));
            line.reset();
        }
        line("");
    }

    private void line(String l) {
        if (l.isEmpty()) {
            if (hasData) {
                String d = data.toString();
                data.setLength(0);
                hasData = false;
                onData.accept(d);
            }
            return;
        }
        if (l.charAt(0) == ':') {
            return;
        }
        int colon = l.indexOf(':');
        String field = colon < 0 ? l : l.substring(0, colon);
        if (!"data".equals(field)) {
            return;
        }
        String value = colon < 0 ? "" : l.substring(colon + 1);
        if (value.startsWith(" ")) {
            value = value.substring(1);
        }
        if (hasData) {
            data.append('\n');
        }
        data.append(value);
        hasData = true;
    }
}
