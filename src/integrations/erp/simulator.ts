import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';

/**
 * A stand-in ERP for tests and demos: it publishes master data (customers, products, stock rows) in the inbound
 * topics' shapes, reads the confirmed orders the CRM sends (crm.erp.order) and acknowledges each with an ERP
 * document number. It can be told to send duplicates, out-of-order versions and malformed messages. It speaks to
 * the CRM over Kafka (production) or over HTTP (the embedded default: POST …/inbound, GET …/outbound).
 */
export interface SimulationOptions {
  customers: number;
  products: number;
  /** Stock rows: spread over the products and two warehouses. */
  inventory: number;
  /** Send every n-th master record twice (0: never). */
  duplicateEvery: number;
  /** Send every n-th customer as version 2 then version 1 again (0: never). */
  outOfOrderEvery: number;
  /** Messages that break the contract (not JSON, a missing field). */
  malformed: number;
  /** Prefix of every ERP code, so runs do not collide. */
  prefix: string;
  /** Leave every n-th order unacknowledged, as an ERP that lost it would (0: never). */
  dropAckEvery?: number;
}

export interface SimulatedMessage {
  topic: string;
  key: string;
  /** The value as sent: JSON text (a malformed one may be no JSON at all). */
  value: string;
}

export interface ErpTransport {
  publish(messages: readonly SimulatedMessage[]): Promise<void>;
  /** Calls `onOrder` for each confirmed order the CRM sends, until the returned stop is called. */
  orders(onOrder: (order: { orderId: string; number: string; version: number; messageId: string }) => Promise<void>): Promise<() => Promise<void>>;
}

const json = (topic: string, key: string, value: Record<string, unknown>): SimulatedMessage => ({ topic, key, value: JSON.stringify({ erpCode: key, ...value }) });

/** The master data of a simulated ERP, in sending order (duplicates and late versions where asked). */
export function masterData(options: SimulationOptions): SimulatedMessage[] {
  const { prefix } = options;
  const messages: SimulatedMessage[] = [];
  const customer = (i: number, erpVersion: number) =>
    json('erp.customer', `${prefix}C${String(i).padStart(6, '0')}`, { erpVersion, name: `模拟客户 ${prefix} ${i}${erpVersion > 1 ? ` v${erpVersion}` : ''}`, taxNumber: `91${prefix}${String(i).padStart(8, '0')}`.toUpperCase().replace(/[^A-Z0-9]/g, '0').slice(0, 18), phone: `0571-${String(10_000_000 + i).slice(-8)}`, address: `杭州市模拟路 ${i} 号` });
  for (let i = 0; i < options.customers; i++) {
    const late = options.outOfOrderEvery > 0 && i % options.outOfOrderEvery === 0;
    messages.push(customer(i, late ? 2 : 1));
    if (late) messages.push(customer(i, 1));
    if (options.duplicateEvery > 0 && i % options.duplicateEvery === 0) messages.push(customer(i, late ? 2 : 1));
  }
  for (let i = 0; i < options.products; i++) {
    const product = json('erp.product', `${prefix}P${String(i).padStart(6, '0')}`, { erpVersion: 1, name: `模拟物料 ${i}`, spec: `规格-${i % 7}`, unit: '件', standardPrice: { amount: 1_000 + i * 10, currency: 'CNY' }, taxRate: 13 });
    messages.push(product);
    if (options.duplicateEvery > 0 && i % options.duplicateEvery === 0) messages.push(product);
  }
  for (let i = 0; i < options.inventory && options.products > 0; i++) {
    const product = `${prefix}P${String(i % options.products).padStart(6, '0')}`;
    messages.push({ topic: 'erp.inventory', key: product, value: JSON.stringify({ erpCode: product, erpVersion: Math.floor(i / options.products) + 1, warehouse: i % 2 === 0 ? 'WH-HZ' : 'WH-SH', quantity: (i * 7) % 500, asOf: new Date(Date.UTC(2026, 11, 1)).toISOString() }) });
  }
  for (let i = 0; i < options.malformed; i++)
    messages.push(i % 2 === 0 ? { topic: 'erp.customer', key: `${prefix}BAD${i}`, value: '{"erpCode": not json' } : json('erp.product', `${prefix}BAD${i}`, { erpVersion: 1, name: '缺少单位和价格' }));
  return messages;
}

