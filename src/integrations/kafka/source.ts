import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../../infra/logger.ts';
import type { EventConsumer, EventHandler, EventSource } from '../event-source.ts';
import { fromMessage, topicFor } from './messages.ts';
import { ensureTopics, type TopicSettings } from './topics.ts';
import { groupLag } from './lag.ts';

/** How many of a group's partitions one member handles at the same time. */
const PARTITIONS_AT_ONCE = 4;

/**
 * Consumers as Kafka consumer groups on the relay's topics. A message's offset is marked done only after its
 * handler succeeded, and marked offsets are committed after every fetched batch, every second, every 100
 * messages, and before a failing handler's error is raised, so a commit never covers a message whose
 * handler did not succeed. A handler that throws gets the same message again after a pause; a crash before a
 * commit redelivers what came after the last one (handlers deduplicate by event id). A new group starts
 * from the earliest offset, so it sees the whole history Kafka keeps.
 */
export class KafkaEventSource implements EventSource {
  constructor(
    private readonly kafka: Kafka,
    private readonly topics: TopicSettings,
    private readonly logger: Logger,
  ) {}

  /** The consumer groups this process runs, with their topics. */
  private readonly groups = new Map<string, string[]>();
  private admin: Admin | undefined;

  async lag(): Promise<{ group: string; events: number }[]> {
    if (this.groups.size === 0) return [];
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const admin = this.admin;
    const ends = new Map<string, Map<number, bigint>>();
    const lags: { group: string; events: number }[] = [];
    for (const [group, topics] of this.groups) lags.push({ group, events: await groupLag(admin, group, topics, ends) });
    return lags;
  }

  async consume(group: string, categories: readonly string[], handler: EventHandler): Promise<EventConsumer> {
    // Fetches wait at most 1 s for new messages, so closing a consumer takes at most about that long.
    const consumer: Consumer = this.kafka.consumer({
      groupId: group,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 1000,
      // A member that dies (a worker killed during a takeover) is dropped after 10 s, not Kafka's default 30 s, so
      // the group's next leader gets its partitions soon.
      sessionTimeout: 10_000,
      rebalanceTimeout: 20_000,
      retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5000 },
    });
    await ensureTopics(this.kafka, this.topics, this.logger);
    // Its lag is reported from now on, while it joins the group too (a rebalance may wait for a dead member).
    this.groups.set(group, categories.map(topicFor));
    await consumer.connect();
    await consumer.subscribe({ topics: categories.map(topicFor), fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      autoCommitInterval: 1000,
      autoCommitThreshold: 100,
      // Partitions are independent (each keeps its order; handlers deduplicate by event id): a few at a time,
      // so one slow handler's partition does not hold up the others, and a backlog drains several times faster.
      partitionsConsumedConcurrently: PARTITIONS_AT_ONCE,
      eachMessage: async ({ topic, partition, message }) => {
        try {
          await handler(fromMessage(message));
        } catch (error) {
          this.logger.warn('consumer handler failed; the message will be delivered again', { consumer: group, topic, partition, offset: message.offset, error });
          throw error;
        }
      },
    });
    return {
      close: async () => {
        this.groups.delete(group);
        await consumer.disconnect();
        if (this.groups.size === 0) {
          const admin = this.admin;
          this.admin = undefined;
          await admin?.disconnect();
        }
      },
    };
  }
}
