import { randomUUID } from 'node:crypto';
import type { Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundTopics } from '../../src/integrations/erp/contract.ts';
import { ERP_DLQ_TOPIC, startErpInbound } from '../../src/integrations/erp/kafka-inbound.ts';
import { startErpOutbound, startErpPublisher } from '../../src/integrations/erp/outbound.ts';
import { kafkaTransport, simulateErp } from '../../src/integrations/erp/simulator.ts';
import { ensureNamedTopics } from '../../src/integrations/kafka/topics.ts';
import { CONTACTS, CUSTOMERS } from '../../src/projections/customers.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { readTopics, skipToEnds, testKafka } from '../support/kafka.ts';
import { serverUrl, serversCommand } from '../support/servers.ts';
import { waitUntil } from '../support/wait.ts';

const brokers = serverUrl('KAFKA_BROKERS');
const CUSTOMERS_SENT = 7_000;
const PRODUCTS_SENT = 3_000;
const TWICE = 300;
/** How long this suite's bridge waits for a contact's customer before dead-lettering the contact. */
const REFERENCE_WAIT_MS = 20_000;

/**
 * The ERP bridge's inbound side on the real broker: the consumer group reads the ERP topics, a full sync of 10,000
 * master records lands once, redeliveries and out-of-order versions change nothing, and what cannot be taken goes to
 * the dead-letter topic with its reason while the rest goes on.
 */
