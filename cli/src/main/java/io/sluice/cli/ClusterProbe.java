package io.sluice.cli;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.KafkaException;

/**
 * Finds out at once whether a cluster answers, so that a command pointed at a wrong address says so in one line
 * within {@link #TIMEOUT} instead of retrying in silence for a minute or two.
 */
final class ClusterProbe {

    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private ClusterProbe() {
    }

    /** @throws KafkaException naming the address when no broker answered within {@link #TIMEOUT} */
    static void requireReachable(String bootstrap, Map<String, String> clientProperties) throws InterruptedException {
        Map<String, Object> props = new HashMap<>(clientProperties);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        try (Admin admin = Admin.create(props)) {
            admin.describeCluster().nodes().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw unanswered(bootstrap);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw unanswered(bootstrap); // the admin's own timeout, which may end the same wait first
            }
            throw new KafkaException("cannot reach Kafka at " + bootstrap + ": " + cause.getMessage(), cause);
        } catch (KafkaException e) {
            throw new KafkaException("cannot reach Kafka at " + bootstrap + ": " + rootMessage(e), e);
        }
    }

    private static KafkaException unanswered(String bootstrap) {
        return new KafkaException("no Kafka broker answered at " + bootstrap + " within " + Durations.format(TIMEOUT));
    }

    /** The innermost cause's message: "No resolvable bootstrap urls…" rather than "Failed to create new KafkaAdminClient". */
    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : t.getMessage();
    }
}
