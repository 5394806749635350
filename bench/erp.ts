import { randomUUID } from 'node:crypto';
import { openServices } from '../src/app/wiring.ts';
import { loadConfig } from '../src/infra/config.ts';
import { silentLogger } from '../src/infra/logger.ts';
import { inboundTopics } from '../src/integrations/erp/contract.ts';
import { ERP_DLQ_TOPIC, startErpInbound } from '../src/integrations/erp/kafka-inbound.ts';
import { changeErpSettings } from '../src/integrations/erp/settings.ts';
import { hireEmployee, systemActor } from '../src/commands/employees.ts';
import { ensureNamedTopics } from '../src/integrations/kafka/topics.ts';
import { applyInbound } from '../src/integrations/erp/inbound.ts';
import { erpBridgeActor } from '../src/integrations/erp/inbound-kinds.ts';
import { derivedIds } from '../src/infra/ids.ts';

/** The n-th master record of a run: the first `customers` are customers, the rest products. */
function masterRecord(run: string, n: number, customers: number): { topic: 'erp.customer' | 'erp.product'; value: { erpCode: string } & Record<string, unknown> } {
  return n < customers
    ? { topic: 'erp.customer', value: { erpCode: `${run}-C${n}`, erpVersion: 1, name: `基准客户 ${run} ${n}`, taxNumber: `91B${run}${String(n).padStart(7, '0')}`.toUpperCase(), phone: '021-6000 0000' } }
    : { topic: 'erp.product', value: { erpCode: `${run}-P${n}`, erpVersion: 1, name: `基准物料 ${n}`, unit: '件', standardPrice: { amount: 100, currency: 'CNY' }, taxRate: 13 } };
}

/** Services as both measurements use them (the embedded store in memory, projections running, no timers), with a default owner for the ERP's records. */
async function benchServices(env: Record<string, string>) {
  const services = await openServices(loadConfig({ LOG_LEVEL: 'error', CRM_ADMIN_PASSWORD: 'bench-password-1', ...env }), { logger: silentLogger, inMemory: true, startTimers: false });
  const owner = await hireEmployee(services.deps, { fields: { name: 'ERP owner', departmentId: null }, roleIds: [] }, systemActor, services.requestMeta('bench'));
  await changeErpSettings(services.deps, { defaultOwnerId: owner.employeeId }, systemActor, services.requestMeta('bench'));
  return { services, defaultOwnerId: owner.employeeId };
}

/**
 * The same-run baseline of `erp_inbound_records_per_s`: the same records applied by the command path alone
 * (`applyInbound`, 16 at once as the bridge applies a batch's keys), with the projections running and no Kafka (so
 * no consumer, no relay publishing the crm.* events): what the bridge would do if the broker cost nothing.
 */
export async function erpApplyBaseline(records: number): Promise<{ records: number; seconds: number; perSecond: number }> {
  const { services, defaultOwnerId } = await benchServices({});
  try {
    const run = randomUUID().slice(0, 8);
    const customers = Math.round(records * 0.7);
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      for (let n = next++; n < records; n = next++) {
        const { topic, value } = masterRecord(run, n, customers);
        const requestId = `bench:${topic}:${n}`;
        const result = await applyInbound({ deps: services.deps, readStore: services.readStore, actor: erpBridgeActor, meta: { correlationId: requestId, requestId, ids: derivedIds(requestId) }, defaultOwnerId }, topic, value);
        if (result.status !== 'applied') throw new Error(`baseline: ${topic} ${n} ${JSON.stringify(result)}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const seconds = (performance.now() - started) / 1000;
    return { records, seconds: Math.round(seconds * 100) / 100, perSecond: Math.round(records / seconds) };
  } finally {
    await services.close();
  }
}

/**
 * `erp_inbound_records_per_s`: master records (70 % customers, 30 % products) waiting on the erp.* topics, applied by
 * the group erp-bridge-in into the embedded event store (projections running, as in production), from the group's
 * start until the last is handled.
 */
export async function erpInboundBench(brokers: string, records: number): Promise<{ records: number; seconds: number; perSecond: number; target: string; met: boolean }> {
  const { services } = await benchServices({ KAFKA_BROKERS: brokers, KAFKA_TOPIC_PARTITIONS: '3' });
  try {
    const kafka = services.kafka!;
    await ensureNamedTopics(kafka.client, [...inboundTopics, ERP_DLQ_TOPIC], kafka.topics, silentLogger);
    const run = randomUUID().slice(0, 8);
    const group = `erp-bench-${run}`;
    const admin = kafka.client.admin();
    await admin.connect();
    for (const topic of inboundTopics) await admin.setOffsets({ groupId: group, topic, partitions: (await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => ({ partition, offset: high })) });
    await admin.disconnect();
    const producer = kafka.client.producer();
    await producer.connect();
    const customers = Math.round(records * 0.7);
    for (let i = 0; i < records; i += 1000) {
      const messages = Array.from({ length: Math.min(1000, records - i) }, (_, j) => masterRecord(run, i + j, customers)).map(({ topic, value }) => ({ topic, key: value.erpCode, value: JSON.stringify(value) }));
      await producer.sendBatch({ topicMessages: ['erp.customer', 'erp.product'].map((topic) => ({ topic, messages: messages.filter((m) => m.topic === topic).map(({ key, value }) => ({ key, value })) })).filter((t) => t.messages.length) });
    }
    await producer.disconnect();
    const handled = () => services.erp.snapshot().reduce((sum, topic) => sum + topic.messages, 0);
    const started = performance.now();
    const consumer = await startErpInbound(kafka.client, kafka.topics, services, group);
    while (handled() < records) await new Promise((resolve) => setTimeout(resolve, 20));
    const seconds = (performance.now() - started) / 1000;
    await consumer.close();
    const perSecond = Math.round(records / seconds);
    return { records, seconds: Math.round(seconds * 100) / 100, perSecond, target: '>= 2,000/s', met: perSecond >= 2000 };
  } finally {
    await services.close();
  }
}
