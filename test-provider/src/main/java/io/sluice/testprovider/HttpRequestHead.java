package io.sluice.testprovider;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP/1.1 request as read off a socket: request line, headers (names lower-cased) and a body delimited by
 * {@code Content-Length}. Deliberately small: the test provider serves one request per connection.
 */
record HttpRequestHead(String method, String path, Map<String, String> headers, byte[] body) {

    static final int MAX_HEAD_BYTES = 64 * 1024;
    static final int MAX_BODY_BYTES = 16 * 1024 * 1024;

    /** Thrown for a request the provider cannot read; answered with {@link #status}. */
    static final class BadRequestException extends IOException {
        final int status;

        BadRequestException(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    /** @return null when the connection closed before a request began */
    static HttpRequestHead read(InputStream in) throws IOException {
        String requestLine = line(in, true);
        if (requestLine == null) {
            return null;
        }
        String[] parts = requestLine.split(" ");
        if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
            throw new BadRequestException(400, "malformed request line: " + requestLine);
        }
        Map<String, String> headers = new HashMap<>();
        int headBytes = requestLine.length();
        for (String h = line(in, false); !h.isEmpty(); h = line(in, false)) {
            headBytes += h.length();
            if (headBytes > MAX_HEAD_BYTES) {
                throw new BadRequestException(431, "request head over " + MAX_HEAD_BYTES + " bytes");
            }
            int colon = h.indexOf(':');
            if (colon <= 0) {
                throw new BadRequestException(400, "malformed header: " + h);
            }
            headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
        }
        if (headers.containsKey("transfer-encoding")) {
            throw new BadRequestException(411, "a chunked request body is not supported; send Content-Length");
        }
        int length;
        try {
            length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
        } catch (NumberFormatException e) {
            throw new BadRequestException(400, "bad Content-Length");
        }
        if (length < 0 || length > MAX_BODY_BYTES) {
            throw new BadRequestException(413, "body of " + length + " bytes");
        }
        byte[] body = in.readNBytes(length);
        if (body.length < length) {
            throw new IOException("connection closed inside the request body");
        }
        return new HttpRequestHead(parts[0], parts[1], headers, body);
    }

    private static String line(InputStream in, boolean first) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        for (int b = in.read(); ; b = in.read()) {
            if (b == -1) {
                if (first && buf.size() == 0) {
                    return null;
                }
                throw new IOException("connection closed inside the request head");
            }
            if (b == '\n') {
                break;
            }
            if (b != '\r') {
                buf.write(b);
            }
            if (buf.size() > MAX_HEAD_BYTES) {
                throw new BadRequestException(431, "request line over " + MAX_HEAD_BYTES + " bytes");
            }
        }
        return buf.toString(StandardCharsets.ISO_8859_1);
    }
}