/** The ERP's sales order number for the n-th order it acknowledged. */
export const erpDocumentNumber = (prefix: string, n: number): string => `XSDD-${prefix}${String(n).padStart(6, '0')}`;

/** Runs the simulated ERP: sends the master data, then acknowledges orders until `stop` is called. */
export async function simulateErp(transport: ErpTransport, options: SimulationOptions, log: (line: string) => void = () => {}): Promise<{ sent: number; stop(): Promise<number> }> {
  const messages = masterData(options);
  for (let i = 0; i < messages.length; i += 500) await transport.publish(messages.slice(i, i + 500));
  log(`sent ${messages.length} master-data messages (${options.customers} customers, ${options.products} products, ${options.inventory} stock rows, ${options.malformed} malformed)`);
  let acknowledged = 0;
  const seen = new Set<string>();
  const stop = await transport.orders(async (order) => {
    if (seen.has(order.messageId)) return;
    seen.add(order.messageId);
    if (options.dropAckEvery && seen.size % options.dropAckEvery === 0) {
      log(`dropped the acknowledgement of ${order.number}`);
      return;
    }
    acknowledged++;
    const number = erpDocumentNumber(options.prefix, acknowledged);
    await transport.publish([json('erp.order-ack', number, { erpVersion: 1, orderId: order.orderId, orderVersion: order.version, status: 'accepted', at: new Date().toISOString() })]);
    log(`acknowledged ${order.number} as ${number}`);
  });
  return {
    sent: messages.length,
    async stop() {
      await stop();
      return acknowledged;
    },
  };
}

/** The simulator on the real broker: it produces to the erp.* topics and reads crm.erp.order as its own group. */
export function kafkaTransport(kafka: Kafka, group = `erp-simulator-${randomUUID().slice(0, 8)}`): ErpTransport {
  const producer = kafka.producer();
  let connected: Promise<void> | undefined;
  return {
    async publish(messages) {
      await (connected ??= producer.connect());
      const topics = [...new Set(messages.map((m) => m.topic))];
      await producer.sendBatch({ topicMessages: topics.map((topic) => ({ topic, messages: messages.filter((m) => m.topic === topic).map((m) => ({ key: m.key, value: m.value })) })) });
    },
    async orders(onOrder) {
      const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 500 });
      await consumer.connect();
      await consumer.subscribe({ topics: ['crm.erp.order'], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const value = JSON.parse(message.value!.toString('utf8')) as { orderId: string; number: string; version: number; messageId: string };
          await onOrder(value);
        },
      });
      return async () => {
        await consumer.disconnect();
        if (connected) await producer.disconnect();
      };
    },
  };
}

/** The simulator against the embedded default's HTTP routes (an administrator's token). */
export function httpTransport(baseUrl: string, token: string, pollMs = 500): ErpTransport {
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<Record<string, unknown>>;
  };
  return {
    async publish(messages) {
      // A value that is no JSON cannot travel in a JSON body: it goes as the text it is, and is rejected as such.
      const parse = (text: string): unknown => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return text;
        }
      };
      await call('POST', '/api/v1/integrations/erp/inbound', { messages: messages.map((m) => ({ topic: m.topic, value: parse(m.value) })) });
    },
    async orders(onOrder) {
      let after = '0';
      let stopped = false;
      let polling = Promise.resolve();
      const poll = async () => {
        while (!stopped) {
          const page = (await call('GET', `/api/v1/integrations/erp/outbound?after=${after}&topic=crm.erp.order&limit=500`)) as { messages: { value: { orderId: string; number: string; version: number; messageId: string } }[]; next: string };
          for (const message of page.messages) await onOrder(message.value);
          after = page.next;
          if (page.messages.length === 0) await new Promise((resolve) => setTimeout(resolve, pollMs));
        }
      };
      polling = poll();
      return async () => {
        stopped = true;
        await polling;
      };
    },
  };
}
