import { randomUUID } from 'node:crypto';
import type { Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundTopics } from '../../src/integrations/erp/contract.ts';
import { ERP_DLQ_TOPIC, startErpInbound } from '../../src/integrations/erp/kafka-inbound.ts';
import { startErpOutbound, startErpPublisher } from '../../src/integrations/erp/outbound.ts';
import { kafkaTransport, simulateErp } from '../../src/integrations/erp/simulator.ts';
import { ensureNamedTopics } from '../../src/integrations/kafka/topics.ts';
import { CUSTOMERS } from '../../src/projections/customers.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { readTopics, testKafka } from '../support/kafka.ts';
import { serverUrl } from '../support/servers.ts';
import { waitUntil } from '../support/wait.ts';

const brokers = serverUrl('KAFKA_BROKERS');
const CUSTOMERS_SENT = 7_000;
const PRODUCTS_SENT = 3_000;
const TWICE = 300;

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

  beforeAll(async () => {
    app = await startTestApp({ KAFKA_BROKERS: brokers!, KAFKA_TOPIC_PARTITIONS: '3' });
    const owner = await app.userWithToken(`erp.owner.${run}`, ['salesperson'], await app.department(`ERP ${run}`));
    expect((await app.request('PUT', '/api/v1/settings/erp', { body: { defaultOwnerId: owner.userId } })).status).toBe(200);
    // Only what this run sends: the group starts at the topics' ends (a shared broker keeps earlier runs' messages).
    const kafka = app.services.kafka!;
    await ensureNamedTopics(kafka.client, [...inboundTopics, ERP_DLQ_TOPIC], kafka.topics, app.services.logger);
    const admin = kafka.client.admin();
    await admin.connect();
    for (const topic of inboundTopics) await admin.setOffsets({ groupId: group, topic, partitions: (await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => ({ partition, offset: high })) });
    await admin.disconnect();
    const consumer = await startErpInbound(kafka.client, kafka.topics, app.services, group);
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
      const sent = await readTopics(testKafka(brokers!), ['crm.erp.customer', 'crm.erp.order'], (key) => key === customer!._id || key === order.body.id, (messages) => messages.some((m) => m.topic === 'crm.erp.order'), 60_000);
      expect(sent.some((m) => m.topic === 'crm.erp.customer')).toBe(true);
      expect(new Set(sent.map((m) => m.message.headers!['message-id']!.toString())).size).toBe(sent.length);
    } finally {
      await simulation.stop();
      await publisher.close();
      await outbound.close();
    }
  }, 300_000);
});
