package io.sluice.testprovider;

/**
 * One request as the test provider served and billed it.
 *
 * @param capParameter     {@code max_completion_tokens} or {@code max_tokens}, whichever the request carried; null if
 *                         neither (an uncapped request)
 * @param cap              its value
 * @param status           the HTTP status answered
 * @param promptTokens     billed prompt tokens (0 when answered with an error status)
 * @param completionTokens billed completion tokens: every token generated, also those a client that went away never
 *                         read, plus any the scenario over-reports
 * @param clientClosed     the client closed the connection before the response was complete
 * @param clientClosedAtMs when the provider noticed that (epoch ms), or 0
 * @param authorized       the request carried the expected key (always true when the provider expects none)
 */
public record BillEntry(long id, String scenario, String model, int status, String capParameter, Long cap,
                        boolean stream, boolean includeUsage, long promptTokens, long completionTokens,
                        String finishReason, boolean clientClosed, long receivedAtMs, long clientClosedAtMs,
                        long endedAtMs, boolean authorized) {

    public long totalTokens() {
        return promptTokens + completionTokens;
    }
}
