package io.sluice.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;

import io.sluice.client.RunWatch;
import io.sluice.client.SluiceClient;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Submission;

/** Submits a run, follows its ledger (drawing progress when asked) and returns its receipt. */
final class RunDriver {

    private RunDriver() {
    }

    static Receipt submitAndWait(String bootstrap, Map<String, String> clientProps, Submission submission,
                                 Duration timeout, PrintWriter progressOut) {
        return submitAndWait(bootstrap, clientProps, submission, timeout, progressOut, runId -> { });
    }

    /** @param onSubmitted told the run's id once the submission is written, before the wait */
    static Receipt submitAndWait(String bootstrap, Map<String, String> clientProps, Submission submission,
                                 Duration timeout, PrintWriter progressOut, java.util.function.Consumer<String> onSubmitted) {
        try (SluiceClient client = new SluiceClient(bootstrap, clientProps)) {
            Submission withId = submission.runId() == null ? submission.withRunId(SluiceClient.newRunId()) : submission;
            try (RunWatch watch = client.watch(withId.runId())) {
                watch.expect(client.submit(withId));
                onSubmitted.accept(withId.runId());
                ProgressView view = progressOut == null ? null : new ProgressView(progressOut, System.console() != null);
                Receipt receipt = watch.await(timeout, entry -> {
                    if (view != null) {
                        view.accept(entry);
                        view.draw(false);
                    }
                });
                if (view != null) {
                    view.draw(true);
                }
                return receipt;
            }
        }
    }
}
