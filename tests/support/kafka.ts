import { randomUUID } from 'node:crypto';
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';

export const testKafka = (brokers: string) => new Kafka({ clientId: 'crm-tests', brokers: brokers.split(','), logLevel: logLevel.NOTHING });

export interface ReadMessage {
  topic: string;
  partition: number;
  message: KafkaMessage;
  key: string;
}

/**
 * Reads topics from the beginning with a fresh consumer group until `done` says the collected messages (only
 * those `wanted` keeps) are enough, or fails after `timeoutMs`.
 */
export async function readTopics(
  kafka: Kafka,
  topics: string[],
  wanted: (key: string) => boolean,
  done: (messages: ReadMessage[]) => boolean,
  timeoutMs = 60_000,
): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({ groupId: `crm-tests-${randomUUID()}` });
  const messages: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${messages.length} messages, not enough after ${timeoutMs} ms`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          const key = message.key?.toString() ?? '';
          if (!wanted(key)) return;
          messages.push({ topic, partition, message, key });
          if (done(messages)) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/**
 * Moves consumer groups' committed offsets to the ends of `topics` (those that exist), so that they take only what
 * a test sends from now on: a shared broker keeps earlier tests' messages (10,000 customers from the ERP sync), and
 * a group with a backlog would spend the test's time on them. One member joins each group for all the topics at
 * once (`admin.setOffsets` joins once per topic: minutes for the published topics). A group must have no other
 * member: one left by a process that just stopped is waited for (until its session times out).
 */
export async function skipToEnds(kafka: Kafka, groups: readonly string[], topics: readonly string[], timeoutMs = 60_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((name) => existing.has(name));
    if (present.length === 0) return;
    for (const groupId of groups) {
      const deadline = Date.now() + timeoutMs;
      while ((await admin.describeGroups([groupId])).groups[0]?.members.length) {
        if (Date.now() > deadline) throw new Error(`the group ${groupId} still has members after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      const ends = await Promise.all(present.map(async (topic) => ({ topic, partitions: (await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => ({ partition, offset: high })) })));
      const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: present });
        const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
        await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => {} });
        consumer.pause(present.map((topic) => ({ topic })));
        await joined;
        // A commit made before the member counts itself running is dropped without a word: committed until it shows.
        const wanted = ends.flatMap(({ topic, partitions }) => partitions.map(({ partition, offset }) => ({ topic, partition, offset })));
        const committed = async () => {
          const now = new Map((await admin.fetchOffsets({ groupId, topics: present })).flatMap(({ topic, partitions }) => partitions.map(({ partition, offset }) => [`${topic}:${partition}`, offset] as const)));
          return wanted.every(({ topic, partition, offset }) => now.get(`${topic}:${partition}`) === offset);
        };
        for (;;) {
          await consumer.commitOffsets(wanted);
          if (await committed()) break;
          if (Date.now() > deadline) throw new Error(`the group ${groupId} did not take the topics' ends in ${timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      } finally {
        await consumer.disconnect();
      }
    }
  } finally {
    await admin.disconnect();
  }
}