describe.skipIf(!brokers)('the ERP bridge on Kafka: inbound (group erp-bridge-in), outbound (erp-bridge-out and the publisher), the simulated ERP', () => {
  let app: TestApp;
  const run = randomUUID().slice(0, 8);
  const group = `erp-bridge-in-test-${run}`;
  let stop: (() => Promise<void>) | undefined;
  let owner: { userId: string };

  beforeAll(async () => {
    app = await startTestApp({ KAFKA_BROKERS: brokers!, KAFKA_TOPIC_PARTITIONS: '3' });
    owner = await app.userWithToken(`erp.owner.${run}`, ['salesperson'], await app.department(`ERP ${run}`));
    expect((await app.request('PUT', '/api/v1/settings/erp', { body: { defaultOwnerId: owner.userId } })).status).toBe(200);
    // Only what this run sends: the group starts at the topics' ends (a shared broker keeps earlier runs' messages).
    const kafka = app.services.kafka!;
    await ensureNamedTopics(kafka.client, [...inboundTopics, ERP_DLQ_TOPIC], kafka.topics, app.services.logger);
    await skipToEnds(kafka.client, [group], inboundTopics);
    const consumer = await startErpInbound(kafka.client, kafka.topics, app.services, group, { referenceWaitMs: REFERENCE_WAIT_MS });
    stop = () => consumer.close();
  }, 120_000);
  afterAll(async () => {
    await stop?.();
    await app?.close();
  });

  it('syncs 10,000 master records once, whatever is delivered twice or late; what it cannot take goes to crm.erp.dlq', async () => {
    const producer = testKafka(brokers!).producer();
    await producer.connect();
    const value = (topic: string, erpCode: string, body: Record<string, unknown>): [string, Message] => [topic, { key: erpCode, value: JSON.stringify({ erpCode, ...body }) }];
    const customer = (i: number, erpVersion: number, name = `ERP同步客户 ${run} ${i}`) => value('erp.customer', `${run}-C${i}`, { erpVersion, name, taxNumber: `91${run}${String(i).padStart(6, '0')}`.toUpperCase(), phone: `021-${String(i).padStart(8, '0')}` });
    const product = (i: number) => value('erp.product', `${run}-P${i}`, { erpVersion: 1, name: `ERP物料 ${i}`, unit: '件', standardPrice: { amount: 100 + i, currency: 'CNY' }, taxRate: 13 });
    const sends: [string, Message][] = [];
    for (let i = 0; i < CUSTOMERS_SENT; i++) sends.push(customer(i, 1));
    for (let i = 0; i < PRODUCTS_SENT; i++) sends.push(product(i));
    // Delivered twice (the same version), and a newer version followed by the older one again (out of order).
    for (let i = 0; i < TWICE; i++) sends.push(customer(i, 1));
    for (let i = TWICE; i < 2 * TWICE; i++) sends.push(customer(i, 2, `ERP同步客户 ${run} ${i} 新名`), customer(i, 1));
    sends.push(['erp.customer', { key: `${run}-bad-json`, value: '{not json' }], value('erp.product', `${run}-bad-schema`, { erpVersion: 1, name: '缺单位', standardPrice: { amount: 1, currency: 'CNY' }, taxRate: 13 }));
    const started = Date.now();
    for (let i = 0; i < sends.length; i += 1000) {
      const chunk = sends.slice(i, i + 1000);
      await producer.sendBatch({ topicMessages: [...new Set(chunk.map(([topic]) => topic))].map((topic) => ({ topic, messages: chunk.filter(([t]) => t === topic).map(([, m]) => m) })) });
    }
    await producer.disconnect();
    const handled = () => app.services.erp.snapshot().reduce((sum, topic) => sum + topic.messages, 0);
    await waitUntil(() => handled() >= sends.length, 600_000, () => `${handled()} of ${sends.length} messages handled`);
    const seconds = (Date.now() - started) / 1000;
    console.log(`erp inbound over Kafka: ${sends.length} messages in ${seconds.toFixed(1)} s (${Math.round(sends.length / seconds)}/s)`);
    const byTopic = Object.fromEntries(app.services.erp.snapshot().map((t) => [t.topic, t]));
    expect(byTopic['erp.customer']).toMatchObject({ applied: CUSTOMERS_SENT + TWICE, unchanged: 2 * TWICE, rejected: 1 });
    expect(byTopic['erp.product']).toMatchObject({ applied: PRODUCTS_SENT, rejected: 1 });
    // The status route reports the group's lag per topic: nothing left once its offsets are committed.
    await waitUntil(async () => (await app.request('GET', '/api/v1/integrations/erp/status')).body.inboundLag?.['erp.customer'] === 0, 30_000, () => 'the committed offsets');
    expect((await app.request('GET', '/api/v1/integrations/erp/status')).body).toMatchObject({ transport: 'kafka', inboundLag: { 'erp.customer': 0, 'erp.product': 0 } });

    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 60_000);
    const customers = app.services.readStore.collection(CUSTOMERS);
    expect(await customers.countDocuments({ erpCode: { $regex: `^${run}-C` } })).toBe(CUSTOMERS_SENT);
    expect(await app.services.readStore.collection('products').countDocuments({ erpCode: { $regex: `^${run}-P` } })).toBe(PRODUCTS_SENT);
    // Once: one registration each; the late older version took back nothing.
    const twice = await customers.findOne({ erpCode: `${run}-C0` });
    expect((await app.services.eventStore.readStream(`customer-${twice!._id}`)).map((e) => e.type)).toEqual(['CustomerRegistered']);
    const late = await customers.findOne({ erpCode: `${run}-C${TWICE}` });
    expect(late).toMatchObject({ name: `ERP同步客户 ${run} ${TWICE} 新名` });
    expect((await app.services.eventStore.readStream(`customer-${late!._id}`)).map((e) => e.type)).toEqual(['CustomerRegistered', 'CustomerChanged']);

    const dead = await readTopics(testKafka(brokers!), [ERP_DLQ_TOPIC], (key) => key.startsWith(run), (messages) => messages.length >= 2, 60_000);
    const letters = Object.fromEntries(dead.map((d) => [d.key, JSON.parse(d.message.value!.toString()) as { topic: string; value: string; reason: string }]));
    expect(letters[`${run}-bad-json`]).toMatchObject({ topic: 'erp.customer', value: '{not json', reason: 'The message value is not JSON' });
    expect(letters[`${run}-bad-schema`]).toMatchObject({ topic: 'erp.product', reason: expect.stringContaining('unit') });
  }, 900_000);

  const produce = async (messages: { topic: string; key: string; value: unknown }[]) => {
    const producer = testKafka(brokers!).producer();
    await producer.connect();
    for (let i = 0; i < messages.length; i += 1000) {
      const chunk = messages.slice(i, i + 1000);
      await producer.sendBatch({ topicMessages: [...new Set(chunk.map((m) => m.topic))].map((topic) => ({ topic, messages: chunk.filter((m) => m.topic === topic).map((m) => ({ key: m.key, value: JSON.stringify(m.value) })) })) });
    }
    await producer.disconnect();
  };

  it('loses nothing when the broker restarts in the middle of a sync', async () => {
    const count = 3_000;
    const messages = Array.from({ length: count }, (_, i) => ({ topic: 'erp.customer', key: `${run}-R${i}`, value: { erpCode: `${run}-R${i}`, erpVersion: 1, name: `重启客户 ${run} ${i}` } }));
    await produce(messages);
    const customers = app.services.readStore.collection(CUSTOMERS);
    const synced = async () => {
      await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 30_000);
      return customers.countDocuments({ erpCode: { $regex: `^${run}-R` } });
    };
    await waitUntil(async () => (await synced()) > 100, 60_000, () => 'the sync to begin');
    await serversCommand('kafka-stop');
    const during = await synced();
    try {
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    } finally {
      await serversCommand('kafka-start');
    }
    await waitUntil(async () => (await synced()) >= count, 240_000, () => 'every customer after the restart');
    console.log(`broker restart: ${during} of ${count} synced when it stopped; all ${count} after`);
    expect(during).toBeLessThan(count);
    expect(await synced()).toBe(count);
    // Each once: one registration per ERP record.
    const ids = (await customers.find({ erpCode: { $regex: `^${run}-R` } }, { projection: { _id: 1 } })).map((doc) => doc._id);
    expect(new Set(ids).size).toBe(count);
    for (const id of ids.slice(0, 50)) expect((await app.services.eventStore.readStream(`customer-${id}`)).map((e) => e.type)).toEqual(['CustomerRegistered']);
  }, 600_000);

  it('waits for a default owner instead of dead-lettering new ERP customers, then takes them', async () => {
    expect((await app.request('PUT', '/api/v1/settings/erp', { body: { defaultOwnerId: null } })).status).toBe(200);
    try {
      await produce(Array.from({ length: 20 }, (_, i) => ({ topic: 'erp.customer', key: `${run}-W${i}`, value: { erpCode: `${run}-W${i}`, erpVersion: 1, name: `待定负责人客户 ${run} ${i}` } })));
      await waitUntil(async () => (await app.request('GET', '/api/v1/integrations/erp/status')).body.topics?.find((t: { topic: string }) => t.topic === 'erp.customer')?.lastError?.includes('erp.default_owner_missing'), 30_000, () => 'the status to say what the bridge waits for');
      expect((await app.request('GET', '/readyz', { token: null })).body).toMatchObject({ status: 'degraded' });
    } finally {
      expect((await app.request('PUT', '/api/v1/settings/erp', { body: { defaultOwnerId: owner.userId } })).status).toBe(200);
    }
    const customers = app.services.readStore.collection(CUSTOMERS);
    await waitUntil(async () => {
      await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 30_000);
      return (await customers.countDocuments({ erpCode: { $regex: `^${run}-W` }, ownerId: owner.userId })) === 20;
    }, 60_000, () => 'the waiting customers, once the default owner is set');
    // None of them went to the dead-letter topic.
    const letters = await readTopics(testKafka(brokers!), [ERP_DLQ_TOPIC], (key) => key.startsWith(`${run}-W`), () => false, 5_000).catch(() => []);
    expect(letters).toEqual([]);
  }, 120_000);

  it("takes a contact that came before its customer once the customer is synced; dead-letters one whose customer never comes, after the wait", async () => {
    const contact = (erpCode: string, customerErpCode: string, name: string) => ({ topic: 'erp.contact', key: erpCode, value: { erpCode, erpVersion: 1, customerErpCode, name } });
    const customerErpCode = `${run}-E1`;
    const started = Date.now();
    await produce([contact(`${run}-EK1`, customerErpCode, '先到的联系人'), contact(`${run}-EK0`, `${run}-nobody`, '无主联系人')]);
    const contactStatus = async () => (await app.request('GET', '/api/v1/integrations/erp/status')).body.topics?.find((t: { topic: string }) => t.topic === 'erp.contact');
    await waitUntil(async () => (await contactStatus())?.lastError?.includes('erp.reference_not_synced'), 30_000, () => 'the status to say the contact waits for its customer');
    await produce([{ topic: 'erp.customer', key: customerErpCode, value: { erpCode: customerErpCode, erpVersion: 1, name: `后到的客户 ${run}` } }]);
    const contacts = app.services.readStore.collection(CONTACTS);
    await waitUntil(async () => {
      await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 30_000);
      return (await contacts.countDocuments({ erpCode: `${run}-EK1` })) === 1;
    }, 60_000, () => 'the contact, once its customer came');
    const customerId = (await app.services.readStore.collection(CUSTOMERS).findOne({ erpCode: customerErpCode }))!._id;
    expect(await contacts.findOne({ erpCode: `${run}-EK1` })).toMatchObject({ customerId, name: '先到的联系人' });
    // The other waited its time (from when the bridge first saw it), then went to the dead-letter topic, saying so.
    const [letter] = await readTopics(testKafka(brokers!), [ERP_DLQ_TOPIC], (key) => key.startsWith(`${run}-EK`), (messages) => messages.length >= 1, REFERENCE_WAIT_MS + 60_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(REFERENCE_WAIT_MS);
    expect(letter!.key).toBe(`${run}-EK0`);
    expect(JSON.parse(letter!.message.value!.toString())).toMatchObject({ topic: 'erp.contact', reason: expect.stringMatching(/^erp\.reference_not_synced: Its customer .*-nobody is not synced yet.*\(waited \d+ s for it\)$/) });
    expect(await contacts.countDocuments({ erpCode: `${run}-EK0` })).toBe(0);
  }, 180_000);

  it('detects a conflict between a CRM edit and an ERP change sent over Kafka, and settles it', async () => {
    const erpCode = `${run}-K1`;
    await produce([{ topic: 'erp.customer', key: erpCode, value: { erpCode, erpVersion: 1, name: `冲突客户 ${run}`, phone: '021-1000' } }]);
    const customers = app.services.readStore.collection(CUSTOMERS);
    await waitUntil(async () => (await customers.countDocuments({ erpCode })) === 1, 60_000, () => 'the customer');
    const id = (await customers.findOne({ erpCode }))!._id;
    const edited = await app.request('PATCH', `/api/v1/customers/${id}`, { body: { phone: '021-2000' } });
    expect(edited.status).toBe(200);
    await produce([{ topic: 'erp.customer', key: erpCode, value: { erpCode, erpVersion: 2, name: `冲突客户 ${run}`, phone: '021-3000' } }]);
    let conflictId: string | undefined;
    await waitUntil(
      async () => {
        await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
        conflictId = (await app.request('GET', `/api/v1/integrations/erp/conflicts?recordId=${id}`)).body.items[0]?.id;
        return conflictId !== undefined;
      },
      60_000,
      () => 'the conflict',
    );
    expect((await app.request('GET', `/api/v1/customers/${id}`)).body.phone).toBe('021-2000');
    const settled = await app.request('POST', `/api/v1/integrations/erp/conflicts/${conflictId}/resolve`, { body: { take: 'erp' } });
    expect(settled.status).toBe(200);
    await app.services.runner.waitFor(BigInt(settled.headers.get('x-position')!), 10_000);
    expect((await app.request('GET', `/api/v1/customers/${id}`)).body.phone).toBe('021-3000');
  }, 300_000);

  it('round trip with the simulated ERP on Kafka: master data in, a confirmed order out on crm.erp.order, its acknowledgement back on the order', async () => {
    const kafka = app.services.kafka!;
    const outbound = await startErpOutbound(app.services, `erp-bridge-out-test-${run}`);
    const publisher = await startErpPublisher(kafka.client, kafka.topics, app.services);
    const prefix = `R${run.slice(0, 4)}`.toUpperCase();
    const simulation = await simulateErp(kafkaTransport(testKafka(brokers!)), { customers: 30, products: 5, inventory: 10, duplicateEvery: 3, outOfOrderEvery: 5, malformed: 2, prefix });
    try {
      const customers = app.services.readStore.collection(CUSTOMERS);
      await waitUntil(async () => (await customers.countDocuments({ erpCode: { $regex: `^${prefix}C` } })) === 30, 60_000, () => 'the simulated customers');
      await waitUntil(async () => (await app.services.readStore.collection('products').countDocuments({ erpCode: { $regex: `^${prefix}P` } })) === 5, 60_000, () => 'the simulated products');
      const customer = await customers.findOne({ erpCode: `${prefix}C000005` });
      expect(customer).toMatchObject({ name: `模拟客户 ${prefix} 5 v2` });
      const product = await app.services.readStore.collection('products').findOne({ erpCode: `${prefix}P000002` });
      const order = await app.request('POST', '/api/v1/orders', { body: { customerId: customer!._id, lines: [{ productId: product!._id, quantity: 2 }] } });
      expect((await app.request('POST', `/api/v1/orders/${order.body.id}/confirm`, { body: {} })).status).toBe(200);
      await waitUntil(async () => (await app.request('GET', `/api/v1/orders/${order.body.id}`)).body.erpAcknowledgement !== undefined, 120_000, () => 'the acknowledgement of the order');
      expect((await app.request('GET', `/api/v1/orders/${order.body.id}`)).body.erpAcknowledgement).toMatchObject({ erpDocumentNumber: expect.stringMatching(new RegExp(`^XSDD-${prefix}`)), status: 'accepted' });
      // The ERP got the customer before its order, on their topics, each message once.
      const sent = await readTopics(testKafka(brokers!), ['crm.erp.customer', 'crm.erp.order'], (key) => key === customer!._id || key === order.body.id, (messages) => messages.some((m) => m.topic === 'crm.erp.order') && messages.some((m) => m.topic === 'crm.erp.customer'), 60_000);
      expect(sent.some((m) => m.topic === 'crm.erp.customer')).toBe(true);
      expect(new Set(sent.map((m) => m.message.headers!['message-id']!.toString())).size).toBe(sent.length);
    } finally {
      await simulation.stop();
      await publisher.close();
      await outbound.close();
    }
  }, 300_000);

  it('sends each confirmed order once across a restart of the outbound consumer and publisher; the reconciliation shows the acknowledgements the ERP dropped', async () => {
    const kafka = app.services.kafka!;
    const group = `erp-bridge-out-restart-${run}`;
    const prefix = `Q${run.slice(0, 4)}`.toUpperCase();
    const simulation = await simulateErp(kafkaTransport(testKafka(brokers!)), { customers: 1, products: 1, inventory: 0, duplicateEvery: 0, outOfOrderEvery: 0, malformed: 0, prefix, dropAckEvery: 4 });
    const customers = app.services.readStore.collection(CUSTOMERS);
    await waitUntil(async () => (await customers.countDocuments({ erpCode: `${prefix}C000000` })) === 1 && (await app.services.readStore.collection('products').countDocuments({ erpCode: `${prefix}P000000` })) === 1, 60_000, () => 'the master data');
    const customerId = (await customers.findOne({ erpCode: `${prefix}C000000` }))!._id;
    const productId = (await app.services.readStore.collection('products').findOne({ erpCode: `${prefix}P000000` }))!._id;
    const orders: string[] = [];
    const confirmSome = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const order = await app.request('POST', '/api/v1/orders', { body: { customerId, lines: [{ productId, quantity: 1 }] } });
        expect((await app.request('POST', `/api/v1/orders/${order.body.id}/confirm`, { body: {} })).status).toBe(200);
        orders.push(order.body.id);
      }
    };
    let outbound = await startErpOutbound(app.services, group);
    let publisher = await startErpPublisher(kafka.client, kafka.topics, app.services);
    try {
      await confirmSome(6);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await outbound.close();
      await publisher.close();
      await confirmSome(6);
      outbound = await startErpOutbound(app.services, group);
      publisher = await startErpPublisher(kafka.client, kafka.topics, app.services);
      const sent = await readTopics(testKafka(brokers!), ['crm.erp.order'], (key) => orders.includes(key), (messages) => new Set(messages.map((m) => m.key)).size >= orders.length, 120_000);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const again = await readTopics(testKafka(brokers!), ['crm.erp.order'], (key) => orders.includes(key), (messages) => messages.length >= sent.length, 60_000);
      expect(again).toHaveLength(orders.length);
      expect(new Set(again.map((m) => m.message.headers!['message-id']!.toString())).size).toBe(orders.length);

      // The simulated ERP left every 4th order it saw unanswered: the reconciliation names exactly those.
      await waitUntil(
        async () => {
          await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
          const answered = await app.services.readStore.collection('orders').countDocuments({ _id: { $in: orders }, erpAcknowledgement: { $exists: true } });
          return answered >= orders.length - Math.floor(orders.length / 4);
        },
        120_000,
        () => 'the acknowledgements',
      );
      const report = (await app.request('GET', '/api/v1/integrations/erp/reconciliation?limit=1000')).body;
      const waiting = report.unacknowledged.items.map((item: { orderId: string }) => item.orderId).filter((id: string) => orders.includes(id));
      expect(waiting).toHaveLength(Math.floor(orders.length / 4));
    } finally {
      await simulation.stop();
      await publisher.close();
      await outbound.close();
    }
  }, 600_000);
});
