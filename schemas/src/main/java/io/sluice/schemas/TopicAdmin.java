package io.sluice.schemas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;

/** Creates Sluice's topics idempotently: existing topics are left as they are. */
public final class TopicAdmin {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private TopicAdmin() {
    }

    /**
     * Creates every topic of {@code specs} that does not exist yet and waits until the cluster's metadata
     * shows all of them (after creation on several brokers, metadata can lag).
     *
     * @param replication replication factor for new topics; 1 on a single broker
     * @return the names of the topics this call created
     */
    public static List<String> ensure(Admin admin, List<Topics.Spec> specs, short replication, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            Set<String> existing = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (Topics.Spec spec : specs) {
                if (!existing.contains(spec.name())) {
                    missing.add(new NewTopic(spec.name(), spec.partitions(), replication).configs(spec.configs()));
                }
            }
            List<String> created = new ArrayList<>();
            if (!missing.isEmpty()) {
                CreateTopicsResult result = admin.createTopics(missing);
                for (var entry : result.values().entrySet()) {
                    try {
                        entry.getValue().get(remaining(deadline), TimeUnit.NANOSECONDS);
                        created.add(entry.getKey());
                    } catch (ExecutionException e) {
                        if (e.getCause() instanceof AuthorizationException) {
                            throw new IllegalStateException("cannot create Sluice topics: not authorized to create "
                                    + missing.stream().map(NewTopic::name).toList() + " (missing, or not visible to this "
                                    + "principal): run `sluice topics` as an administrator, or grant this principal the "
                                    + "coordinator role (`sluice acls --coordinator User:NAME`)", e.getCause());
                        }
                        // Another process created it between our list and create: that is the idempotent outcome.
                        if (!(e.getCause() instanceof TopicExistsException)) {
                            throw e;
                        }
                    }
                }
            }
            Set<String> names = specs.stream().map(Topics.Spec::name).collect(Collectors.toSet());
            while (true) {
                try {
                    admin.describeTopics(names).allTopicNames().get(remaining(deadline), TimeUnit.NANOSECONDS);
                    return created;
                } catch (ExecutionException e) {
                    if (remaining(deadline) <= 0) {
                        throw e;
                    }
                    TimeUnit.MILLISECONDS.sleep(50);
                }
            }
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("cannot create Sluice topics: " + cause.getMessage(), cause);
        }
    }

    private static long remaining(long deadlineNanos) {
        return Math.max(0, deadlineNanos - System.nanoTime());
    }
}
