package io.sluice.systemtest.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import io.sluice.client.CancelOutcome;
import io.sluice.client.RunWatch;
import io.sluice.client.SluiceClient;
import io.sluice.client.Submitted;
import io.sluice.schemas.CancelRequest;
import io.sluice.schemas.Halt;
import io.sluice.schemas.Json;
import io.sluice.schemas.SluiceAcls;
import io.sluice.schemas.Receipt;
import io.sluice.schemas.Status;
import io.sluice.schemas.Submission;
import io.sluice.schemas.Topics;
import io.sluice.schemas.UsageEvent;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;

/**
 * Least privilege on a broker with SASL/SCRAM and Kafka's authorizer ({@code sluice broker --security scram}: a user
 * per role and Sluice's ACLs for each): a whole run with the coordinator, the workers, the producer and the operator on
 * principals of their own; and every record the threat model names, forged as the producer or a worker, refused by
 * the broker with an authorization error rather than folded.
 */
@ExtendWith(FaultExtension.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SecurityIT {

    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(90);

    @Test
    void shouldRunAndCancelWithEveryRoleOnAPrincipalOfItsOwn(ProcessCluster cluster) throws Exception {
        // given: a secure broker; a coordinator and two workers connecting as their users
        cluster.secureBroker();
        cluster.startBroker();
        cluster.startCoordinator("c1", Map.of());
        cluster.startWorkers(List.of("w1", "w2"), 4);
        Map<String, String> producer = properties(cluster.clientProperties("producer"));
        Map<String, String> operator = properties(cluster.clientProperties("operator"));

        // when: the producer submits a run and waits for it; then a long one, which the operator cancels
        String runId = FaultRuns.runId("secure");
        String longRun = FaultRuns.runId("secure-long");
        Receipt receipt;
        CancelOutcome cancel;
        Receipt cancelled;
        try (SluiceClient client = new SluiceClient(cluster.bootstrapServers(), producer);
             RunWatch watch = client.watchReceipt(runId);
             RunWatch longWatch = client.watchReceipt(longRun)) {
            Submitted submitted = client.submit(submission(runId, 20));
            receipt = watch.expect(submitted).await(RUN_TIMEOUT, e -> { });
            Submitted slow = client.submit(submission(longRun, 60_000));
            try (SluiceClient ops = new SluiceClient(cluster.bootstrapServers(), operator)) {
                cancel = cancelOnceStarted(ops, longRun);
                // the operator's other commands: status and runs
                assertThat(ops.status(runId, Duration.ofSeconds(30)).receipt()).isEqualTo(receipt);
                assertThat(ops.runs(Duration.ofSeconds(30))).extracting(s -> s.runId()).contains(runId, longRun);
            }
            cancelled = longWatch.expect(slow).await(RUN_TIMEOUT, e -> { });
        }

        // then
        assertThat(receipt.status()).as(receipt.reason()).isEqualTo(Status.SUCCEEDED);
        assertThat(receipt.nodes().get(0).spent().totalTokens()).isEqualTo(4 * 20);
        assertThat(cancel.verdict()).as(cancel.detail()).isEqualTo(CancelOutcome.Verdict.CANCELLED);
        assertThat(cancelled.status()).isEqualTo(Status.CANCELLED);
        assertThat(cancelled.nodes().get(0).reason()).isEqualTo("w: cancelled by ops@test: not needed");
    }

    @Test
    void shouldRefuseEveryForgedRecordAtTheBroker(ProcessCluster cluster) throws Exception {
        // given
        cluster.secureBroker();
        cluster.startBroker();
        Map<String, String> producer = properties(cluster.clientProperties("producer"));
        Map<String, String> worker = properties(cluster.clientProperties("worker"));
        Map<String, String> operator = properties(cluster.clientProperties("operator"));
        String halt = Json.writeString(new Halt("victim", "w", Status.CANCELLED, Status.CANCELLED, "forged", 1));
        String lost = Json.writeString(new UsageEvent("victim", "w/a", 1, null, 0, 0, 0, 0, true, Status.LOST,
                "forged lost notice", null, 1));
        String finalEvent = Json.writeString(new UsageEvent("victim", "w/a", 1, "w9", 1, 1, 1, 1, true, Status.SUCCEEDED,
                null, null, 1));
        String task = "{\"run_id\": \"victim\", \"path\": \"w/a\", \"attempt\": 1, \"executor\": \"simulated\"}";

        // then: the producer may write submissions only: no halt, no usage, no task, no ledger, run or result
        for (String topic : List.of(Topics.CONTROL, Topics.USAGE, Topics.TASKS, Topics.LEDGER, Topics.RUNS,
                Topics.RESULTS, Topics.CANCELLATIONS, Topics.HEARTBEATS)) {
            String value = switch (topic) {
                case Topics.CONTROL -> halt;
                case Topics.USAGE -> lost;
                case Topics.TASKS -> task;
                default -> finalEvent;
            };
            assertRefusedWrite(cluster, producer, topic, value);
        }
        assertRefusedWrite(cluster, producer, Topics.USAGE, finalEvent);
        // a worker may write usage, heartbeats and dead letters: never tasks, halts, the ledger, runs or receipts
        for (String topic : List.of(Topics.TASKS, Topics.CONTROL, Topics.LEDGER, Topics.RUNS, Topics.RESULTS,
                Topics.SUBMISSIONS, Topics.CANCELLATIONS)) {
            assertRefusedWrite(cluster, worker, topic, topic.equals(Topics.TASKS) ? task : halt);
        }
        // the operator asks for cancels; it never writes a halt itself
        assertRefusedWrite(cluster, operator, Topics.CONTROL, halt);
        // the coordinator never reports usage or heartbeats of its own, nor asks for cancels
        Map<String, String> coordinator = properties(cluster.clientProperties("coordinator"));
        for (String topic : List.of(Topics.USAGE, Topics.HEARTBEATS, Topics.CANCELLATIONS)) {
            assertRefusedWrite(cluster, coordinator, topic, finalEvent);
        }
        // reads: the producer reads no tasks, usage or halts, and may not join the workers' share group
        for (String topic : List.of(Topics.TASKS, Topics.USAGE, Topics.CONTROL, Topics.SUBMISSIONS)) {
            assertRefusedRead(cluster, producer, topic);
        }
        assertRefusedRead(cluster, worker, Topics.SUBMISSIONS);
        Map<String, Object> shareProps = new HashMap<>(producer);
        shareProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        shareProps.put(ConsumerConfig.GROUP_ID_CONFIG, "sluice-workers");
        try (KafkaShareConsumer<byte[], byte[]> share = new KafkaShareConsumer<>(shareProps, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            share.subscribe(List.of(Topics.TASKS));
            assertThatThrownBy(() -> share.poll(Duration.ofSeconds(10)))
                    .isInstanceOfAny(GroupAuthorizationException.class, TopicAuthorizationException.class);
        }
        // and a wrong password is refused outright, not retried
        Map<String, String> wrong = new HashMap<>(producer);
        wrong.put("sasl.jaas.config", wrong.get("sasl.jaas.config").replaceAll("password=\"[^\"]*\"", "password=\"wrong-password\""));
        assertThatThrownBy(() -> send(cluster, wrong, Topics.SUBMISSIONS, "{}"))
                .hasRootCauseInstanceOf(SaslAuthenticationException.class);
        // and a container's way: the cluster and the credentials from the environment alone
        SluiceProcess topicsByEnv = cluster.startProcess("topics-by-env", SluiceProcess.MAIN_CLASS, List.of("topics"),
                Map.of("SLUICE_COMMAND_CONFIG", cluster.clientProperties("admin").toString()));
        await("sluice topics").atMost(Duration.ofSeconds(60)).until(() -> !topicsByEnv.isAlive());
        assertThat(topicsByEnv.exitCode()).as(Files.readString(topicsByEnv.stderr())).isZero();
        // and `sluice acls` as the super user applies a role's ACLs for another principal once, idempotently
        List<String> acls = List.of("acls", "-b", cluster.bootstrapServers(), "--command-config",
                cluster.clientProperties("admin").toString(), "--producer", "User:orders");
        SluiceProcess first = cluster.startProcess("acls-1", SluiceProcess.MAIN_CLASS, acls, Map.of());
        await("sluice acls").atMost(Duration.ofSeconds(60)).until(() -> !first.isAlive());
        SluiceProcess again = cluster.startProcess("acls-2", SluiceProcess.MAIN_CLASS, acls, Map.of());
        await("sluice acls again").atMost(Duration.ofSeconds(60)).until(() -> !again.isAlive());
        assertThat(first.exitCode()).as(Files.readString(first.stderr())).isZero();
        assertThat(Files.readString(first.stdout())).contains("created  User:orders ALLOW WRITE topic sluice.submissions");
        assertThat(Files.readString(again.stdout())).contains("present  User:orders ALLOW WRITE topic sluice.submissions")
                .doesNotContain("created");
    }


    @Test
    void shouldEndAServiceOnBadCredentialsOrAMissingGrantAtOnceWithOneLine(ProcessCluster cluster) throws Exception {
        // given: a secure broker; a wrong password, and a worker started with the producer's credentials
        cluster.secureBroker();
        String bootstrap = cluster.startBroker();
        Path wrong = cluster.logDir().resolve("wrong.properties");
        Properties wrongProps = new Properties();
        properties(cluster.clientProperties("worker")).forEach(wrongProps::put);
        wrongProps.put("sasl.jaas.config", wrongProps.getProperty("sasl.jaas.config")
                .replaceAll("password=\"[^\"]*\"", "password=\"not-the-password\""));
        try (var out = Files.newBufferedWriter(wrong)) {
            wrongProps.store(out, null);
        }

        // when
        SluiceProcess badPassword = cluster.startProcess("worker-wrong-password", SluiceProcess.MAIN_CLASS,
                List.of("worker", "-b", bootstrap, "--command-config", wrong.toString(), "--metrics-port", "off"), Map.of());
        SluiceProcess wrongRole = cluster.startProcess("worker-as-producer", SluiceProcess.MAIN_CLASS,
                List.of("worker", "-b", bootstrap, "--command-config", cluster.clientProperties("producer").toString(),
                        "--metrics-port", "off"), Map.of());
        Path submission = cluster.logDir().resolve("submission.json");
        Files.writeString(submission, Json.writeString(submission(FaultRuns.runId("as-operator"), 5)));
        SluiceProcess submitAsOperator = cluster.startProcess("submit-as-operator", SluiceProcess.MAIN_CLASS,
                List.of("submit", submission.toString(), "-b", bootstrap, "--command-config",
                        cluster.clientProperties("operator").toString()), Map.of());
        SluiceProcess coordinatorAsWorker = cluster.startProcess("coordinator-as-worker", SluiceProcess.MAIN_CLASS,
                List.of("coordinator", "-b", bootstrap, "--command-config", cluster.clientProperties("worker").toString(),
                        "--metrics-port", "off"), Map.of());

        // then: each exits within seconds, saying why in one line, not retrying for ever
        await("all three to exit").atMost(Duration.ofSeconds(60))
                .until(() -> !badPassword.isAlive() && !wrongRole.isAlive() && !coordinatorAsWorker.isAlive());
        await("the submission as the operator to exit").atMost(Duration.ofSeconds(60)).until(() -> !submitAsOperator.isAlive());
        assertThat(submitAsOperator.exitCode()).isEqualTo(3);
        assertThat(Files.readString(submitAsOperator.stderr())).contains("Not authorized to access topics: [sluice.submissions]")
                .doesNotContain("\tat ");
        assertThat(coordinatorAsWorker.exitCode()).isNotZero();
        assertThat(Files.readString(coordinatorAsWorker.stderr())).contains("not authorized").doesNotContain("\tat ");
        assertThat(badPassword.exitCode()).isEqualTo(3);
        assertThat(Files.readString(badPassword.stderr()).strip()).doesNotContain("\n\tat ")
                .contains("Authentication failed");
        assertThat(wrongRole.exitCode()).isNotZero();
        assertThat(Files.readString(wrongRole.stderr()) + Files.readString(wrongRole.stdout()))
                .contains("its principal may not read sluice.control").contains("sluice acls --worker")
                .doesNotContain("\tat ");
    }

    @Test
    void shouldRunOverSaslSslWithTheSameRolesAndRefuseAPlaintextClient(ProcessCluster cluster) throws Exception {
        // given: SASL_SSL; the coordinator and a worker over TLS as their users
        cluster.secureBrokerWithTls();
        cluster.startBroker();
        cluster.startCoordinator("c1", Map.of());
        cluster.startWorkers(List.of("w1"), 4);
        Map<String, String> producer = properties(cluster.clientProperties("producer"));
        assertThat(producer).containsEntry("security.protocol", "SASL_SSL").containsKey("ssl.truststore.location");

        // when
        String runId = FaultRuns.runId("tls");
        Receipt receipt;
        try (SluiceClient client = new SluiceClient(cluster.bootstrapServers(), producer);
             RunWatch watch = client.watchReceipt(runId)) {
            receipt = watch.expect(client.submit(submission(runId, 5))).await(RUN_TIMEOUT, e -> { });
        }

        // then: the run, over TLS end to end; a client that does not speak TLS gets nowhere
        assertThat(receipt.status()).as(receipt.reason()).isEqualTo(Status.SUCCEEDED);
        Map<String, String> plaintext = new HashMap<>(producer);
        plaintext.put("security.protocol", "SASL_PLAINTEXT");
        assertThatThrownBy(() -> send(cluster, plaintext, Topics.SUBMISSIONS, "{}")).isInstanceOf(Exception.class);
        // and the producer's ACLs hold over TLS too
        assertRefusedWrite(cluster, producer, Topics.CONTROL, "{}");
    }

    @Test
    void shouldKeepEveryPasswordOutOfTheLogs(ProcessCluster cluster) throws Exception {
        // given: a run on a secure broker
        cluster.secureBroker();
        cluster.startBroker();
        cluster.startCoordinator("c1", Map.of());
        cluster.startWorkers(List.of("w1"), 2);
        String runId = FaultRuns.runId("quiet");
        try (SluiceClient client = new SluiceClient(cluster.bootstrapServers(), properties(cluster.clientProperties("producer")));
             RunWatch watch = client.watchReceipt(runId)) {
            assertThat(watch.expect(client.submit(submission(runId, 5))).await(RUN_TIMEOUT, e -> { }).status())
                    .isEqualTo(Status.SUCCEEDED);
        }

        // then: no process printed any user's password
        for (String user : List.of("admin", "coordinator", "worker", "producer", "operator")) {
            String password = properties(cluster.clientProperties(user)).get("sasl.jaas.config")
                    .replaceAll(".*password=\"([^\"]*)\".*", "$1");
            assertThat(password).hasSizeGreaterThan(20);
            try (var logs = Files.list(cluster.logDir())) {
                for (Path log : logs.filter(Files::isRegularFile).toList()) {
                    assertThat(Files.readString(log)).as("%s's password in %s", user, log).doesNotContain(password);
                }
            }
        }
    }

    @Test
    void shouldAllowEachRoleExactlyTheReadsAndWritesItsAclsName(ProcessCluster cluster) throws Exception {
        // given
        cluster.secureBroker();
        cluster.startBroker();
        List<String> topics = Topics.all().stream().map(Topics.Spec::name).toList();

        // when: every role reads and writes every Sluice topic
        List<String> wrong = new ArrayList<>();
        for (SluiceAcls.Role role : SluiceAcls.Role.values()) {
            Map<String, String> who = properties(cluster.clientProperties(role.wire()));
            List<AclBinding> acls = SluiceAcls.bindings(role, "User:" + role.wire(), false);
            for (String topic : topics) {
                boolean mayWrite = allows(acls, topic, AclOperation.WRITE);
                boolean mayRead = allows(acls, topic, AclOperation.READ);
                boolean wrote = attempt(() -> send(cluster, who, topic, "{\"probe\": true}"));
                boolean read = attempt(() -> poll(cluster, who, topic));
                if (wrote != mayWrite) {
                    wrong.add(role.wire() + (wrote ? " wrote " : " could not write ") + topic);
                }
                if (read != mayRead) {
                    wrong.add(role.wire() + (read ? " read " : " could not read ") + topic);
                }
            }
        }

        // then: the broker enforces exactly the declared grants, no more, no less
        assertThat(wrong).isEmpty();
    }

    private static boolean allows(List<AclBinding> acls, String topic,
                                  AclOperation op) {
        return acls.stream().anyMatch(b -> b.pattern().resourceType() == ResourceType.TOPIC
                && b.pattern().name().equals(topic) && b.entry().operation() == op);
    }

    /** True when it went through; false when the broker refused it for authorization; anything else fails the test. */
    private static boolean attempt(Executable action) {
        try {
            action.execute();
            return true;
        } catch (Throwable e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof AuthorizationException) {
                    return false;
                }
            }
            throw new AssertionError("neither done nor refused for authorization: " + e, e);
        }
    }

    private static void poll(ProcessCluster cluster, Map<String, String> who, String topic) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(consumerProps(cluster, who, Map.of()),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            consumer.poll(Duration.ofSeconds(1)); // a refused fetch fails the poll within milliseconds
            consumer.position(tp, Duration.ofSeconds(10)); // a refused read fails here at the latest
        }
    }

    private static CancelOutcome cancelOnceStarted(SluiceClient ops, String runId) {
        CancelOutcome[] outcome = new CancelOutcome[1];
        await("the cancel of " + runId).atMost(RUN_TIMEOUT).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    outcome[0] = ops.cancel(new CancelRequest(runId, null, "not needed", "ops@test",
                            System.currentTimeMillis()), Duration.ofSeconds(10));
                    // refused only while the coordinator has not taken the run up yet
                    return outcome[0].verdict() != CancelOutcome.Verdict.REFUSED
                            || !outcome[0].detail().startsWith("run_id: no active run");
                });
        return outcome[0];
    }

    private static void assertRefusedWrite(ProcessCluster cluster, Map<String, String> who, String topic, String value) {
        assertThatThrownBy(() -> send(cluster, who, topic, value)).as("write to %s as %s", topic, user(who))
                .hasCauseInstanceOf(TopicAuthorizationException.class);
    }

    private static void send(ProcessCluster cluster, Map<String, String> who, String topic, String value) throws Exception {
        Map<String, Object> p = new HashMap<>(who);
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "10000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, "victim", value.getBytes(StandardCharsets.UTF_8)))
                    .get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e;
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new ExecutionException(e); // refused before the send: metadata of the topic, or authentication
        }
    }

    private static void assertRefusedRead(ProcessCluster cluster, Map<String, String> who, String topic) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(consumerProps(cluster, who, Map.of()),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(new TopicPartition(topic, 0)));
            consumer.seekToBeginning(List.of(new TopicPartition(topic, 0)));
            assertThatThrownBy(() -> consumer.poll(Duration.ofSeconds(10))).as("read of %s as %s", topic, user(who))
                    .isInstanceOf(TopicAuthorizationException.class);
        }
    }

    private static Map<String, Object> consumerProps(ProcessCluster cluster, Map<String, String> who, Map<String, String> extra) {
        Map<String, Object> p = new HashMap<>(who);
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.putAll(extra);
        return p;
    }

    private static String user(Map<String, String> who) {
        return who.get("sasl.jaas.config").replaceAll(".*username=\"([^\"]*)\".*", "$1");
    }

    private static Map<String, String> properties(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file)) {
            p.load(in);
        }
        Map<String, String> m = new HashMap<>();
        p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k)));
        m.remove("bootstrap.servers");
        return m;
    }

    /** 4 leaves of one 10 + 10 token turn of {@code latencyMs}, two at a time. */
    private static Submission submission(String runId, long latencyMs) {
        String leaves = String.join(",", IntStream.range(0, 4).mapToObj(i -> """
                {"kind": "leaf", "id": "l%d", "executor": "simulated", "input": {"turns": [
                 {"input_tokens": 10, "output_tokens": 10, "latency_ms": %d}]}}""".formatted(i, latencyMs)).toList());
        return FaultRuns.submission(runId, """
                {"run_id": "RUN", "mode": "strict", "workflow": {"id": "w", "leaf_max_tokens": 100,
                 "budget": {"max_tokens": 10000, "max_parallel": 2}, "nodes": [%s]}}""".formatted(leaves));
    }
}
