import { randomUUID } from 'node:crypto';
import { openServices } from '../src/app/wiring.ts';
import { loadConfig } from '../src/infra/config.ts';
import { silentLogger } from '../src/infra/logger.ts';
import { inboundTopics } from '../src/integrations/erp/contract.ts';
import { ERP_DLQ_TOPIC, startErpInbound } from '../src/integrations/erp/kafka-inbound.ts';
import { changeErpSettings } from '../src/integrations/erp/settings.ts';
import { hireEmployee, systemActor } from '../src/commands/employees.ts';
import { ensureNamedTopics } from '../src/integrations/kafka/topics.ts';

/**
 * `erp_inbound_records_per_s`: master records (70 % customers, 30 % products) waiting on the erp.* topics, applied by
 * the group erp-bridge-in into the embedded event store (projections running, as in production), from the group's
 * start until the last is handled.
 */
export async function erpInboundBench(brokers: string, records: number): Promise<{ records: number; seconds: number; perSecond: number; target: string; met: boolean }> {
  const services = await openServices(loadConfig({ LOG_LEVEL: 'error', CRM_ADMIN_PASSWORD: 'bench-password-1', KAFKA_BROKERS: brokers, KAFKA_TOPIC_PARTITIONS: '3' }), { logger: silentLogger, inMemory: true, startTimers: false });
  try {
    const meta = services.requestMeta('bench');
    const owner = await hireEmployee(services.deps, { fields: { name: 'ERP owner', departmentId: null }, roleIds: [] }, systemActor, meta);
    await changeErpSettings(services.deps, { defaultOwnerId: owner.employeeId }, systemActor, services.requestMeta('bench'));
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
      const messages = Array.from({ length: Math.min(1000, records - i) }, (_, j) => i + j).map((n) =>
        n < customers
          ? { topic: 'erp.customer', key: `${run}-C${n}`, value: JSON.stringify({ erpCode: `${run}-C${n}`, erpVersion: 1, name: `基准客户 ${run} ${n}`, taxNumber: `91B${run}${String(n).padStart(7, '0')}`.toUpperCase(), phone: '021-6000 0000' }) }
          : { topic: 'erp.product', key: `${run}-P${n}`, value: JSON.stringify({ erpCode: `${run}-P${n}`, erpVersion: 1, name: `基准物料 ${n}`, unit: '件', standardPrice: { amount: 100, currency: 'CNY' }, taxRate: 13 }) },
      );
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
