package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import io.sluice.schemas.Topics;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/** One transaction writes one ledger entry per changed node, the latest, whatever the events it folded. */
class BatchTest {

    private static ProducerRecord<String, byte[]> record(String topic, String key, String value) {
        return new ProducerRecord<>(topic, 0, key, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void shouldKeepOnlyTheLatestLedgerEntryOfAKeyInItsFirstPlace() {
        // given
        Batch batch = new Batch();
        batch.add(record(Topics.LEDGER, "r|w", "first"));
        batch.add(record(Topics.TASKS, "r|w/a", "task"));
        batch.add(record(Topics.LEDGER, "r|w/a", "leaf"));
        long before = batch.bytes();

        // when
        batch.add(record(Topics.LEDGER, "r|w", "second, longer"));
        batch.add(record(Topics.LEDGER, "r|w/a", null));

        // then
        assertThat(batch.records()).extracting(ProducerRecord::key).containsExactly("r|w", "r|w/a", "r|w/a");
        assertThat(new String(batch.records().get(0).value(), StandardCharsets.UTF_8)).isEqualTo("second, longer");
        assertThat(batch.records().get(2).value()).isNull();
        assertThat(batch.bytes()).isEqualTo(before + "second, longer".length() - "first".length() - "leaf".length());
    }

    @Test
    void shouldNotCoalesceOtherTopics() {
        Batch batch = new Batch();
        batch.add(record(Topics.CONTROL, "r|w", "halt"));
        batch.add(record(Topics.CONTROL, "r|w", null));
        assertThat(batch.records()).hasSize(2);
    }
}
