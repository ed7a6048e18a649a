package io.sluice.worker;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.schemas.Topics;
import io.sluice.worker.execute.ExecutorRegistry;
import io.sluice.worker.execute.LeafContext;
import io.sluice.worker.execute.LeafExecutor;
import io.sluice.worker.execute.Outcome;
import io.sluice.worker.execute.SimulatedExecutor;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ShareConsumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * A worker in a JVM of its own, for {@link WorkerSystemTest} to kill with SIGKILL while it holds a task. It runs the
 * simulated executor under the name {@code counted} (the test's executor, which counts executions in the test's
 * JVM only), prints {@code READY} once started, and runs until killed — or until its standard input closes, so
 * that it never outlives a test JVM that died first.
 *
 * <p>Arguments: bootstrap servers, group id, worker id, concurrency, lock duration (ms), mode: {@code run} runs
 * its tasks; {@code hold} never completes the announcement of an attempt (a heartbeat of a run), so it holds every
 * delivered task unaccepted, and prints {@code HOLDING <run id>} when it begins to.
 */
final class CrashVictim {

    private CrashVictim() {
    }

    /** Clients whose producer never completes a heartbeat of a run: the worker waits before accepting forever. */
    @SuppressWarnings("unchecked")
    private static KafkaClients holdingAnnouncements(KafkaClients real) {
        return new KafkaClients() {
            @Override
            public ShareConsumer<byte[], byte[]> taskConsumer(String clientId, int maxPerPoll) {
                return real.taskConsumer(clientId, maxPerPoll);
            }

            @Override
            public Consumer<String, byte[]> controlConsumer(String clientId) {
                return real.controlConsumer(clientId);
            }

            @Override
            public Producer<String, byte[]> producer(String clientId) {
                Producer<String, byte[]> producer = real.producer(clientId);
                return (Producer<String, byte[]>) Proxy.newProxyInstance(CrashVictim.class.getClassLoader(),
                        new Class<?>[] {Producer.class}, (proxy, method, margs) -> {
                            if (method.getName().equals("send") && margs[0] instanceof ProducerRecord<?, ?> r
                                    && r.topic().equals(Topics.HEARTBEATS) && r.key() != null) {
                                System.out.println("HOLDING " + r.key());
                                System.out.flush();
                                return new CompletableFuture<RecordMetadata>();
                            }
                            try {
                                return method.invoke(producer, margs);
                            } catch (InvocationTargetException e) {
                                throw e.getCause();
                            }
                        });
            }
        };
    }

    public static void main(String[] args) throws IOException {
        WorkerConfig config = WorkerConfig.of(args[0], args[2]).withGroupId(args[1])
                .withConcurrency(Integer.parseInt(args[3]))
                .withLockDuration(Duration.ofMillis(Long.parseLong(args[4])))
                .withPollTimeout(Duration.ofMillis(200));
        SimulatedExecutor simulated = new SimulatedExecutor();
        LeafExecutor counted = new LeafExecutor() {
            @Override
            public String name() {
                return "counted";
            }

            @Override
            public Outcome execute(LeafContext ctx) throws InterruptedException {
                return simulated.execute(ctx);
            }
        };
        KafkaClients clients = KafkaClients.of(config);
        if ("hold".equals(args[5])) {
            clients = holdingAnnouncements(clients);
        }
        Worker worker = new Worker(config, ExecutorRegistry.discover().with(counted), new SimpleMeterRegistry(),
                Clock.systemUTC(), clients);
        worker.start();
        System.out.println("READY");
        System.out.flush();
        while (System.in.read() != -1) {
            // wait for the end of the input; the worker's threads are daemons
        }
    }
}
