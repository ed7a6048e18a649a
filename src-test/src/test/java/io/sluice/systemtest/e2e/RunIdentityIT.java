package io.sluice.systemtest.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Map;

import io.sluice.client.RunWatch;
import io.sluice.client.SluiceClient;
import io.sluice.client.Submitted;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.SubmissionValidator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A run id names one run for good: submitting it again gets that submission its own rejection — never the other
 * run's receipt — and leaves the run's receipt as it was. And the shipped examples run as the README says.
 */
@ExtendWith(SluiceExtension.class)
class RunIdentityIT {

    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(60);

    private final SluiceSystem sluice;

    RunIdentityIT(SluiceSystem sluice) {
        this.sluice = sluice;
    }

    @Test
    void shouldGiveARepeatedSubmissionItsOwnRejectionAndKeepTheRunsReceipt() {
        // given: a run that finished
        String runId = sluice.kafka().uniqueRunId("once");
        Submission s = Runs.submission(runId, """
                {"run_id": "RUN", "workflow": {"id": "w", "nodes": [%s]}}""".formatted(Runs.leaf("a", null, Runs.turn(5, 5, 1))));
        Receipt first = sluice.run(s, RUN_TIMEOUT);
        assertThat(first.status()).isEqualTo(Status.SUCCEEDED);

        // when: the same id again, watched as `submit --wait` watches it
        Receipt second;
        Submitted again;
        try (SluiceClient client = new SluiceClient(sluice.kafka().bootstrapServers(), Map.of());
             RunWatch watch = client.watch(runId)) {
            again = client.submit(s);
            second = watch.expect(again).await(RUN_TIMEOUT, e -> { });
        }

        // then: its own rejection, naming its own source; the run's receipt is still the run's
        assertThat(second.status()).isEqualTo(Status.REJECTED);
        assertThat(second.source()).isEqualTo(again.source());
        assertThat(second.reason()).isEqualTo("run_id: a run with id '" + runId + "' was already submitted");
        assertThat(sluice.ledger(runId).get("w").status()).isEqualTo(Status.SUCCEEDED);
        assertThat(sluice.tasks(runId)).hasSize(1);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"submission.minimal.json", "submission.audit.json"})
    void shouldRunAShippedExampleToSuccessAnyNumberOfTimes(String example) throws IOException {
        // given: the examples name no run id, so following the README twice runs twice
        byte[] json;
        try (InputStream in = Submission.class.getResourceAsStream("/examples/" + example)) {
            json = in.readAllBytes();
        }
        Submission s = new SubmissionValidator().parse(json);
        assertThat(s.runId()).isNull();

        for (int i = 0; i < 2; i++) {
            // when
            Receipt receipt = sluice.run(s.withRunId(sluice.kafka().uniqueRunId("example")), RUN_TIMEOUT);

            // then
            assertThat(receipt.status()).as(receipt.reason()).isEqualTo(Status.SUCCEEDED);
        }
    }
}
