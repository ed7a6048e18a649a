package io.sluice.testprovider;

import java.util.Locale;
import java.util.concurrent.CountDownLatch;

/**
 * Runs a {@link TestProvider} as its own process until it is terminated:
 * {@code java -cp … io.sluice.testprovider.Main [--port N] [--api-key-env NAME] [--tokenizer words|bytes]}.
 * Prints one line, {@code test-provider listening on http://127.0.0.1:PORT/v1}, once it accepts connections.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        TestProvider.Options options = TestProvider.Options.defaults();
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--port" -> options = options.withPort(Integer.parseInt(require(args[i], value)));
                case "--api-key-env" -> {
                    String key = System.getenv(require(args[i], value));
                    if (key == null || key.isBlank()) {
                        System.err.println("test-provider: environment variable " + value + " is not set");
                        System.exit(2);
                    }
                    options = options.withApiKey(key);
                }
                case "--tokenizer" -> options = options.withTokenizer(Tokenizer.valueOf(require(args[i], value).toUpperCase(Locale.ROOT)));
                default -> {
                    System.err.println("test-provider: unknown argument " + args[i]);
                    System.exit(2);
                }
            }
            i++;
        }
        TestProvider provider = TestProvider.start(options);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            provider.close();
            stopped.countDown();
        }, "test-provider-shutdown"));
        System.out.println("test-provider listening on " + provider.baseUrl());
        System.out.flush();
        stopped.await();
    }

    private static String require(String option, String value) {
        if (value == null) {
            System.err.println("test-provider: " + option + " needs a value");
            System.exit(2);
        }
        return value;
    }
}
