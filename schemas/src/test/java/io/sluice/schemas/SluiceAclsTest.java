package io.sluice.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import io.sluice.schemas.SluiceAcls.Role;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;

class SluiceAclsTest {

    private static List<String> lines(Role role, boolean createTopics) {
        return SluiceAcls.bindings(role, "User:x", createTopics).stream().map(SluiceAcls::describe).toList();
    }

    private static List<String> writes(Role role) {
        return SluiceAcls.bindings(role, "User:x", true).stream()
                .filter(b -> b.pattern().resourceType() == ResourceType.TOPIC && b.entry().operation() == AclOperation.WRITE)
                .map(b -> b.pattern().name()).toList();
    }

    @Test
    void shouldLetAProducerSubmitAndReadOutcomesOnly() {
        assertThat(lines(Role.PRODUCER, false)).containsExactly(
                "User:x ALLOW WRITE topic sluice.submissions",
                "User:x ALLOW READ topic sluice.results",
                "User:x ALLOW READ topic sluice.ledger");
    }

    @Test
    void shouldNeverLetAWorkerWriteTasksHaltsOrTheBooks() {
        assertThat(writes(Role.WORKER)).containsExactlyInAnyOrder(Topics.USAGE, Topics.HEARTBEATS, Topics.DLQ);
        assertThat(lines(Role.WORKER, false)).contains("User:x ALLOW READ topic sluice.tasks",
                "User:x ALLOW READ group sluice-workers", "User:x ALLOW READ topic sluice.control");
    }

    @Test
    void shouldLetAnOperatorRequestCancelsButNeverWriteAHalt() {
        assertThat(writes(Role.OPERATOR)).containsExactly(Topics.CANCELLATIONS);
    }

    @Test
    void shouldGiveTheCoordinatorItsTransactionsAndTopicCreationOnlyWhenAsked() {
        assertThat(lines(Role.COORDINATOR, false))
                .contains("User:x ALLOW WRITE transactional_id sluice-coordinator-* (prefixed)",
                        "User:x ALLOW READ group sluice-coordinator", "User:x ALLOW READ topic sluice.cancellations")
                .noneMatch(l -> l.contains("CREATE"));
        assertThat(lines(Role.COORDINATOR, true)).contains("User:x ALLOW CREATE topic sluice.* (prefixed)");
        assertThat(writes(Role.COORDINATOR)).doesNotContain(Topics.USAGE, Topics.HEARTBEATS, Topics.CANCELLATIONS);
    }

    @Test
    void shouldAllowOnlyAndNameABadPrincipal() {
        for (Role role : Role.values()) {
            assertThat(SluiceAcls.bindings(role, "User:x", true)).extracting(AclBinding::entry)
                    .allSatisfy(e -> assertThat(e.permissionType()).isEqualTo(AclPermissionType.ALLOW));
        }
        assertThatThrownBy(() -> SluiceAcls.bindings(Role.WORKER, "alice", false))
                .hasMessage("principal: expected TYPE:NAME such as User:alice, got 'alice'");
    }
}
