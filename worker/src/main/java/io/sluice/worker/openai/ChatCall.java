package io.sluice.worker.openai;

import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.schemas.Json;

/**
 * One HTTP call to chat completions, streamed, and how it ended ({@link Result}).
 *
 * <p>The body is read by a {@link Flow.Subscriber} of the JDK client that hands buffers to the calling thread through
 * a queue, one at a time (back-pressure: the next is requested when one is taken). That queue is what makes
 * {@link #abort()} immediate from any thread and at any point: before the response headers it cancels the client's
 * future (the exchange is aborted and its connection closed), after them it cancels the body subscription (the
 * connection is closed, since its body was not read to the end) and wakes the reader at once. Silence longer than the
 * stream idle timeout cuts the call too.
 *
 * <p>Thread-safety: {@link #run} on one thread; {@link #abort()} from any.
 */
final class ChatCall {

    /** How a call ended. */
    sealed interface Result permits Completed, Refused, NotSent, Broken, Aborted {
    }

    /** The stream ended normally; usage may still be missing ({@link ChatStep#hasUsage()}). */
    record Completed(ChatStep step) implements Result {
    }

    /** The provider answered with an error status: it served nothing, and bills nothing. */
    record Refused(int status, String message, HttpHeaders headers) implements Result {
    }

    /** The request never reached the provider (connection refused, connect timeout): nothing spent. */
    record NotSent(String reason) implements Result {
    }

    /** The request was sent and the call failed before usage arrived: the provider may have billed any part of it. */
    record Broken(String reason, ChatStep partial) implements Result {
    }

    /** {@link #abort()} ended the call (a halt, a deadline, a shutdown). */
    record Aborted(ChatStep partial, long abortToEndNanos) implements Result {
    }

    private static final Object END = new Object();
    private static final Object ABORTED = new Object();
    private static final int MAX_ERROR_BODY_BYTES = 64 * 1024;

    private final HttpClient client;
    private final HttpRequest request;
    private final Duration idleTimeout;
    private final LinkedBlockingQueue<Object> items = new LinkedBlockingQueue<>();
    private volatile CompletableFuture<HttpResponse<Flow.Publisher<List<ByteBuffer>>>> response;
    private volatile Flow.Subscription subscription;
    private volatile boolean aborted;
    private volatile long abortedAtNanos;

    ChatCall(HttpClient client, HttpRequest request, Duration idleTimeout) {
        this.client = client;
        this.request = request;
        this.idleTimeout = idleTimeout;
    }

    /** Ends the call at once; idempotent. */
    void abort() {
        if (aborted) {
            return;
        }
        abortedAtNanos = System.nanoTime();
        aborted = true;
        abortQuietly();
        items.offer(ABORTED);
    }

    /**
     * Sends the request and reads the stream into a {@link ChatStep}.
     *
     * @param onProgress told after every batch of bytes read, with the step so far (for partial output)
     */
    Result run(Consumer<ChatStep> onProgress) throws InterruptedException {
        ChatStep step = new ChatStep();
        if (aborted) {
            return new Aborted(step, 0);
        }
        // ofPublisher: the future completes with the headers; the body is subscribed to below.
        CompletableFuture<HttpResponse<Flow.Publisher<List<ByteBuffer>>>> r =
                client.sendAsync(request, HttpResponse.BodyHandlers.ofPublisher());
        response = r;
        if (aborted) {
            r.cancel(true);
        }
        HttpResponse<Flow.Publisher<List<ByteBuffer>>> head;
        try {
            head = r.get();
        } catch (CancellationException e) {
            return aborted(step);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            if (aborted) {
                return aborted(step);
            }
            if (cause instanceof HttpConnectTimeoutException || cause instanceof ConnectException
                    || cause.getCause() instanceof ConnectException) {
                return new NotSent("cannot connect to " + request.uri().getHost() + ":" + port() + ": " + describe(cause));
            }
            if (cause instanceof HttpTimeoutException) {
                return new Broken("no response within " + request.timeout().map(Duration::toString).orElse("?"), step);
            }
            return new Broken("the call failed: " + describe(cause), step);
        }
        head.body().subscribe(new Subscriber());
        if (head.statusCode() != 200) {
            return refused(head);
        }
        SseParser parser = new SseParser(step::onChunk);
        try {
            while (true) {
                Object item = items.poll(idleTimeout.toNanos(), TimeUnit.NANOSECONDS);
                if (item == null) {
                    abortQuietly();
                    return new Broken("the stream was silent for " + idleTimeout, step);
                }
                if (item == ABORTED || aborted) {
                    return aborted(step);
                }
                if (item == END) {
                    parser.end();
                    break;
                }
                if (item instanceof Throwable t) {
                    return aborted ? aborted(step) : new Broken("the stream broke: " + describe(t), step);
                }
                @SuppressWarnings("unchecked")
                List<ByteBuffer> buffers = (List<ByteBuffer>) item;
                for (ByteBuffer b : buffers) {
                    parser.feed(b);
                }
                Flow.Subscription s = subscription;
                if (s != null) {
                    s.request(1);
                }
                if (step.error() != null) {
                    abortQuietly();
                    return new Broken("the provider reported an error inside the stream: " + step.error(), step);
                }
                onProgress.accept(step);
            }
        } catch (IllegalArgumentException | SseParser.MalformedStreamException e) {
            abortQuietly();
            return new Broken(e.getMessage(), step);
        }
        if (step.error() != null) {
            return new Broken("the provider reported an error inside the stream: " + step.error(), step);
        }
        if (!step.done() && step.finishReason() == null) {
            return new Broken("the stream ended before the model finished", step);
        }
        return new Completed(step);
    }

