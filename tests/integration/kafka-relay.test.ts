import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { categoryOf, type RecordedEvent } from '../../src/infra/eventstore/port.ts';
import { jsonLogger } from '../../src/infra/logger.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { fromMessage, HEADERS, headerText, topicFor } from '../../src/integrations/kafka/messages.ts';
import { KafkaRelay } from '../../src/integrations/kafka/relay.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { readTopics, testKafka } from '../support/kafka.ts';
import { serverUrl, skipReason, serversCommand } from '../support/servers.ts';
import { switchable } from '../support/switchable-store.ts';
import { waitUntil } from '../support/wait.ts';

const brokers = serverUrl('KAFKA_BROKERS');

async function caughtUp(app: TestApp, timeoutMs = 60_000): Promise<void> {
  const head = await app.services.eventStore.headPosition();
  await waitUntil(() => app.services.relay!.status().position >= head, timeoutMs, () => `relay at ${app.services.relay!.status().position}, head ${head}:`);
}

/** The events of the given streams, as stored in the log. */
async function storedEvents(app: TestApp, streamIds: string[]): Promise<RecordedEvent[]> {
  return (await Promise.all(streamIds.map((id) => app.services.eventStore.readStream(id)))).flat();
}

describe.skipIf(!brokers)(`Kafka relay${brokers ? '' : ` (${skipReason('KAFKA_BROKERS')})`}`, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ KAFKA_BROKERS: brokers!, KAFKA_TOPIC_PARTITIONS: '3' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('publishes customer events to crm.customer with the stream id as key, the headers and the order of the log', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const created = await app.request('POST', '/api/v1/customers', { body: { name: `Relay 客户 ${i} ${Date.now()}` }, headers: { 'x-correlation-id': `relay-test-${i}` } });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    for (const [i, id] of ids.entries()) {
      for (let change = 0; change < 2; change++)
        expect((await app.request('PATCH', `/api/v1/customers/${id}`, { body: { phone: `021-${i}${change}` } })).status).toBe(200);
    }
    const contact = await app.request('POST', '/api/v1/contacts', { body: { customerId: ids[0], name: 'Relay Contact' } });
    expect(contact.status).toBe(201);
    await caughtUp(app);

    const streams = ids.map((id) => `customer-${id}`);
    const stored = await storedEvents(app, streams);
    expect(stored).toHaveLength(12);
    const messages = await readTopics(testKafka(brokers!), [topicFor('customer')], (key) => streams.includes(key), (m) => m.length >= stored.length);
    expect(messages).toHaveLength(stored.length);
    for (const stream of streams) {
      const published = messages.filter((m) => m.key === stream);
      expect(new Set(published.map((m) => m.partition)).size).toBe(1);
      const expected = stored.filter((e) => e.streamId === stream);
      expect(published.map((m) => fromMessage(m.message))).toEqual(expected);
      for (const [i, m] of published.entries()) {
        expect(headerText(m.message.headers, HEADERS.eventType)).toBe(expected[i]!.type);
        expect(headerText(m.message.headers, HEADERS.eventId)).toBe(expected[i]!.id);
        expect(headerText(m.message.headers, HEADERS.position)).toBe(expected[i]!.position.toString());
        expect(headerText(m.message.headers, HEADERS.correlationId)).toBe(expected[i]!.metadata.correlationId);
        expect(headerText(m.message.headers, HEADERS.traceparent)).toBe(`00-${expected[i]!.metadata.traceId}-${expected[i]!.id.replaceAll('-', '').slice(-16)}-01`);
      }
    }
    expect(fromMessage(messages.find((m) => m.key === streams[1])!.message).metadata.correlationId).toBe('relay-test-1');

    const admin = testKafka(brokers!).admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: [topicFor('customer'), topicFor('contact')] });
    await admin.disconnect();
    for (const topic of metadata.topics) expect(topic.partitions).toHaveLength(3);
  });

  it('never publishes password hashes or internal streams', async () => {
    await app.userWithToken(`relay-user-${Date.now()}`, ['salesperson']);
    await caughtUp(app);
    const employees = (await app.services.eventStore.readAll({ filter: { categories: ['employee'] } })).map((e) => e.streamId);
    const messages = await readTopics(testKafka(brokers!), [topicFor('employee')], (key) => employees.includes(key), (m) =>
      m.some((x) => headerText(x.message.headers, HEADERS.eventType) === 'AccountOpened' && x.key === employees[employees.length - 1]),
    );
    for (const m of messages) expect(m.message.value!.toString()).not.toMatch(/passwordHash|scrypt/);
    const admin = testKafka(brokers!).admin();
    await admin.connect();
    const topics = await admin.listTopics();
    await admin.disconnect();
    expect(topics.filter((t) => t.startsWith('crm.')).map((t) => t.slice(4)).sort()).not.toContain('login');
    expect(topics).not.toContain('crm.idempotency');
  });

  it('while the read store holding its checkpoint is away, keeps publishing and says the checkpoint is to blame, not Kafka', async () => {
    const store = switchable(new EmbeddedReadStore());
    const log: string[] = [];
    const relay = new KafkaRelay(testKafka(brokers!), app.services.eventStore, store, jsonLogger('info', (line) => log.push(line)), { partitions: 3 });
    await relay.start();
    try {
      await waitUntil(async () => relay.status().position >= (await app.services.eventStore.headPosition()), 30_000, () => 'the relay caught up');
      store.down = true;
      const created = await app.request('POST', '/api/v1/customers', { body: { name: `Checkpoint outage ${Date.now()}` } });
      expect(created.status).toBe(201);
      const stream = `customer-${created.body.id}`;
      await waitUntil(() => relay.status().lastError !== undefined, 10_000, () => 'a failed checkpoint');
      store.down = false;
      await waitUntil(async () => relay.status().position >= (await app.services.eventStore.headPosition()) && !relay.status().lastError, 30_000, () => 'the relay going on');
      const messages = await readTopics(testKafka(brokers!), [topicFor('customer')], (key) => key === stream, (m) => m.length >= 1);
      expect(messages[0]!.key).toBe(stream);
      // The checkpoint the outage kept from being written is written once the store is back, without a new event.
      const [event] = await app.services.eventStore.readStream(stream);
      expect(BigInt((await store.collection<{ _id: string; position: number }>('_relay').findOne({ _id: 'kafka' }))!.position)).toBeGreaterThanOrEqual(event!.position);
      expect(log.join('')).toMatch(/cannot save the relay checkpoint/);
      expect(log.join('')).not.toMatch(/cannot publish to Kafka/);
    } finally {
      await relay.stop();
    }
  });

  it('loses nothing and keeps per-key order while the broker is down for 10 s', async () => {
    const ids: string[] = [];
    let writing = true;
    let failures = 0;
    const writer = (async () => {
      let i = 0;
      while (writing) {
        i += 1;
        if (ids.length < 8) {
          const created = await app.request('POST', '/api/v1/customers', { body: { name: `Outage ${Date.now()} ${i}` } });
          if (created.status === 201) ids.push(created.body.id);
          else failures += 1;
        } else {
          const changed = await app.request('PATCH', `/api/v1/customers/${ids[i % ids.length]}`, { body: { phone: `010-${i}` } });
          if (changed.status !== 200) failures += 1;
        }
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    let duringOutage: { status: number; body: { status: string; checks: Record<string, string> } };
    try {
      await new Promise((r) => setTimeout(r, 1000));
      await serversCommand('kafka-stop');
      try {
        await new Promise((r) => setTimeout(r, 10_000));
        duringOutage = await app.request('GET', '/readyz', { token: null });
      } finally {
        await serversCommand('kafka-start');
      }
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      writing = false;
      await writer;
    }
    // The service stays ready and says the relay is behind.
    expect(duringOutage.status).toBe(200);
    expect(duringOutage.body.status).toBe('degraded');
    expect(duringOutage.body.checks.kafka).toMatch(/^(retrying|waiting)$/);
    expect(failures).toBe(0);
    await caughtUp(app, 90_000);

    const streams = ids.map((id) => `customer-${id}`);
    const stored = await storedEvents(app, streams);
    expect(stored.length).toBeGreaterThan(100);
    const storedIds = new Set(stored.map((e) => e.id));
    const messages = await readTopics(testKafka(brokers!), [topicFor('customer')], (key) => streams.includes(key), (m) => new Set(m.map((x) => headerText(x.message.headers, HEADERS.eventId))).size >= storedIds.size, 90_000);
    const published = messages.map((m) => fromMessage(m.message));
    expect(new Set(published.map((e) => e.id))).toEqual(storedIds);
    for (const stream of streams) {
      // At least once: a batch retried after the outage may repeat events; the first sight of each is in order.
      const firstSeen: bigint[] = [];
      const seen = new Set<string>();
      for (const e of published.filter((x) => x.streamId === stream))
        if (!seen.has(e.id)) {
          seen.add(e.id);
          firstSeen.push(e.revision);
        }
      expect(firstSeen).toEqual(stored.filter((e) => e.streamId === stream).map((e) => e.revision));
    }
    expect(categoryOf(streams[0]!)).toBe('customer');
  });
});
