package io.sluice.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import io.sluice.schemas.SluiceAcls;
import io.sluice.schemas.SluiceAcls.Role;
import io.sluice.schemas.TopicAdmin;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.acl.AclBinding;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice acls}: prints, and unless {@code --dry-run} applies (idempotently), the Kafka ACLs of Sluice's roles
 * for the principals named. Run it as a principal that may alter ACLs.
 */
@Command(name = "acls", mixinStandardHelpOptions = true,
        description = "Prints and applies (idempotently) the least-privilege Kafka ACLs of Sluice's roles for the "
                + "principals given; see the README's Security section.")
final class AclsCommand implements Callable<Integer> {

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--producer", paramLabel = "PRINCIPAL", description = "Other systems that submit work, e.g. User:orders")
    List<String> producers = new ArrayList<>();

    @Option(names = "--worker", paramLabel = "PRINCIPAL", description = "Workers")
    List<String> workers = new ArrayList<>();

    @Option(names = "--coordinator", paramLabel = "PRINCIPAL", description = "Coordinators")
    List<String> coordinators = new ArrayList<>();

    @Option(names = "--operator", paramLabel = "PRINCIPAL", description = "Operators (cancel, status, runs, watch)")
    List<String> operators = new ArrayList<>();

    @Option(names = "--coordinator-creates-topics", description = "Let coordinators create Sluice's topics (default: "
            + "an administrator runs `sluice topics` once)")
    boolean coordinatorCreatesTopics;

    @Option(names = "--dry-run", description = "Print the ACLs only")
    boolean dryRun;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        List<AclBinding> bindings = new ArrayList<>();
        try {
            producers.forEach(p -> bindings.addAll(SluiceAcls.bindings(Role.PRODUCER, p, false)));
            workers.forEach(p -> bindings.addAll(SluiceAcls.bindings(Role.WORKER, p, false)));
            coordinators.forEach(p -> bindings.addAll(SluiceAcls.bindings(Role.COORDINATOR, p, coordinatorCreatesTopics)));
            operators.forEach(p -> bindings.addAll(SluiceAcls.bindings(Role.OPERATOR, p, false)));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (bindings.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "name at least one principal: --producer, --worker, --coordinator or --operator");
        }
        PrintWriter out = spec.commandLine().getOut();
        if (dryRun) {
            bindings.forEach(b -> out.println(SluiceAcls.describe(b)));
            out.flush();
            return Exit.OK;
        }
        String bootstrap = connection.requireBootstrap(spec.commandLine());
        connection.requireReachable(bootstrap);
        Map<String, Object> props = new HashMap<>(connection.clientProperties());
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        List<AclBinding> created;
        try (Admin admin = Admin.create(props)) {
            created = SluiceAcls.apply(admin, bindings, TopicAdmin.DEFAULT_TIMEOUT);
        }
        for (AclBinding b : bindings) {
            out.println((created.contains(b) ? "created  " : "present  ") + SluiceAcls.describe(b));
        }
        out.flush();
        return Exit.OK;
    }
}
