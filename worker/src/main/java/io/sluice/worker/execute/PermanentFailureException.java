package io.sluice.worker.execute;

/**
 * Thrown by an executor when another attempt cannot help: an input it can never accept, a request its provider
 * refuses as such. The leaf ends {@code failed} at once with the message, and is not retried.
 */
public class PermanentFailureException extends Exception {

    public PermanentFailureException(String message) {
        super(message);
    }

    public PermanentFailureException(String message, Throwable cause) {
        super(message, cause);
    }
}
