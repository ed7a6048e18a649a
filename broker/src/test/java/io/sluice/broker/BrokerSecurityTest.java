package io.sluice.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.junit.jupiter.api.Test;

class BrokerSecurityTest {

    @Test
    void shouldGiveEveryUserClientPropertiesAndHideThePasswords() {
        BrokerSecurity security = BrokerSecurity.withRandomPasswords("worker");

        Map<String, String> worker = security.clientProperties("worker");

        assertThat(worker).containsEntry("security.protocol", "SASL_PLAINTEXT").containsEntry("sasl.mechanism", "SCRAM-SHA-512");
        assertThat(worker.get("sasl.jaas.config")).contains("username=\"worker\"")
                .contains("password=\"" + security.users().get("worker") + "\"");
        assertThat(security.users().get("worker")).hasSize(32).isNotEqualTo(security.users().get("admin"));
        assertThat(security.toString()).doesNotContain(security.users().get("worker")).contains("passwords hidden");
        assertThat(security.brokerProperties(9092, 9093)).containsEntry("super.users", "User:admin")
                .containsEntry("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer")
                .containsEntry("allow.everyone.if.no.acl.found", "false");
        assertThat(security.formatArguments()).contains("--add-scram");
    }

    @Test
    void shouldRefuseUsersItCannotSafelyWriteIntoAJaasLine() {
        assertThatThrownBy(() -> new BrokerSecurity(Map.of("worker", "long-enough-pw"))).hasMessageContaining("must include admin");
        assertThatThrownBy(() -> new BrokerSecurity(Map.of("admin", "short")))
                .hasMessage("users: admin's password must be 12+ characters, no quotes");
        assertThatThrownBy(() -> new BrokerSecurity(Map.of("admin", "long-enough-\"pw")))
                .hasMessage("users: admin's password must be 12+ characters, no quotes");
        assertThatThrownBy(() -> new BrokerSecurity(Map.of("admin", "long-enough-pw", "a b", "long-enough-pw")))
                .hasMessage("users: 'a b' is no user name (letters, digits, . _ -)");
        assertThatThrownBy(() -> BrokerSecurity.withRandomPasswords().clientProperties("nobody"))
                .hasMessageStartingWith("no user nobody");
    }
}
