package io.sluice.schemas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The Kafka ACLs of Sluice's roles, least privilege: what each role's principal may do, and nothing else (with
 * Kafka's authorizer on, what no ACL allows is refused). READ and WRITE imply DESCRIBE.
 *
 * <ul>
 *   <li>{@link Role#PRODUCER} (other systems): write submissions; read results (receipts) and the ledger (progress)</li>
 *   <li>{@link Role#WORKER}: read tasks through its share group and the control topic (halts); write usage,
 *       heartbeats and dead letters — never tasks, control, ledger, runs or results</li>
 *   <li>{@link Role#COORDINATOR}: read its inputs and the runs and ledger it restores from, write everything it
 *       publishes, in transactions of ids {@value #TRANSACTIONAL_ID_PREFIX}…, in its consumer group; set the
 *       workers' share group's start offset; create topics only when asked</li>
 *   <li>{@link Role#OPERATOR}: request cancels; read receipts, the ledger, the runs, halts and dead letters (status,
 *       runs, watch, and the answer to a cancel) — never write a halt itself</li>
 * </ul>
 */
public final class SluiceAcls {

    /** Sluice's roles, each a principal of its own. */
    public enum Role {
        PRODUCER, WORKER, COORDINATOR, OPERATOR;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final String COORDINATOR_GROUP = "sluice-coordinator";
    public static final String WORKER_GROUP = "sluice-workers";
    public static final String TRANSACTIONAL_ID_PREFIX = "sluice-coordinator-";

    private SluiceAcls() {
    }

    /**
     * The ALLOW bindings of {@code role} for {@code principal} ({@code User:alice}).
     *
     * @param createTopics for the coordinator: may it create Sluice's topics (CREATE on topics named {@code sluice.…})
     */
    public static List<AclBinding> bindings(Role role, String principal, boolean createTopics) {
        if (principal == null || !principal.matches("[A-Za-z]+:.+")) {
            throw new IllegalArgumentException("principal: expected TYPE:NAME such as User:alice, got '" + principal + "'");
        }
        List<AclBinding> b = new ArrayList<>();
        switch (role) {
            case PRODUCER -> {
                b.add(topic(principal, Topics.SUBMISSIONS, AclOperation.WRITE));
                b.add(topic(principal, Topics.RESULTS, AclOperation.READ));
                b.add(topic(principal, Topics.LEDGER, AclOperation.READ));
            }
            case WORKER -> {
                b.add(topic(principal, Topics.TASKS, AclOperation.READ));
                b.add(group(principal, WORKER_GROUP, AclOperation.READ));
                b.add(topic(principal, Topics.CONTROL, AclOperation.READ));
                b.add(topic(principal, Topics.USAGE, AclOperation.WRITE));
                b.add(topic(principal, Topics.HEARTBEATS, AclOperation.WRITE));
                b.add(topic(principal, Topics.DLQ, AclOperation.WRITE));
            }
            case COORDINATOR -> {
                for (String t : List.of(Topics.SUBMISSIONS, Topics.USAGE, Topics.HEARTBEATS, Topics.CANCELLATIONS,
                        Topics.RUNS, Topics.LEDGER)) {
                    b.add(topic(principal, t, AclOperation.READ));
                }
                // SUBMISSIONS: a submission keyed to another partition is forwarded to its run's partition
                for (String t : List.of(Topics.SUBMISSIONS, Topics.TASKS, Topics.LEDGER, Topics.RUNS, Topics.CONTROL,
                        Topics.RESULTS, Topics.DLQ)) {
                    b.add(topic(principal, t, AclOperation.WRITE));
                }
                b.add(group(principal, COORDINATOR_GROUP, AclOperation.READ));
                b.add(new AclBinding(new ResourcePattern(ResourceType.TRANSACTIONAL_ID, TRANSACTIONAL_ID_PREFIX,
                        PatternType.PREFIXED), allow(principal, AclOperation.WRITE)));
                b.add(new AclBinding(new ResourcePattern(ResourceType.TRANSACTIONAL_ID, TRANSACTIONAL_ID_PREFIX,
                        PatternType.PREFIXED), allow(principal, AclOperation.DESCRIBE)));
                b.add(group(principal, WORKER_GROUP, AclOperation.DESCRIBE_CONFIGS));
                b.add(group(principal, WORKER_GROUP, AclOperation.ALTER_CONFIGS));
                if (createTopics) {
                    b.add(new AclBinding(new ResourcePattern(ResourceType.TOPIC, "sluice.", PatternType.PREFIXED),
                            allow(principal, AclOperation.CREATE)));
                }
            }
            case OPERATOR -> {
                b.add(topic(principal, Topics.CANCELLATIONS, AclOperation.WRITE));
                for (String t : List.of(Topics.RESULTS, Topics.LEDGER, Topics.RUNS, Topics.CONTROL, Topics.DLQ)) {
                    b.add(topic(principal, t, AclOperation.READ));
                }
            }
        }
        return List.copyOf(b);
    }

    /**
     * Creates the bindings the cluster does not have yet (idempotent: run it again, nothing changes).
     *
     * @return the bindings this call created
     * @throws IllegalStateException when the cluster refuses (e.g. no authorizer, or the caller may not alter ACLs)
     */
    public static List<AclBinding> apply(Admin admin, Collection<AclBinding> bindings, Duration timeout)
            throws InterruptedException {
        try {
            Set<AclBinding> existing = new HashSet<>(admin.describeAcls(AclBindingFilter.ANY).values()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS));
            List<AclBinding> missing = bindings.stream().filter(b -> !existing.contains(b)).distinct().toList();
            if (!missing.isEmpty()) {
                admin.createAcls(missing).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
            return missing;
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("cannot apply Sluice's ACLs: " + cause.getMessage(), cause);
        }
    }

    /** One line per binding, as an operator reads them: {@code User:w ALLOW READ topic sluice.tasks (literal)}. */
    public static String describe(AclBinding b) {
        ResourcePattern r = b.pattern();
        AccessControlEntry e = b.entry();
        return e.principal() + " " + e.permissionType() + " " + e.operation() + " " + r.resourceType().name()
                .toLowerCase(Locale.ROOT) + " " + r.name() + (r.patternType() == PatternType.PREFIXED ? "* (prefixed)" : "");
    }

    /** Matches every binding of {@code principal}, for removing a role's ACLs. */
    public static AclBindingFilter of(String principal) {
        return new AclBindingFilter(ResourcePatternFilter.ANY, new AccessControlEntryFilter(principal, null,
                AclOperation.ANY, AclPermissionType.ANY));
    }

    private static AclBinding topic(String principal, String topic, AclOperation op) {
        return new AclBinding(new ResourcePattern(ResourceType.TOPIC, topic, PatternType.LITERAL), allow(principal, op));
    }

    private static AclBinding group(String principal, String group, AclOperation op) {
        return new AclBinding(new ResourcePattern(ResourceType.GROUP, group, PatternType.LITERAL), allow(principal, op));
    }

    private static AccessControlEntry allow(String principal, AclOperation op) {
        return new AccessControlEntry(principal, "*", op, AclPermissionType.ALLOW);
    }
}
