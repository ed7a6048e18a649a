package io.sluice.coordinator;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.TopicPartition;

/**
 * Assigns the coordinators' group its input partitions by <em>partition number</em>: a member gets submissions-p and
 * usage-p together (everything about the runs of partition p), balanced, sticky, and cooperatively — a change of
 * membership moves only the numbers that must move, and the members keep folding everything else meanwhile.
 *
 * <p>The algorithm, per rebalance: each member's quota is ⌊N / members⌋ numbers, the first N mod members members (in
 * id order) one more. A member keeps the numbers it owns up to its quota (its current assignment, from its
 * subscription); the rest go, in order, to members below their quota. Following the cooperative protocol, a number
 * that moves from a member that still owns it is assigned to no one in this rebalance: its owner revokes it (its
 * runs are forgotten after its last transaction), which makes the client rejoin at once, and the next rebalance
 * gives it to its new owner, which restores its runs. A number claimed by two members (one of them stale) is treated
 * as owned by neither, and given to no one until both have revoked it.
 *
 * <p>Stateless and thread-safe.
 */
public final class RunPartitionAssignor implements ConsumerPartitionAssignor {

    public static final String NAME = "sluice-run-partitions";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<RebalanceProtocol> supportedProtocols() {
        return List.of(RebalanceProtocol.COOPERATIVE);
    }

    @Override
    public GroupAssignment assign(Cluster metadata, GroupSubscription groupSubscription) {
        Map<String, Subscription> subscriptions = new TreeMap<>(groupSubscription.groupSubscription());
        Set<String> topics = new TreeSet<>();
        subscriptions.values().forEach(s -> topics.addAll(s.topics()));
        int numbers = 0;
        for (String topic : topics) {
            Integer count = metadata.partitionCountForTopic(topic);
            numbers = Math.max(numbers, count == null ? 0 : count);
        }
        Map<String, Set<Integer>> owned = new HashMap<>();
        subscriptions.forEach((member, s) -> {
            Set<Integer> mine = new TreeSet<>();
            s.ownedPartitions().forEach(tp -> mine.add(tp.partition()));
            owned.put(member, mine);
        });
        Map<String, Set<Integer>> target = target(new ArrayList<>(subscriptions.keySet()), owned, numbers);
        Map<String, Assignment> assignments = new HashMap<>();
        for (Map.Entry<String, Set<Integer>> e : target.entrySet()) {
            List<TopicPartition> parts = new ArrayList<>();
            for (int p : e.getValue()) {
                for (String topic : subscriptions.get(e.getKey()).topics()) {
                    Integer count = metadata.partitionCountForTopic(topic);
                    if (count != null && p < count) {
                        parts.add(new TopicPartition(topic, p));
                    }
                }
            }
            assignments.put(e.getKey(), new Assignment(parts));
        }
        return new GroupAssignment(assignments);
    }

    /**
     * The partition numbers each member gets in this rebalance (see the class comment), from the members in id order,
     * what each owns now, and how many numbers there are.
     */
    static Map<String, Set<Integer>> target(List<String> members, Map<String, Set<Integer>> owned, int numbers) {
        Map<String, Set<Integer>> result = new TreeMap<>();
        if (members.isEmpty()) {
            return result;
        }
        // Who owns what now; a number claimed twice is nobody's.
        Map<Integer, String> owner = new HashMap<>();
        Set<Integer> contested = new TreeSet<>();
        for (String m : members) {
            for (int p : owned.getOrDefault(m, Set.of())) {
                if (p >= numbers) {
                    continue;
                }
                if (owner.putIfAbsent(p, m) != null) {
                    contested.add(p);
                }
            }
        }
        contested.forEach(owner::remove);
        int base = numbers / members.size();
        int extra = numbers % members.size();
        Map<String, Integer> quota = new HashMap<>();
        for (int i = 0; i < members.size(); i++) {
            quota.put(members.get(i), base + (i < extra ? 1 : 0));
            result.put(members.get(i), new TreeSet<>());
        }
        // Keep what is owned, up to the quota.
        List<Integer> free = new ArrayList<>();
        for (int p = 0; p < numbers; p++) {
            String m = owner.get(p);
            if (m != null && result.get(m).size() < quota.get(m)) {
                result.get(m).add(p);
            } else {
                free.add(p);
            }
        }
        // Hand the rest out to members below their quota.
        Map<Integer, String> newOwner = new HashMap<>();
        int next = 0;
        for (String m : members) {
            while (result.get(m).size() < quota.get(m) && next < free.size()) {
                int p = free.get(next++);
                result.get(m).add(p);
                newOwner.put(p, m);
            }
        }
        // Cooperative: a number another member still holds is given to no one until that member has revoked it.
        for (Map.Entry<Integer, String> e : newOwner.entrySet()) {
            String current = owner.get(e.getKey());
            if ((current != null && !current.equals(e.getValue())) || contested.contains(e.getKey())) {
                result.get(e.getValue()).remove(e.getKey());
            }
        }
        return result;
    }

    @Override
    public void onAssignment(Assignment assignment, ConsumerGroupMetadata metadata) {
        // stateless: the owned partitions the client reports are all it needs
    }
}
