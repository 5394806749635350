import type { Kafka } from 'kafkajs';
import type { Logger } from '../../infra/logger.ts';
import { PUBLISHED_CATEGORIES, topicFor } from './messages.ts';

export interface TopicSettings {
  /** Partitions of each topic created here (existing topics are left as they are). */
  partitions: number;
  /** Replicas of each topic created here; omitted: the broker's default. */
  replicationFactor?: number;
}

/** Creates the `crm.<category>` topics that do not exist yet and waits for their leaders. */
export const ensureTopics = (kafka: Kafka, settings: TopicSettings, logger: Logger): Promise<void> => ensureNamedTopics(kafka, PUBLISHED_CATEGORIES.map(topicFor), settings, logger);

/** Creates those of `names` that do not exist yet and waits for their leaders. */
export async function ensureNamedTopics(kafka: Kafka, names: readonly string[], settings: TopicSettings, logger: Logger): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = names.filter((topic) => !existing.has(topic));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: settings.partitions,
        ...(settings.replicationFactor ? { replicationFactor: settings.replicationFactor } : {}),
      })),
    });
    logger.info('created Kafka topics', { topics: missing, partitions: settings.partitions });
  } finally {
    await admin.disconnect();
  }
}
