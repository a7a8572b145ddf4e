package dev.ferry.schemas;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/** Creating the topics ferry's services write to. */
public final class KafkaTopics {

    private KafkaTopics() {
    }

    /**
     * {@code fetch.max.wait.ms} of the services' consumers. A consumer's {@code close()} waits for its fetch in flight,
     * which a broker with nothing new holds for up to this long: 100 ms instead of Kafka's default 500 took the
     * writer's stop from ~380 ms to 10-60 ms (docs/benchmarks.md). A fetch that finds data is answered at once either way.
     */
    public static final int CONSUMER_FETCH_MAX_WAIT_MS = 100;

    /**
     * Waits until the producer's metadata names a leader for every partition of {@code topic}, so that its first batch
     * goes out at once. That the leader also serves the partitions already is {@link #ensure}'s part.
     */
    public static void awaitLeaders(org.apache.kafka.clients.producer.Producer<?, ?> producer, String topic, java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<org.apache.kafka.common.PartitionInfo> partitions = producer.partitionsFor(topic);
            if (!partitions.isEmpty() && partitions.stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("topic " + topic + " has partitions without a leader after " + timeout);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the leaders of " + topic, e);
            }
        }
    }

    /** The log end offset of every partition of {@code topics}. */
    public static Map<org.apache.kafka.common.TopicPartition, Long> endOffsets(Admin admin, java.util.Collection<String> topics)
            throws InterruptedException, ExecutionException, java.util.concurrent.TimeoutException {
        Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> request = new java.util.HashMap<>();
        admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS).values().forEach(d -> d.partitions().forEach(p ->
                request.put(new org.apache.kafka.common.TopicPartition(d.name(), p.partition()), org.apache.kafka.clients.admin.OffsetSpec.latest())));
        Map<org.apache.kafka.common.TopicPartition, Long> ends = new java.util.HashMap<>();
        admin.listOffsets(request).all().get(30, TimeUnit.SECONDS).forEach((tp, info) -> ends.put(tp, info.offset()));
        return ends;
    }

    /** Creates {@code name} unless it exists; a topic that exists is left as it is. */
    public static void ensure(Admin admin, String name, int partitions, Map<String, String> config) {
        ensure(admin, List.of(name), partitions, config);
    }

    /**
     * Creates each of {@code names} that does not exist, in one request (a snapshot of many tables created its topics one
     * request after the other, ~45 ms each, while its rows waited); a topic that exists is left as it is.
     */
    public static void ensure(Admin admin, java.util.Collection<String> names, int partitions, Map<String, String> config) {
        List<NewTopic> topics = names.stream().map(n -> new NewTopic(n, partitions, (short) 1).configs(config)).toList();
        Map<String, org.apache.kafka.common.KafkaFuture<Void>> results = admin.createTopics(topics).values();
        List<String> created = new java.util.ArrayList<>();
        for (String name : names) {
            try {
                results.get(name).get(60, TimeUnit.SECONDS);
                created.add(name);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof org.apache.kafka.common.errors.InvalidTopicException
                        && String.valueOf(e.getCause().getMessage()).contains("collides")) {
                    throw new IllegalStateException("cannot create topic " + name + ": " + e.getCause().getMessage() + " (Kafka takes '.'"
                            + " and '_' in topic names for one character: two ferry sources on one Kafka whose source and table names"
                            + " combine alike, such as source a with table b_c and source a_b with table c, need another --source-name"
                            + ")", e);
                }
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw new IllegalStateException("cannot create topic " + name + ": " + e.getCause().getMessage(), e);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while creating topic " + name, e);
            } catch (Exception e) {
                throw new IllegalStateException("cannot create topic " + name + ": " + e.getMessage(), e);
            }
        }
        if (!created.isEmpty()) {
            awaitServed(admin, created, partitions);
            created.forEach(name -> org.slf4j.LoggerFactory.getLogger(KafkaTopics.class).info("created topic {} ({} partition(s))", name, partitions));
        }
    }

    /**
     * Waits until the leader of every partition of {@code names} serves it. The controller names a leader when it
     * creates a topic, before that broker has made the partition's log: a produce request in between is refused
     * (NOT_LEADER_OR_FOLLOWER), which producers log as a warning and retry, and which an idempotent producer with several
     * requests in flight can turn into an endless out-of-order retry. A ListOffsets request is answered from the same
     * partition state, and the admin client retries it on that error; but it fails one at once, logging an error, for a
     * topic its metadata does not know yet, so the topics are first described until they are known.
     */
    private static void awaitServed(Admin admin, List<String> names, int partitions) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> request = new java.util.HashMap<>();
        for (String name : names) {
            for (int p = 0; p < partitions; p++) {
                request.put(new org.apache.kafka.common.TopicPartition(name, p), org.apache.kafka.clients.admin.OffsetSpec.latest());
            }
        }
        untilAnswered(deadline, names, () -> admin.describeTopics(names).allTopicNames());
        untilAnswered(deadline, names, () -> admin.listOffsets(request).all());
    }

    /** Sends a request again while Kafka answers it with a retriable error (such as an unknown topic), until the deadline. */
    private static void untilAnswered(long deadline, List<String> names, java.util.function.Supplier<org.apache.kafka.common.KafkaFuture<?>> request) {
        while (true) {
            try {
                request.get().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for new topics to be served: " + names, e);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.RetriableException) || System.nanoTime() > deadline) {
                    throw new IllegalStateException("new topics not served within 60 s: " + names + ": " + e.getCause().getMessage(), e.getCause());
                }
            } catch (java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("new topics not served within 60 s: " + names, e);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for new topics to be served: " + names, e);
            }
        }
    }
}
