package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.sluice.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupSubscription;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** Partition numbers, not partitions: co-partitioned, balanced, sticky and cooperative. */
class RunPartitionAssignorTest {

    @Test
    void shouldGiveEachMemberTheSameNumbersOfEveryInputTopic() {
        // given: three numbers, two members that own nothing yet
        Cluster cluster = cluster(3);
        Map<String, Subscription> members = new HashMap<>();
        members.put("a", new Subscription(List.of(Topics.SUBMISSIONS, Topics.USAGE)));
        members.put("b", new Subscription(List.of(Topics.SUBMISSIONS, Topics.USAGE)));

        // when
        var assignment = new RunPartitionAssignor().assign(cluster, new GroupSubscription(members)).groupAssignment();

        // then
        assertThat(assignment.get("a").partitions()).containsExactlyInAnyOrder(
                new TopicPartition(Topics.SUBMISSIONS, 0), new TopicPartition(Topics.SUBMISSIONS, 1),
                new TopicPartition(Topics.USAGE, 0), new TopicPartition(Topics.USAGE, 1));
        assertThat(assignment.get("b").partitions()).containsExactlyInAnyOrder(
                new TopicPartition(Topics.SUBMISSIONS, 2), new TopicPartition(Topics.USAGE, 2));
    }

    @Test
    void shouldMoveOnlyWhatMustMoveAndOnlyOnceItsOwnerRevokedIt() {
        // given: a owns all six numbers; b joins
        Map<String, Set<Integer>> owned = new HashMap<>(Map.of("a", Set.of(0, 1, 2, 3, 4, 5), "b", Set.of()));

        // when: the first rebalance
        var first = RunPartitionAssignor.target(List.of("a", "b"), owned, 6);

        // then: a keeps three and gives up three, which nobody gets until a has revoked them
        assertThat(first.get("a")).containsExactly(0, 1, 2);
        assertThat(first.get("b")).isEmpty();

        // when: a revoked them and the follow-up rebalance runs
        owned.put("a", first.get("a"));
        var second = RunPartitionAssignor.target(List.of("a", "b"), owned, 6);

        // then
        assertThat(second.get("a")).containsExactly(0, 1, 2);
        assertThat(second.get("b")).containsExactly(3, 4, 5);
    }

    @Test
    void shouldGiveTheNumbersOfAMemberThatLeftToTheRestAtOnce() {
        // given: c left; a and b keep theirs
        Map<String, Set<Integer>> owned = Map.of("a", Set.of(0, 1), "b", Set.of(2, 3));

        // when
        var target = RunPartitionAssignor.target(List.of("a", "b"), owned, 6);

        // then
        assertThat(target.get("a")).containsExactly(0, 1, 4);
        assertThat(target.get("b")).containsExactly(2, 3, 5);
    }

    @Test
    void shouldGiveAContestedNumberToNoOneUntilItIsRevoked() {
        // given: a stale member still claims b's number 1
        Map<String, Set<Integer>> owned = Map.of("a", Set.of(0, 1), "b", Set.of(1, 2));

        // when
        var target = RunPartitionAssignor.target(List.of("a", "b"), owned, 3);

        // then
        assertThat(target.get("a")).containsExactly(0);
        assertThat(target.get("b")).containsExactly(2);
    }

    private static Cluster cluster(int partitions) {
        Node node = new Node(1, "localhost", 9092);
        List<PartitionInfo> infos = new ArrayList<>();
        for (String topic : List.of(Topics.SUBMISSIONS, Topics.USAGE)) {
            for (int p = 0; p < partitions; p++) {
                infos.add(new PartitionInfo(topic, p, node, new Node[] {node}, new Node[] {node}));
            }
        }
        return new Cluster("c", List.of(node), infos, Set.of(), Set.of());
    }
}
