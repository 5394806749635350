import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import { erpContract, type ErpTopic } from '../../src/integrations/erp/contract.ts';
import { kafkaMessageOf, sendToErp, startErpOutbound } from '../../src/integrations/erp/outbound.ts';
import { outboundFrom } from '../../src/cli/erp-replay.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { waitUntil } from '../support/wait.ts';

const CNY = (amount: number) => ({ amount, currency: 'CNY' });
type Out = { position: string; topic: string; key: string; messageId: string; value: Record<string, unknown> };

describe('the ERP bridge, outbound (group erp-bridge-out; pulled at GET /api/v1/integrations/erp/outbound)', () => {
  let app: TestApp;
  const clock = new ManualClock(new Date('2026-12-02T08:00:00.000Z'));
  let productId: string;

  const post = async (path: string, body: unknown) => {
    clock.advance(1000);
    const response = await app.request('POST', path, { body });
    expect(response.status, `${path}: ${JSON.stringify(response.body)}`).toBeLessThan(300);
    return response.body;
  };
  const outbound = async (after = '0'): Promise<{ messages: Out[]; next: string }> => {
    const response = await app.request('GET', `/api/v1/integrations/erp/outbound?after=${after}&limit=1000`);
    expect(response.status).toBe(200);
    return response.body;
  };
  const of = (messages: Out[], key: string) => messages.filter((message) => message.key === key || (message.value.customer as { crmId?: string } | undefined)?.crmId === key);

  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    productId = (await post('/api/v1/products', { code: 'OUT-1', name: '出库泵', unit: '台', standardPrice: CNY(100_000), taxRate: 13 })).id;
  });
  afterAll(() => app.close());

  it("sends each customer version the ERP keeps, each confirmed order with its lines and tax, each payment; every message in its topic's schema", async () => {
    const consumer = await startErpOutbound(app.services);
    try {
      const customerId = (await post('/api/v1/customers', { name: '宁波海天机械', taxNumber: '91330200MA2X0001', phone: '0574-1' })).id;
      await app.request('POST', `/api/v1/customers/${customerId}/assign`, { body: { ownerId: (await app.userWithToken('out.seller', ['salesperson'])).userId } });
      await app.request('PATCH', `/api/v1/customers/${customerId}`, { body: { phone: '0574-2' } });
      const order = await post('/api/v1/orders', { customerId, lines: [{ productId, quantity: 2 }, { productId, quantity: 1, discountPercent: 10 }] });
      await post(`/api/v1/orders/${order.id}/confirm`, {});
      await post(`/api/v1/orders/${order.id}/payments`, { amount: CNY(100_000), receivedAt: '2026-12-02T09:00:00Z', method: 'bank_transfer' });
      await waitUntil(async () => of((await outbound()).messages, customerId).some((m) => m.topic === 'crm.erp.payment'), 10_000, () => 'the payment message');

      const mine = of((await outbound()).messages, customerId);
      expect(mine.map((m) => m.topic)).toEqual(['crm.erp.customer', 'crm.erp.customer', 'crm.erp.order', 'crm.erp.payment']);
      for (const message of mine) expect(erpContract[message.topic as ErpTopic].schema.safeParse(message.value).success).toBe(true);
      // The owner's change is no version for the ERP; the phone's is.
      expect(mine.slice(0, 2).map((m) => m.value.phone)).toEqual(['0574-1', '0574-2']);
      expect(mine[0]!.value).toMatchObject({ crmId: customerId, erpCode: null, name: '宁波海天机械', status: 'active', messageId: `crm.erp.customer:${customerId}:v0` });
      const sent = mine[2]!.value;
      expect(sent).toMatchObject({ orderId: order.id, number: expect.stringMatching(/^SO-2026-/), customer: { crmId: customerId, erpCode: null, name: '宁波海天机械' }, currency: 'CNY' });
      expect(sent.lines).toEqual([
        expect.objectContaining({ lineNo: 1, productCode: 'OUT-1', quantity: 2, unitPrice: 100_000, taxRate: 13, net: 200_000, tax: 26_000, total: 226_000 }),
        expect.objectContaining({ lineNo: 2, quantity: 1, discountPercent: 10, net: 90_000, tax: 11_700, total: 101_700 }),
      ]);
      expect(sent.totals).toEqual({ net: 290_000, tax: 37_700, total: 327_700 });
      expect(mine[3]!.value).toMatchObject({ orderId: order.id, amount: CNY(100_000), method: 'bank_transfer' });

      // Paging: after the last position there is nothing more.
      const { next } = await outbound();
      expect((await outbound(next)).messages).toEqual([]);
    } finally {
      await consumer.close();
    }
  });

  it('sends a customer the ERP never had before its first order, and a redelivered event sends nothing new', async () => {
    // No consumer runs: the order's confirmation is handed over alone, as a Kafka partition might deliver it first.
    const customerId = (await post('/api/v1/customers', { name: '温州正泰配件' })).id;
    const order = await post('/api/v1/orders', { customerId, lines: [{ productId, quantity: 1 }] });
    await post(`/api/v1/orders/${order.id}/confirm`, {});
    const confirmed = (await app.services.eventStore.readStream(`order-${order.id}`)).find((e) => e.type === 'OrderConfirmed')!;
    expect(await sendToErp(app.services.deps, confirmed)).toBe(1);
    const mine = of((await outbound()).messages, customerId);
    expect(mine.map((m) => m.topic)).toEqual(['crm.erp.customer', 'crm.erp.order']);
    expect(await sendToErp(app.services.deps, confirmed)).toBe(1);
    expect(of((await outbound()).messages, customerId)).toHaveLength(2);
  });

  it('sends a confirmed order again, cancelled, when the CRM cancels it; a draft cancelled was never the ERP\'s', async () => {
    const customerId = (await post('/api/v1/customers', { name: '嘉兴取消测试' })).id;
    const confirmed = await post('/api/v1/orders', { customerId, lines: [{ productId, quantity: 3 }] });
    await post(`/api/v1/orders/${confirmed.id}/confirm`, {});
    await post(`/api/v1/orders/${confirmed.id}/cancel`, { reason: '客户撤单' });
    const draft = await post('/api/v1/orders', { customerId, lines: [{ productId, quantity: 1 }] });
    await post(`/api/v1/orders/${draft.id}/cancel`, { reason: '录错' });
    for (const event of await app.services.eventStore.readAll({ filter: { categories: ['order'] } })) if ([confirmed.id, draft.id].some((id) => event.streamId.endsWith(id))) await sendToErp(app.services.deps, event);
    const orders = of((await outbound()).messages, customerId).filter((m) => m.topic === 'crm.erp.order');
    expect(orders.map((m) => [m.key, m.value.status, m.value.cancelReason])).toEqual([
      [confirmed.id, 'confirmed', undefined],
      [confirmed.id, 'cancelled', '客户撤单'],
    ]);
    expect(Number(orders[1]!.value.version)).toBeGreaterThan(Number(orders[0]!.value.version));
    expect(orders[1]!.value).toMatchObject({ confirmedOn: orders[0]!.value.confirmedOn, dueDate: orders[0]!.value.dueDate, lines: orders[0]!.value.lines, totals: orders[0]!.value.totals });
    for (const message of orders) expect(erpContract['crm.erp.order'].schema.safeParse(message.value).success).toBe(true);
  });

  it("records the ERP's acknowledgement on the order once; the reconciliation lists what is unanswered, rejected, or unknown, with its age", async () => {
    const customerId = (await post('/api/v1/customers', { name: '绍兴轻纺' })).id;
    const orders: string[] = [];
    for (let i = 0; i < 3; i++) {
      const order = await post('/api/v1/orders', { customerId, lines: [{ productId, quantity: 1 }] });
      await post(`/api/v1/orders/${order.id}/confirm`, {});
      orders.push(order.id);
    }
    // (The read models follow the log; on MongoDB they may be a moment behind.)
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
    const reconciliation = await app.request('GET', '/api/v1/integrations/erp/reconciliation');
    expect(reconciliation.status, JSON.stringify(reconciliation.body)).toBe(200);
    const before = reconciliation.body as { unacknowledged: { items: { orderId: string }[] } };
    expect(before.unacknowledged.items.map((item) => item.orderId)).toEqual(expect.arrayContaining(orders));
    const ack = (erpCode: string, orderId: string, status: string, erpVersion = 1, reason?: string) => ({ topic: 'erp.order-ack', value: { erpCode, erpVersion, orderId, orderVersion: 1, status, ...(reason ? { reason } : {}), at: '2026-12-02T10:00:00Z' } });
    clock.advance(3_600_000);
    const answer = await app.request('POST', '/api/v1/integrations/erp/inbound', {
      body: { messages: [ack('XSDD-0001', orders[0]!, 'accepted'), ack('XSDD-0001', orders[0]!, 'accepted'), ack('XSDD-0002', orders[1]!, 'rejected', 1, '客户信用冻结'), ack('XSDD-9999', '01900000-0000-7000-8000-00000000dead', 'accepted')] },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.results.map((r: { status: string }) => r.status)).toEqual(['applied', 'unchanged', 'applied', 'rejected']);
    expect(answer.body.results[3].reason).toContain('reconciliation');
    await app.services.runner.waitFor(BigInt(answer.headers.get('x-position')!), 10_000);
    expect((await app.request('GET', `/api/v1/orders/${orders[0]}`)).body.erpAcknowledgement).toMatchObject({ erpDocumentNumber: 'XSDD-0001', status: 'accepted' });
    expect((await app.services.eventStore.readStream(`order-${orders[0]}`)).filter((e) => e.type === 'OrderErpAcknowledged')).toHaveLength(1);

    const report = (await app.request('GET', '/api/v1/integrations/erp/reconciliation')).body;
    const waiting = report.unacknowledged.items.map((item: { orderId: string }) => item.orderId);
    expect(waiting).toContain(orders[2]);
    expect(waiting).not.toContain(orders[0]);
    expect(waiting).not.toContain(orders[1]);
    expect(report.unacknowledged.items.find((item: { orderId: string }) => item.orderId === orders[2]).ageSeconds).toBeGreaterThanOrEqual(3600);
    expect(report.rejected.items).toEqual([expect.objectContaining({ orderId: orders[1], erpDocumentNumber: 'XSDD-0002', reason: '客户信用冻结' })]);
    expect(report.unknownAcknowledgements.items).toEqual([expect.objectContaining({ erpDocumentNumber: 'XSDD-9999', status: 'accepted', ageSeconds: 0 })]);

    // The accepted order is cancelled: a version the ERP must answer too (crm.erp.order, status cancelled), and is
    // awaited again from when it was sent, until an answer to that version (an older one's repeat does not count).
    await post(`/api/v1/orders/${orders[0]}/cancel`, { reason: '客户取消' });
    const cancelledAt = clock.now().toISOString();
    clock.advance(600_000);
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
    const cancelled = (await app.request('GET', '/api/v1/integrations/erp/reconciliation')).body.unacknowledged.items.find((item: { orderId: string }) => item.orderId === orders[0]);
    // Its versions: created 0, confirmed 1, acknowledged 2, cancelled 3.
    expect(cancelled).toMatchObject({ status: 'cancelled', version: 3, sentAt: cancelledAt, ageSeconds: 600 });
    const answerTo = async (orderVersion: number, erpVersion: number) => {
      const response = await app.request('POST', '/api/v1/integrations/erp/inbound', { body: { messages: [{ topic: 'erp.order-ack', value: { erpCode: 'XSDD-0001', erpVersion, orderId: orders[0], orderVersion, status: 'accepted', at: clock.now().toISOString() } }] } });
      await app.services.runner.waitFor(BigInt(response.headers.get('x-position')!), 10_000);
      return (await app.request('GET', '/api/v1/integrations/erp/reconciliation')).body.unacknowledged.items.map((item: { orderId: string }) => item.orderId);
    };
    expect(await answerTo(1, 2)).toContain(orders[0]);
    expect(await answerTo(3, 3)).not.toContain(orders[0]);
    // The order keeps its last answer; internal fields stay out of the API.
    const order = (await app.request('GET', `/api/v1/orders/${orders[0]}`)).body;
    expect(order.erpAcknowledgement).toMatchObject({ orderVersion: 3, status: 'accepted' });
    expect(Object.keys(order).filter((key) => key.startsWith('_erp'))).toEqual([]);
  });

  it('replays the outbound log from a position or from a time (npm run erp:replay), each message with its own id', async () => {
    const all = (await outbound()).messages;
    expect(all.length).toBeGreaterThan(4);
    const third = all[2]!;
    const replayed = [];
    for await (const event of outboundFrom(app.services.eventStore, third.position)) replayed.push(kafkaMessageOf(event));
    expect(replayed.map((m) => m.message.headers['message-id'])).toEqual(all.slice(2).map((m) => m.messageId));
    expect(JSON.parse(replayed[0]!.message.value)).toEqual(third.value);
    const since = [];
    for await (const event of outboundFrom(app.services.eventStore, '2999-01-01T00:00:00Z')) since.push(event);
    expect(since).toEqual([]);
    const everything = [];
    for await (const event of outboundFrom(app.services.eventStore, '2000-01-01T00:00:00Z', 2)) everything.push(event.position.toString());
    expect(everything).toEqual(all.map((m) => m.position));
    await expect(async () => {
      for await (const _ of outboundFrom(app.services.eventStore, 'yesterday')) void _;
    }).rejects.toThrow('--from must be');
  });

  it('is for those who may export integrations', async () => {
    const seller = await app.userWithToken('out.other', ['manager']);
    expect((await app.request('GET', '/api/v1/integrations/erp/outbound', { token: seller.token })).status).toBe(403);
    expect((await app.request('GET', '/api/v1/integrations/erp/outbound?after=x')).status).toBe(400);
  });
});
