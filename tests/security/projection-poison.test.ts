import { afterEach, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/commands/employees.ts';
import { ABANDONED_NUMBER_MS, createOrderFrom, takeOrderNumber } from '../../src/commands/documents.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/**
 * An order number belongs to exactly one order, even when an order is retried after its number went to another;
 * and a read model meeting an event it cannot apply is survivable: recorded, shown, decided on by an
 * administrator, and it never holds up the reads that do not touch it.
 */
describe('poisoned projections', () => {
  let app: TestApp;
  afterEach(async () => app?.close());

  async function orderFixture() {
    const product = await app.request('POST', '/api/v1/products', { body: { code: `P-${Math.random().toString(36).slice(2, 8)}`, name: 'Widget', unit: '件', standardPrice: { amount: 1000, currency: 'CNY' }, taxRate: 13 } });
    const customer = await app.request('POST', '/api/v1/customers', { body: { name: `Numbering Co ${Math.random()}` } });
    return { productId: product.body.id as string, customerId: customer.body.id as string };
  }

  it('a retried order whose number went to another order takes a new number; the orders read model keeps going', async () => {
    const clock = new ManualClock(new Date('2026-11-30T09:00:00Z'));
    app = await startTestApp({}, { clock });
    const { productId, customerId } = await orderFixture();
    const adminId = (await app.request('GET', '/api/v1/me')).body.userId;
    // Order A takes a number, then its process dies before the order is written.
    const orderA = '01900000-0000-7000-8000-00000000000a';
    const meta = app.services.requestMeta('crashed-order');
    const numberA = await takeOrderNumber(app.services.deps, orderA, systemActor, meta);
    clock.advance(ABANDONED_NUMBER_MS + 1000);
    // Order B comes later and is handed A's abandoned number.
    const b = await app.request('POST', '/api/v1/orders', { body: { customerId, lines: [{ productId, quantity: 1 }] } });
    expect(b.status).toBe(201);
    const orderB = await app.request('GET', `/api/v1/orders/${b.body.id}`, { headers: { 'x-min-position': b.headers.get('x-position')! } });
    expect(orderB.body.number).toBe(numberA);
    // A is retried (an Idempotency-Key retry, or accepting the quote again): it must not reuse the number.
    const line = { productId, name: 'Widget', unit: '件', quantity: 1, unitPrice: 1000, discountPercent: 0, taxRate: 13, id: 'l1', net: 1000, tax: 130, total: 1130 };
    const retried = await createOrderFrom(app.services.deps, orderA, { customerId, currency: 'CNY', lines: [line as never], paymentTermsDays: 30, ownerId: adminId }, systemActor, meta);
    expect(retried.number).not.toBe(numberA);
    const head = String(await app.services.eventStore.headPosition());
    const orderARead = await app.request('GET', `/api/v1/orders/${orderA}`, { headers: { 'x-min-position': head } });
    expect(orderARead.status).toBe(200);
    expect(orderARead.body.number).toBe(retried.number);
    expect(app.services.runner.status().find((s) => s.name === 'orders')!.failed).toBeUndefined();
    const numbers = (await app.request('GET', '/api/v1/orders', { headers: { 'x-min-position': head } })).body.items.map((o: { number: string }) => o.number);
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  it('an event a projection cannot apply is recorded and shown; other reads go on; an administrator skips it or rebuilds', async () => {
    app = await startTestApp();
    const { productId, customerId } = await orderFixture();
    const first = await app.request('POST', '/api/v1/orders', { body: { customerId, lines: [{ productId, quantity: 1 }] } });
    const firstOrder = await app.request('GET', `/api/v1/orders/${first.body.id}`, { headers: { 'x-min-position': first.headers.get('x-position')! } });
    // A second OrderCreated with the same number, as a version with the numbering bug wrote it.
    const poisonId = '01900000-0000-7000-8000-0000000000ff';
    const stored = (await app.services.eventStore.readStream(`order-${first.body.id}`))[0]!;
    const poison = await app.services.eventStore.append(
      `order-${poisonId}`,
      [{ id: '01900000-0000-7000-8000-0000000000e1', type: 'OrderCreated', data: { ...(stored.data as object), orderId: poisonId, number: firstOrder.body.number }, metadata: stored.metadata }],
      'no_stream',
    );
    const customer = await app.request('POST', '/api/v1/customers', { body: { name: 'After the poison' } });
    const head = customer.headers.get('x-position')!;
    expect(BigInt(head)).toBeGreaterThan(poison.position);

    // Reads that do not touch orders still see their writes, at once.
    const started = Date.now();
    const customerRead = await app.request('GET', `/api/v1/customers/${customer.body.id}`, { headers: { 'x-min-position': head } });
    expect(customerRead.status, customerRead.text).toBe(200);
    expect((await app.request('GET', '/api/v1/customers', { headers: { 'x-min-position': head } })).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2000);
    // Reads of the stopped read model say so at once (503), without waiting out the 5 s.
    const orders = await app.request('GET', '/api/v1/orders', { headers: { 'x-min-position': head } });
    expectProblem(orders, 503, 'projection_failed');
    expect(Date.now() - started).toBeLessThan(3000);

    // /readyz: still ready (degraded), naming the part, never the error text; /metrics flags it.
    const ready = await app.request('GET', '/readyz', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'degraded', checks: { 'projection:orders': 'failed', projections: 'ok' } });
    expect(ready.text).not.toMatch(/duplicate|index|E11000/i);
    const metrics = await app.request('GET', '/metrics', { token: null });
    expect(metrics.text).toMatch(/crm_projection_failed\{projection="orders"\} 1/);
    expect(metrics.text).toMatch(/crm_projection_failed\{projection="customers"\} 0/);

    // The administrator sees which event, and why.
    const listed = await app.request('GET', '/api/v1/admin/projections');
    const failedOrders = listed.body.items.find((p: { name: string }) => p.name === 'orders');
    expect(failedOrders).toMatchObject({ state: 'failed', failure: { event: { id: '01900000-0000-7000-8000-0000000000e1', streamId: `order-${poisonId}`, type: 'OrderCreated' } } });
    const status = await app.request('GET', '/api/v1/admin/status');
    expect(status.body.details['projection:orders']).toContain('01900000-0000-7000-8000-0000000000e1');
    const salesperson = await app.userWithToken('not.an.admin', ['salesperson']);
    expectProblem(await app.request('GET', '/api/v1/admin/projections', { token: salesperson.token }), 403, 'forbidden');
    expectProblem(await app.request('POST', '/api/v1/admin/projections/orders/skip-event', { token: salesperson.token, body: { eventId: '01900000-0000-7000-8000-0000000000e1' } }), 403, 'forbidden');

    // A stale decision (another event's id) is refused; the right one lets the projection go on.
    expectProblem(await app.request('POST', '/api/v1/admin/projections/orders/skip-event', { body: { eventId: 'not-that-one' } }), 409, 'projection.other_event');
    expectProblem(await app.request('POST', '/api/v1/admin/projections/nope/skip-event', { body: { eventId: 'x' } }), 404, 'projection.not_found');
    const skipped = await app.request('POST', '/api/v1/admin/projections/orders/skip-event', { body: { eventId: '01900000-0000-7000-8000-0000000000e1' } });
    expect(skipped.status).toBe(200);
    expect(skipped.body.items[0]).toMatchObject({ state: 'following', skipped: [{ eventId: '01900000-0000-7000-8000-0000000000e1' }] });
    const after = await app.request('POST', '/api/v1/customers', { body: { name: 'After the skip' } });
    expect((await app.request('GET', '/api/v1/orders', { headers: { 'x-min-position': after.headers.get('x-position')! } })).status).toBe(200);
    expect((await app.request('GET', '/readyz', { token: null })).body.status).toBe('ready');
    expect((await app.request('GET', '/api/v1/audit?type=ProjectionEventSkipped')).body.items).toHaveLength(1);

    // A rebuild replays everything again and skips the same event again; the others keep following meanwhile.
    const rebuild = await app.request('POST', '/api/v1/admin/projections/orders/rebuild', { body: { reason: 'check' } });
    expect(rebuild.status).toBe(202);
    const later = await app.request('POST', '/api/v1/customers', { body: { name: 'During the rebuild' } });
    const rebuilt = await app.request('GET', '/api/v1/orders', { headers: { 'x-min-position': later.headers.get('x-position')! } });
    expect(rebuilt.status).toBe(200);
    expect(rebuilt.body.items.map((o: { id: string }) => o.id)).toEqual([first.body.id]);
    expect(app.services.runner.status().find((s) => s.name === 'orders')!.failed).toBeUndefined();
  });
});

describe('read-your-writes scoping', () => {
  it('every GET route under /api names the read models it reads, so X-Min-Position waits only for those', async () => {
    const { apiRoutes } = await import('../../src/api/app.ts');
    const undeclared = apiRoutes.filter((route) => route.method === 'get' && route.reads === undefined).map((route) => route.path);
    expect(undeclared).toEqual([]);
  });
});