    private Aborted aborted(ChatStep step) {
        return new Aborted(step, Math.max(0, System.nanoTime() - abortedAtNanos));
    }

    private void abortQuietly() {
        CompletableFuture<HttpResponse<Flow.Publisher<List<ByteBuffer>>>> r = response;
        if (r != null) {
            r.cancel(true);
        }
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
    }

    /** Reads the error body (its first {@link #MAX_ERROR_BODY_BYTES}, within the idle timeout) for its message. */
    private Result refused(HttpResponse<Flow.Publisher<List<ByteBuffer>>> head) throws InterruptedException {
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        while (body.size() < MAX_ERROR_BODY_BYTES) {
            Object item = items.poll(idleTimeout.toNanos(), TimeUnit.NANOSECONDS);
            if (item == ABORTED || aborted) {
                return aborted(new ChatStep());
            }
            if (item == null || item == END || item instanceof Throwable) {
                break;
            }
            @SuppressWarnings("unchecked")
            List<ByteBuffer> buffers = (List<ByteBuffer>) item;
            for (ByteBuffer b : buffers) {
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                body.writeBytes(bytes);
            }
            Flow.Subscription s = subscription;
            if (s != null) {
                s.request(1);
            }
        }
        abortQuietly(); // whatever is left of the body is not needed
        return new Refused(head.statusCode(), errorMessage(body.toByteArray(), head.statusCode()), head.headers());
    }

    private int port() {
        int p = request.uri().getPort();
        return p != -1 ? p : "https".equalsIgnoreCase(request.uri().getScheme()) ? 443 : 80;
    }

    static String describe(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
    }

    /** The message of an error body: OpenAI's {@code error.message}, else the body's first bytes. */
    static String errorMessage(byte[] body, int status) {
        String text = new String(body, 0, Math.min(body.length, MAX_ERROR_BODY_BYTES), StandardCharsets.UTF_8);
        try {
            JsonNode n = Json.mapper().readTree(text);
            if (n != null && n.path("error").path("message").isTextual()) {
                return n.get("error").get("message").asText();
            }
            if (n != null && n.path("error").isTextual()) {
                return n.get("error").asText();
            }
            if (n != null && n.path("message").isTextual()) {
                return n.get("message").asText();
            }
        } catch (IOException | RuntimeException e) {
            // not JSON: the text itself
        }
        String trimmed = text.strip();
        return trimmed.isEmpty() ? "HTTP " + status : trimmed.length() > 500 ? trimmed.substring(0, 500) + "…" : trimmed;
    }

    private final class Subscriber implements Flow.Subscriber<List<ByteBuffer>> {
        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (aborted) {
                s.cancel();
                return;
            }
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
            items.offer(item);
        }

        @Override
        public void onError(Throwable t) {
            items.offer(t);
        }

        @Override
        public void onComplete() {
            items.offer(END);
        }
    }
}
