package io.sluice.worker;

import java.util.HashMap;
import java.util.Map;

import io.sluice.schemas.Topics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.consumer.ShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Creates the worker's Kafka clients. Settings are layered: tunable defaults, then the user's
 * {@link WorkerConfig#clientProperties()}, then what the worker's correctness depends on.
 */
interface KafkaClients {

    /** A share consumer of the tasks topic that acquires at most {@code maxPerPoll} records per poll. */
    ShareConsumer<byte[], byte[]> taskConsumer(String clientId, int maxPerPoll);

    /** A consumer without a group, for reading the control topic from its beginning. */
    Consumer<String, byte[]> controlConsumer(String clientId);

    /** The idempotent producer of usage events and rejections. */
    Producer<String, byte[]> producer(String clientId);

    static KafkaClients of(WorkerConfig config) {
        return new KafkaClients() {
            @Override
            public ShareConsumer<byte[], byte[]> taskConsumer(String clientId, int maxPerPoll) {
                Map<String, Object> p = base(config, clientId);
                p.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
                p.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
                // At most the credit the feed polls for: the worker never acquires a task it has no slot for.
                p.put(ConsumerConfig.SHARE_ACQUIRE_MODE_CONFIG, "record_limit");
                p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(maxPerPoll));
                // While every slot is busy the feed does not poll, holding no record: that is no reason to leave the group.
                p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, Integer.toString(Integer.MAX_VALUE));
                // An idle feed waits for tasks in the broker, whose delayed share fetch answers as soon as records
                // arrive: the fetch wait only sets how often an idle worker asks. Measured on 4.3.1 (one record every
                // 337 ms): 20 ms → 11 fetches/s idle, produce→poll p50 14 ms; 500 ms (the default) → 1.7/s, p50 12 ms.
                return new KafkaShareConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            }

            @Override
            public Consumer<String, byte[]> controlConsumer(String clientId) {
                Map<String, Object> p = base(config, clientId);
                // A fetch is answered as soon as a halt arrives, so the fetch wait (Kafka's 500 ms) only sets how often
                // an idle worker asks: at 100 ms this consumer was the largest CPU cost of an idle worker.
                p.remove(ConsumerConfig.GROUP_ID_CONFIG);
                p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
                p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
                p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
                return new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
            }

            @Override
            public Producer<String, byte[]> producer(String clientId) {
                Map<String, Object> p = base(config, clientId);
                // Final events are awaited before a task is acknowledged: do not linger on them.
                p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "1");
                p.put(ProducerConfig.ACKS_CONFIG, "all");
                p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
                p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(Topics.MAX_MESSAGE_BYTES));
                return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
            }
        };
    }

    private static Map<String, Object> base(WorkerConfig config, String clientId) {
        Map<String, Object> p = new HashMap<>(config.clientProperties());
        p.put("bootstrap.servers", config.bootstrapServers());
        p.put("client.id", clientId);
        return p;
    }
}
