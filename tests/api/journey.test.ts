import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/** Lead to cash over HTTP: lead → convert → stages → quote → accept → order → shipments → payments → completed. */
describe('the sales journey, lead to cash', () => {
  let app: TestApp;
  const clock = new ManualClock(new Date('2026-11-03T02:00:00.000Z'));
  beforeAll(async () => {
    app = await startTestApp({}, { clock });
  });
  afterAll(async () => app.close());
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);

  it('works end to end and keeps the funnel, receivables and ranking right along the way', async () => {
    const department = await app.department('华东销售部');
    const seller = await app.userWithToken('journey.seller', ['salesperson'], department);
    await app.userWithToken('journey.manager', ['manager'], department);
    const request = async (method: string, path: string, body?: unknown) => {
      // The clock moves during the journey: use a fresh token for every call.
      const token = await app.login('journey.seller', 'journey.seller-password-1');
      return app.request(method, path, { token, ...(body === undefined ? {} : { body }) });
    };

    const pump = (await app.request('POST', '/api/v1/products', { body: { code: 'PUMP-200', name: '离心泵 200', unit: '台', standardPrice: { amount: 10_000_00, currency: 'CNY' }, taxRate: 13 } })).body.id;
    const valve = (await app.request('POST', '/api/v1/products', { body: { code: 'VALVE-50', name: '球阀 DN50', unit: '个', standardPrice: { amount: 333_33, currency: 'CNY' }, taxRate: 13 } })).body.id;

    // Lead → convert with an opportunity.
    const lead = (await request('POST', '/api/v1/leads', { company: '无锡宏达机械有限公司', person: '孙丽', phone: '0510-8888 6666', source: '展会' })).body.id;
    const conversion = (await request('POST', `/api/v1/leads/${lead}/convert`, { createOpportunity: { name: '宏达 泵阀采购', amount: { amount: 20_000_00, currency: 'CNY' }, expectedCloseDate: '2026-11-30' } })).body;
    const { customerId, opportunityId } = conversion;

    // Stages, 2 days each.
    clock.advance(2 * 86_400_000);
    expect((await request('POST', `/api/v1/opportunities/${opportunityId}/stage`, { stage: 'needs_confirmed' })).status).toBe(200);
    clock.advance(2 * 86_400_000);
    expect((await request('POST', `/api/v1/opportunities/${opportunityId}/stage`, { stage: 'proposal' })).status).toBe(200);
    await caughtUp();
    const funnel = async () => (await app.request('GET', `/api/v1/reports/funnel?from=2026-11-01&to=2026-12-01&ownerId=${seller.userId}`)).body;
    expect((await funnel()).stages.find((s: { stage: string }) => s.stage === 'proposal')).toMatchObject({ count: 1, amount: { amount: 20_000_00 }, weightedAmount: { amount: 12_000_00 } });

    // Quote with a discount: totals per line, half-up.
    const quote = await request('POST', '/api/v1/quotes', {
      customerId,
      opportunityId,
      validUntil: '2026-11-20',
      lines: [
        { productId: pump, quantity: 2, discountPercent: 5 },
        { productId: valve, quantity: 3 },
      ],
    });
    expect(quote.status).toBe(201);
    await caughtUp();
    const drafted = (await request('GET', `/api/v1/quotes/${quote.body.id}`)).body;
    // pump: 2 × 1,000,000 × 0.95 = 1,900,000 net, tax 247,000; valve: 3 × 33,333 = 99,999 net, tax 12,999.87 → 13,000
    expect(drafted.lines.map((l: { net: number; tax: number; total: number }) => [l.net, l.tax, l.total])).toEqual([
      [1_900_000, 247_000, 2_147_000],
      [99_999, 13_000, 112_999],
    ]);
    expect(drafted.totals).toEqual({ net: 1_999_999, tax: 260_000, total: 2_259_999 });

    // Revise (a new version; the first stays readable), send, accept → order.
    expect((await request('POST', `/api/v1/quotes/${quote.body.id}/revise`, { validUntil: '2026-11-25', lines: [{ productId: pump, quantity: 2, discountPercent: 5 }, { productId: valve, quantity: 4 }] })).status).toBe(200);
    expectProblem(await request('POST', `/api/v1/quotes/${quote.body.id}/accept`, {}), 409, 'quote.not_sent');
    expect((await request('POST', `/api/v1/quotes/${quote.body.id}/send`, {})).status).toBe(200);
    await caughtUp();
    const revised = (await request('GET', `/api/v1/quotes/${quote.body.id}`)).body;
    expect(revised).toMatchObject({ version: 2, status: 'sent', totals: { total: 2_147_000 + 150_665 } });
    expect(revised.versions).toHaveLength(2);
    const accepted = await request('POST', `/api/v1/quotes/${quote.body.id}/accept`, { paymentTermsDays: 30 });
    expect(accepted.status).toBe(200);
    expect(accepted.body.number).toBe('SO-2026-000001');
    const orderId = accepted.body.orderId;
    expect((await request('POST', `/api/v1/opportunities/${opportunityId}/win`, {})).status).toBe(200);

    // Confirm (the department manager approves), ship in two parts, never more than ordered.
    expect((await app.request('POST', `/api/v1/orders/${orderId}/confirm`, { token: await app.login('journey.manager', 'journey.manager-password-1'), body: {} })).status).toBe(200);
    await caughtUp();
    const order = (await request('GET', `/api/v1/orders/${orderId}`)).body;
    expect(order).toMatchObject({ number: 'SO-2026-000001', status: 'confirmed', total: { amount: 2_297_665 }, receivable: { amount: 2_297_665 }, dueDate: '2026-12-07' });
    const [pumpLine, valveLine] = order.lines;
    expectProblem(await request('POST', `/api/v1/orders/${orderId}/shipments`, { shippedAt: '2026-11-08T08:00:00+08:00', lines: [{ lineId: pumpLine.id, quantity: 3 }] }), 409, 'order.over_shipment');
    expect((await request('POST', `/api/v1/orders/${orderId}/shipments`, { shippedAt: '2026-11-08T08:00:00+08:00', lines: [{ lineId: pumpLine.id, quantity: 2 }, { lineId: valveLine.id, quantity: 1 }] })).status).toBe(200);
    await caughtUp();
    expect((await request('GET', `/api/v1/orders/${orderId}`)).body.status).toBe('partially_shipped');

    // Payments: part now; an overpayment is refused.
    expect((await request('POST', `/api/v1/orders/${orderId}/payments`, { amount: { amount: 1_000_000, currency: 'CNY' }, receivedAt: '2026-11-09T10:00:00Z', method: 'bank_transfer' })).status).toBe(200);
    expectProblem(await request('POST', `/api/v1/orders/${orderId}/payments`, { amount: { amount: 2_000_000, currency: 'CNY' }, receivedAt: '2026-11-09T10:00:00Z', method: 'bank_transfer' }), 409, 'order.overpayment');
    await caughtUp();
    const receivables = (await app.request('GET', '/api/v1/reports/receivables?dueBefore=2027-01-01')).body;
    expect(receivables.items).toEqual([expect.objectContaining({ id: orderId, number: 'SO-2026-000001', receivable: { amount: 1_297_665, currency: 'CNY' }, dueDate: '2026-12-07', overdue: false })]);
    expect((await app.request('GET', '/api/v1/reports/receivables')).body.items).toEqual([]); // nothing due in November
    const ranking = (await app.request('GET', '/api/v1/reports/ranking?period=2026-11&by=collections')).body;
    expect(ranking.items[0]).toMatchObject({ rank: 1, ownerId: seller.userId, name: 'journey.seller', collected: { amount: 1_000_000 }, orderAmount: { amount: 2_297_665 }, orders: 1 });

    // Rest of the shipment and the payment: completed; the funnel counts the win.
    expect((await request('POST', `/api/v1/orders/${orderId}/shipments`, { shippedAt: '2026-11-10T08:00:00Z', lines: [{ lineId: valveLine.id, quantity: 3 }] })).status).toBe(200);
    clock.set('2026-12-10T02:00:00.000Z');
    await caughtUp();
    const overdue = (await app.request('GET', '/api/v1/reports/receivables')).body;
    expect(overdue.items[0]).toMatchObject({ overdue: true, daysOverdue: 3 });
    expect(overdue.overdue.amount).toBe(1_297_665);
    expect((await request('POST', `/api/v1/orders/${orderId}/payments`, { amount: { amount: 1_297_665, currency: 'CNY' }, receivedAt: '2026-12-10T03:00:00Z', method: 'bank_transfer' })).status).toBe(200);
    await caughtUp();
    const done = (await request('GET', `/api/v1/orders/${orderId}`)).body;
    expect(done).toMatchObject({ status: 'completed', paid: { amount: 2_297_665 }, receivable: { amount: 0 } });
    expect(done.lines.map((l: { shippedQuantity: number }) => l.shippedQuantity)).toEqual([2, 4]);
    expect((await funnel())).toMatchObject({ won: 1, lost: 0, winRate: 1, averageCycleDays: 4 });
    const december = (await app.request('GET', '/api/v1/reports/ranking?period=2026-12&by=collections')).body;
    expect(december.items[0]).toMatchObject({ collected: { amount: 1_297_665 }, orders: 0 });
    expect((await app.request('GET', '/api/v1/reports/receivables?dueBefore=2027-12-31')).body.items).toEqual([]);
    expect((await request('GET', `/api/v1/quotes/${quote.body.id}`)).body).toMatchObject({ status: 'accepted', orderId });
  });

  it('numbers orders without duplicates or gaps under parallel creation', async () => {
    const customer = (await app.request('POST', '/api/v1/customers', { body: { name: 'Numbering Co' } })).body.id;
    const product = (await app.request('POST', '/api/v1/products', { body: { code: 'NUM-1', name: 'N', unit: '件', standardPrice: { amount: 100, currency: 'CNY' }, taxRate: 0 } })).body.id;
    const before = (await app.request('GET', '/api/v1/orders?limit=200')).body.items.length;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => app.request('POST', '/api/v1/orders', { body: { customerId: customer, lines: [{ productId: product, quantity: 1 }] } })),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    const numbers = results.map((r) => r.body.number as string).sort();
    const year = clock.now().getUTCFullYear();
    const start = before + 1;
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => `SO-${year}-${String(start + i).padStart(6, '0')}`));
  });
});
