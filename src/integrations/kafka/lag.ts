import type { Admin } from 'kafkajs';

/**
 * How many messages of `topics` a consumer group has not committed yet, summed over their partitions. `ends` caches
 * each topic's high-water marks for one report. A partition the group never committed on owes everything Kafka keeps
 * of it (an estimate: from offset 0).
 */
export async function groupLag(admin: Admin, group: string, topics: readonly string[], ends: Map<string, Map<number, bigint>> = new Map()): Promise<number> {
  return Object.values(await groupLagByTopic(admin, group, topics, ends)).reduce((sum, lag) => sum + lag, 0);
}

/** `groupLag`, topic by topic. */
export async function groupLagByTopic(admin: Admin, group: string, topics: readonly string[], ends: Map<string, Map<number, bigint>> = new Map()): Promise<Record<string, number>> {
  const lags: Record<string, number> = {};
  for (const { topic, partitions } of await admin.fetchOffsets({ groupId: group, topics: [...topics] })) {
    if (!ends.has(topic)) ends.set(topic, new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)])));
    const high = ends.get(topic)!;
    let events = 0n;
    for (const { partition, offset } of partitions) events += (high.get(partition) ?? 0n) - (offset === '-1' ? 0n : BigInt(offset));
    lags[topic] = Number(events < 0n ? 0n : events);
  }
  return lags;
}
