import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/infra/eventstore/port.ts';
import type { EventHandler } from '../../src/integrations/event-source.ts';
import { topicFor } from '../../src/integrations/kafka/messages.ts';
import { onceByEventId } from '../../src/integrations/once.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { testKafka } from '../support/kafka.ts';
import { serverUrl } from '../support/servers.ts';
import { waitUntil } from '../support/wait.ts';

const brokers = serverUrl('KAFKA_BROKERS');

const until = (condition: () => boolean) => waitUntil(condition, 60_000);

/**
 * The same consumer runs on both event sources: a Kafka consumer group, and the event log in the embedded
 * default. Its side effect is a counter per event in the read store, made once by `onceByEventId`.
 */
const sources = [
  { name: 'the event log (embedded default)', env: {} as Record<string, string> },
  ...(brokers ? [{ name: 'Kafka consumer groups', env: { KAFKA_BROKERS: brokers, KAFKA_TOPIC_PARTITIONS: '3' } }] : []),
];

describe.each(sources)('integration consumers on $name', ({ env }) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(env);
  });
  afterAll(async () => {
    await app?.close();
  });

  async function register(count: number): Promise<string[]> {
    const streams: string[] = [];
    for (let i = 0; i < count; i++) {
      const created = await app.request('POST', '/api/v1/customers', { body: { name: `Consumer test ${randomUUID()}` } });
      expect(created.status).toBe(201);
      streams.push(`customer-${created.body.id}`);
    }
    return streams;
  }

  it('delivers every event at least once; a forced redelivery has no second effect', async () => {
    const streams = await register(12);
    const group = `crm-test-${randomUUID()}`;
    const effects = app.services.readStore.collection(`effects_${group.slice(-8)}`);
    const deliveries = new Map<string, number>();
    const effect: EventHandler = async (event) => {
      await effects.updateOne({ _id: event.id }, { $inc: { count: 1 } }, { upsert: true });
    };
    const once = onceByEventId(app.services.integrationStore, group, effect);
    const victim = (await app.services.eventStore.readStream(streams[5]!))[0]!.id;
    const handler: EventHandler = async (event: RecordedEvent) => {
      deliveries.set(event.id, (deliveries.get(event.id) ?? 0) + 1);
      await once(event);
      // The effect is done, then the consumer fails before acknowledging: the source must deliver it again.
      if (event.id === victim && deliveries.get(event.id) === 1) throw new Error('crash after the effect, before the commit');
    };
    const ours = async () => Promise.all(streams.map(async (s) => (await app.services.eventStore.readStream(s))[0]!.id));
    const ids = await ours();

    const consumer = await app.services.eventSource.consume(group, ['customer'], handler);
    await until(() => ids.every((id) => deliveries.has(id)) && (deliveries.get(victim) ?? 0) >= 2);
    await consumer.close();
    expect(deliveries.get(victim)).toBeGreaterThanOrEqual(2);
    for (const id of ids) expect(await effects.findOne({ _id: id })).toMatchObject({ count: 1 });

    // The whole history again (Kafka: the group's offsets reset to the earliest; event log: a new checkpoint):
    // every event is delivered a second time and still has one effect.
    if (app.services.relay) {
      const admin = testKafka(brokers!).admin();
      await admin.connect();
      await admin.resetOffsets({ groupId: group, topic: topicFor('customer'), earliest: true });
      await admin.disconnect();
    } else await app.services.integrationStore.collection('_consumers').deleteOne({ _id: group });
    const before = new Map(deliveries);
    const again = await app.services.eventSource.consume(group, ['customer'], handler);
    await until(() => ids.every((id) => deliveries.get(id)! > before.get(id)!));
    await again.close();
    for (const id of ids) expect(await effects.findOne({ _id: id })).toMatchObject({ count: 1 });
  });

  it('resumes after a restart from where it acknowledged, without skipping', async () => {
    const group = `crm-test-${randomUUID()}`;
    const seen = new Set<string>();
    const first = await app.services.eventSource.consume(group, ['customer'], async (event) => void seen.add(event.id));
    const early = await register(3);
    const earlyIds = await Promise.all(early.map(async (s) => (await app.services.eventStore.readStream(s))[0]!.id));
    await until(() => earlyIds.every((id) => seen.has(id)));
    await first.close();
    const late = await register(3);
    const lateIds = await Promise.all(late.map(async (s) => (await app.services.eventStore.readStream(s))[0]!.id));
    const afterRestart = new Set<string>();
    const second = await app.services.eventSource.consume(group, ['customer'], async (event) => void afterRestart.add(event.id));
    await until(() => lateIds.every((id) => afterRestart.has(id)));
    await second.close();
    // The first consumer acknowledged the early events, so the second one starts after them.
    expect(earlyIds.filter((id) => afterRestart.has(id))).toEqual([]);
  });
});
