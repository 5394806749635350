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
