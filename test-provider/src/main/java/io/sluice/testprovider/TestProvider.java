package io.sluice.testprovider;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An OpenAI-compatible chat-completions endpoint on loopback that keeps its own bill: what tests measure a
 * client's budget enforcement against, the way a real provider would bill it.
 *
 * <p>{@code POST /v1/chat/completions} answers as OpenAI does: with {@code "stream": true} a stream of
 * {@code chat.completion.chunk} server-sent events (role, one content token per event, a chunk with the
 * {@code finish_reason}, then — when {@code stream_options.include_usage} — a chunk with empty choices and the
 * {@code usage}, then {@code data: [DONE]}); without it one {@code chat.completion}. The model writes
 * {@code min(completion_tokens, max_completion_tokens or max_tokens)} tokens ({@code finish_reason} {@code length}
 * when the cap cut it); an uncapped request writes all it wants, and the bill shows it. Errors carry OpenAI's error
 * body. The request's {@code test_provider} object ({@link Scenario}) makes it misbehave.
 *
 * <p>The bill ({@link #bill()}, or {@code GET /_provider/bill} as JSON) has an entry per request: the prompt tokens
 * by the provider's own {@link Tokenizer}, and every completion token generated — also those a client that went
 * away never read: generation stops only when the provider notices the closed connection (it watches the socket,
 * also while "thinking" before the first token), and it records when. A call that completes is billed before its
 * last bytes are written, so that a client that has read its response finds it on the bill.
 *
 * <p>One request per connection ({@code Connection: close}); a thread per connection. Thread-safety: thread-safe.
 */
public final class TestProvider implements AutoCloseable {

    public static final String CHAT_PATH = "/v1/chat/completions";
    public static final String BILL_PATH = "/_provider/bill";

    private static final ObjectMapper JSON = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    private static final byte[] CRLF = {'\r', '\n'};

    /**
     * @param port      0 for any free port
     * @param apiKey    the key every request must carry as {@code Authorization: Bearer …}; null to accept any
     * @param tokenizer how prompts are counted
     */
    public record Options(int port, String apiKey, Tokenizer tokenizer) {
        public Options {
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException("port: must be 0..65535, got " + port);
            }
            Objects.requireNonNull(tokenizer, "tokenizer");
        }

        public static Options defaults() {
            return new Options(0, null, Tokenizer.WORDS);
        }

        public Options withApiKey(String key) {
            return new Options(port, key, tokenizer);
        }

        public Options withTokenizer(Tokenizer t) {
            return new Options(port, apiKey, t);
        }

        public Options withPort(int p) {
            return new Options(p, apiKey, tokenizer);
        }
    }

    private final Options options;
    private final ServerSocket server;
    private final ExecutorService connections;
    private final Thread acceptor;
    private final List<BillEntry> bill = new ArrayList<>();
    private final Map<String, AtomicInteger> callsByScenario = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger peakInFlight = new AtomicInteger();
    private volatile boolean closed;

    private TestProvider(Options options, ServerSocket server) {
        this.options = options;
        this.server = server;
        this.connections = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "test-provider-connection");
            t.setDaemon(true);
            return t;
        });
        this.acceptor = new Thread(this::accept, "test-provider-acceptor");
        this.acceptor.setDaemon(true);
    }

    public static TestProvider start(Options options) throws IOException {
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), options.port()), 1024);
        TestProvider provider = new TestProvider(options, server);
        provider.acceptor.start();
        return provider;
    }

    /** The base URL a client is configured with, e.g. {@code http://127.0.0.1:41234/v1}. */
    public URI baseUrl() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort() + "/v1");
    }

    /** Every request served so far, in the order they ended. */
    public List<BillEntry> bill() {
        synchronized (bill) {
            return List.copyOf(bill);
        }
    }

    /** Chat requests being served now. */
    public int inFlight() {
        return inFlight.get();
    }

    /** The most chat requests served at once so far. */
    public int peakInFlight() {
        return peakInFlight.get();
    }

    /** The requests of one scenario. */
    public List<BillEntry> bill(String scenario) {
        return bill().stream().filter(e -> Objects.equals(scenario, e.scenario())).toList();
    }

    /** The bill as {@code GET /_provider/bill} serves it. */
    public static List<BillEntry> parseBill(byte[] json) throws IOException {
        return List.of(JSON.readValue(JSON.readTree(json).path("requests").toString(), BillEntry[].class));
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        connections.shutdownNow();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket s = server.accept();
                connections.execute(() -> serve(s));
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("test-provider: accept failed: " + e);
                }
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            socket.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = new BufferedOutputStream(socket.getOutputStream());
            HttpRequestHead request;
            try {
                request = HttpRequestHead.read(in);
            } catch (HttpRequestHead.BadRequestException e) {
                respond(out, e.status, error(e.getMessage(), "invalid_request_error", null), Map.of());
                return;
            }
            if (request == null) {
                return;
            }
            if ("GET".equals(request.method()) && BILL_PATH.equals(request.path())) {
                ObjectNode body = JSON.createObjectNode();
                body.set("requests", JSON.valueToTree(bill()));
                respond(out, 200, body, Map.of());
            } else if ("POST".equals(request.method()) && CHAT_PATH.equals(request.path())) {
                peakInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                try {
                    new Exchange(request, socket, in, out).serve();
                } finally {
                    inFlight.decrementAndGet();
                }
            } else {
                respond(out, 404, error("Invalid URL (" + request.method() + " " + request.path() + ")",
                        "invalid_request_error", null), Map.of());
            }
        } catch (IOException e) {
            // the client went away; what it cost is billed where it happened
        }
    }

    private void record(BillEntry entry) {
        synchronized (bill) {
            bill.add(entry);
        }
    }

    private static ObjectNode error(String message, String type, String code) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode e = body.putObject("error");
        e.put("message", message);
        e.put("type", type);
        e.putNull("param");
        if (code != null) {
            e.put("code", code);
        } else {
            e.putNull("code");
        }
        return body;
    }

    private static void respond(OutputStream out, int status, JsonNode body, Map<String, String> headers) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        StringBuilder head = new StringBuilder("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n")
                .append("Content-Type: application/json\r\nContent-Length: ").append(bytes.length)
                .append("\r\nConnection: close\r\n");
        headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        out.write(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(bytes);
        out.flush();
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 411 -> "Length Required";
            case 413 -> "Payload Too Large";
            case 422 -> "Unprocessable Entity";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            default -> "Status";
        };
    }

    /** One chat-completions request, from its body to its bill entry. */
    private final class Exchange {
        private final HttpRequestHead request;
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final long id = ids.incrementAndGet();
        private final long receivedAtMs = System.currentTimeMillis();
        private final CountDownLatch clientGone = new CountDownLatch(1);
        private final AtomicLong clientGoneAtMs = new AtomicLong();
        private volatile boolean finished;

        private String scenario;
        private String model;
        private String capParameter;
        private Long cap;
        private boolean stream;
        private boolean includeUsage;

        Exchange(HttpRequestHead request, Socket socket, InputStream in, OutputStream out) {
            this.request = request;
            this.socket = socket;
            this.in = in;
            this.out = out;
        }

        void serve() throws IOException {
            JsonNode body;
            try {
                body = JSON.readTree(request.body());
            } catch (IOException e) {
                fail(400, "We could not parse the JSON body of your request.", null);
                return;
            }
            if (body == null || !body.isObject()) {
                fail(400, "The request body must be a JSON object.", null);
                return;
            }
            model = body.path("model").isTextual() ? body.get("model").asText() : null;
            capParameter = body.hasNonNull("max_completion_tokens") ? "max_completion_tokens"
                    : body.hasNonNull("max_tokens") ? "max_tokens" : null;
            cap = capParameter == null ? null : body.get(capParameter).asLong();
            stream = body.path("stream").asBoolean(false);
            includeUsage = body.path("stream_options").path("include_usage").asBoolean(false);
            Scenario sc;
            try {
                sc = Scenario.of(body.get("test_provider"));
            } catch (IllegalArgumentException e) {
                fail(400, e.getMessage(), null);
                return;
            }
            scenario = sc.id();
            String presented = request.headers().getOrDefault("authorization", "");
            if (options.apiKey() != null && !presented.equals("Bearer " + options.apiKey())) {
                // As OpenAI does, the message quotes the key presented (OpenAI masks the middle; this shows it all,
                // so that a client's redaction is tested at its hardest).
                fail(401, "Incorrect API key provided: " + presented.replaceFirst("^Bearer ", "") + ".", "invalid_api_key");
                return;
            }
            if (model == null) {
                fail(400, "you must provide a model parameter", null);
                return;
            }
            if (!body.path("messages").isArray() || body.get("messages").isEmpty()) {
                fail(400, "'messages' must be a non-empty array", null);
                return;
            }
            if (cap != null && cap < 1) {
                fail(400, capParameter + ": must be at least 1", null);
                return;
            }
            if (sc.status() != null) {
                int calls = callsByScenario.computeIfAbsent(String.valueOf(sc.id()), k -> new AtomicInteger()).incrementAndGet();
                if (sc.failFirst() == 0 || calls <= sc.failFirst()) {
                    Map<String, String> headers = new java.util.LinkedHashMap<>();
                    if (sc.retryAfter() != null) {
                        headers.put("Retry-After", sc.retryAfter());
                    }
                    if (sc.retryAfterMs() != null) {
                        headers.put("retry-after-ms", Long.toString(sc.retryAfterMs()));
                    }
                    String message = sc.errorMessage() != null ? sc.errorMessage() : "scripted " + sc.status();
                    bill(sc.status(), 0, 0, null, false);
                    respond(out, sc.status(), error(message, sc.status() == 429 ? "requests" : "server_error", null), headers);
                    return;
                }
            }
            long prompt = options.tokenizer().promptTokens(body);
            long want = sc.completionTokens();
            long produce = cap == null ? want : Math.min(want, cap);
            String finish = produce < want ? "length" : "stop";
            watchClient();
            if (stream) {
                stream(sc, prompt, produce, finish);
            } else {
                whole(sc, prompt, produce, finish);
            }
        }

        private void stream(Scenario sc, long prompt, long produce, String finish) throws IOException {
            if (waitOrGone(sc.firstTokenMs())) {
                bill(200, prompt, 0, null, true);
                return;
            }
            String created = Long.toString(receivedAtMs / 1000);
            try {
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                        + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                event(chunk(created, "{\"role\":\"assistant\",\"content\":\"\"}", null));
            } catch (IOException e) {
                gone();
                bill(200, prompt, 0, null, true);
                return;
            }
            long generated = 0;
            for (long i = 1; i <= produce; i++) {
                if (i > 1 && waitOrGone(sc.tokenIntervalMs())) {
                    break;
                }
                generated++;
                try {
                    event(chunk(created, "{\"content\":\"" + token(i) + "\"}", null));
                } catch (IOException e) {
                    gone();
                    break;
                }
                if (sc.disconnectAfterTokens() != null && generated >= sc.disconnectAfterTokens()) {
                    finished = true;
                    bill(200, prompt, generated, null, false);
                    socket.setSoLinger(true, 0); // a reset, not an orderly end
                    socket.close();
                    return;
                }
            }
            if (clientGone.getCount() == 0) {
                bill(200, prompt, generated, null, true);
                return;
            }
            long reported = generated + sc.extraCompletionTokens();
            // Billed before the last bytes go out: a client that has read them may look at the bill at once.
            bill(200, prompt, reported, finish, false);
            try {
                event(chunk(created, "{}", finish));
                if (includeUsage && !sc.omitUsage()) {
                    event("{\"id\":\"chatcmpl-" + id + "\",\"object\":\"chat.completion.chunk\",\"created\":" + created
                            + ",\"model\":" + JSON.writeValueAsString(model) + ",\"choices\":[],\"usage\":{\"prompt_tokens\":"
                            + prompt + ",\"completion_tokens\":" + reported + ",\"total_tokens\":" + (prompt + reported) + "}}");
                }
                writeChunk("data: [DONE]\n\n");
                finished = true;
                out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            } catch (IOException e) {
                gone(); // billed already: every token was generated
            }
        }

        private void whole(Scenario sc, long prompt, long produce, String finish) throws IOException {
            if (waitOrGone(sc.firstTokenMs() + Math.max(0, produce - 1) * sc.tokenIntervalMs())) {
                bill(200, prompt, 0, null, true);
                return;
            }
            long reported = produce + sc.extraCompletionTokens();
            ObjectNode body = JSON.createObjectNode();
            body.put("id", "chatcmpl-" + id).put("object", "chat.completion").put("created", receivedAtMs / 1000).put("model", model);
            ObjectNode choice = body.putArray("choices").addObject();
            choice.put("index", 0);
            StringBuilder text = new StringBuilder();
            for (long i = 1; i <= produce; i++) {
                text.append(token(i));
            }
            choice.putObject("message").put("role", "assistant").put("content", text.toString());
            choice.put("finish_reason", finish);
            body.putObject("usage").put("prompt_tokens", prompt).put("completion_tokens", reported)
                    .put("total_tokens", prompt + reported);
            finished = true;
            bill(200, prompt, reported, finish, false);
            respond(out, 200, body, Map.of());
        }

        private String chunk(String created, String delta, String finish) throws IOException {
            return "{\"id\":\"chatcmpl-" + id + "\",\"object\":\"chat.completion.chunk\",\"created\":" + created + ",\"model\":"
                    + JSON.writeValueAsString(model) + ",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":"
                    + (finish == null ? "null" : "\"" + finish + "\"") + "}]}";
        }

        private void event(String json) throws IOException {
            writeChunk("data: " + json + "\n\n");
        }

        private void writeChunk(String data) throws IOException {
            byte[] b = data.getBytes(StandardCharsets.UTF_8);
            out.write((Integer.toHexString(b.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(b);
            out.write(CRLF);
            out.flush();
        }

        /** Notices at once when the client closes its end: it sends nothing more on a one-request connection. */
        private void watchClient() {
            Thread t = new Thread(() -> {
                try {
                    while (in.read() != -1) {
                        // nothing more is expected; ignore it
                    }
                } catch (IOException e) {
                    // reset or closed
                }
                if (!finished) {
                    gone();
                }
            }, "test-provider-watch-" + id);
            t.setDaemon(true);
            t.start();
        }

        private void gone() {
            clientGoneAtMs.compareAndSet(0, System.currentTimeMillis());
            clientGone.countDown();
        }

        /** @return true when the client went away during the wait */
        private boolean waitOrGone(long ms) {
            try {
                return ms > 0 ? clientGone.await(ms, TimeUnit.MILLISECONDS) : clientGone.getCount() == 0;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return true;
            }
        }

        private void fail(int status, String message, String code) throws IOException {
            bill(status, 0, 0, null, false);
            respond(out, status, error(message, "invalid_request_error", code), Map.of());
        }

        private void bill(int status, long prompt, long completion, String finish, boolean closedEarly) {
            boolean authorized = options.apiKey() == null
                    || request.headers().getOrDefault("authorization", "").equals("Bearer " + options.apiKey());
            record(new BillEntry(id, scenario, model, status, capParameter, cap, stream, includeUsage, prompt, completion,
                    finish, closedEarly, receivedAtMs, closedEarly ? clientGoneAtMs.get() : 0, System.currentTimeMillis(),
                    authorized));
        }
    }

    private static String token(long i) {
        return "w" + i + " ";
    }
}
