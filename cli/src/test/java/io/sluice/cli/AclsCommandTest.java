package io.sluice.cli;

import static io.sluice.cli.CliRun.sluice;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AclsCommandTest {

    @Test
    void shouldPrintEachRolesAclsForThePrincipalsNamed() {
        CliRun run = sluice("acls", "--dry-run", "--producer", "User:orders", "--worker", "User:w", "--operator", "User:ops");

        assertThat(run.exitCode()).as(run::toString).isZero();
        assertThat(run.out().lines()).contains("User:orders ALLOW WRITE topic sluice.submissions",
                "User:w ALLOW WRITE topic sluice.usage", "User:ops ALLOW WRITE topic sluice.cancellations");
        assertThat(run.out()).doesNotContain("User:w ALLOW WRITE topic sluice.tasks");
    }

    @Test
    void shouldNeedAPrincipalOfTheFormKafkaTakes() {
        CliRun none = sluice("acls", "--dry-run");
        CliRun bad = sluice("acls", "--dry-run", "--worker", "w");

        assertThat(none.exitCode()).isEqualTo(Exit.INVALID);
        assertThat(none.err()).startsWith("sluice acls: name at least one principal");
        assertThat(bad.exitCode()).isEqualTo(Exit.INVALID);
        assertThat(bad.err()).startsWith("sluice acls: principal: expected TYPE:NAME such as User:alice, got 'w'");
    }
}
