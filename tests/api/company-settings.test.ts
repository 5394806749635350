import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/**
 * Company settings: the time zone the company's days follow. 20:00 UTC on 30 November is already 1 December in
 * Shanghai: an opportunity created then counts on 1 December, an order confirmed then is confirmed on 1 December.
 */
describe('company settings: time zone and currency', () => {
  const clock = new ManualClock(new Date('2026-11-30T20:00:00.000Z'));
  let app: TestApp;
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
  const createdOn = async (day: string) => {
    const next = new Date(new Date(`${day}T00:00:00Z`).getTime() + 86_400_000).toISOString().slice(0, 10);
    const report = await app.request('GET', `/api/v1/reports/funnel?from=${day}&to=${next}`);
    expect(report.status).toBe(200);
    return report.body.stages.reduce((sum: number, stage: { count: number }) => sum + stage.count, 0);
  };
  beforeAll(async () => {
    app = await startTestApp({}, { clock });
  });
  afterAll(async () => app.close());

  it('answers the defaults and refuses what is not a time zone or a currency', async () => {
    const settings = await app.request('GET', '/api/v1/settings/company');
    expect(settings.body).toEqual({ timeZone: 'Asia/Shanghai', currency: 'CNY' });
    expectProblem(await app.request('PUT', '/api/v1/settings/company', { body: { timeZone: 'Mars/Olympus', currency: 'CNY' } }), 400, 'validation');
    expectProblem(await app.request('PUT', '/api/v1/settings/company', { body: { timeZone: 'UTC', currency: 'rmb' } }), 400, 'validation');
  });

  it('day counters and document dates follow the company\'s days; a new time zone re-buckets the counters', async () => {
    const customer = await app.request('POST', '/api/v1/customers', { body: { name: 'Zone Co' } });
    await app.request('POST', '/api/v1/opportunities', { body: { name: 'Late deal', customerId: customer.body.id, amount: { amount: 100_00, currency: 'CNY' }, expectedCloseDate: '2027-01-31' } });
    const product = await app.request('POST', '/api/v1/products', { body: { code: 'ZONE-1', name: 'Valve', unit: '件', standardPrice: { amount: 100, currency: 'CNY' }, taxRate: 13 } });
    const order = await app.request('POST', '/api/v1/orders', { body: { customerId: customer.body.id, currency: 'CNY', paymentTermsDays: 30, lines: [{ productId: product.body.id, quantity: 1 }] } });
    expect((await app.request('POST', `/api/v1/orders/${order.body.id}/confirm`, { body: {} })).status).toBe(200);
    await caughtUp();
    expect(await createdOn('2026-12-01')).toBe(1);
    expect(await createdOn('2026-11-30')).toBe(0);
    expect((await app.request('GET', `/api/v1/orders/${order.body.id}`)).body.confirmedOn).toBe('2026-12-01');

    const changed = await app.request('PUT', '/api/v1/settings/company', { body: { timeZone: 'UTC', currency: 'CNY' } });
    expect(changed.status).toBe(200);
    await caughtUp();
    expect(await createdOn('2026-11-30')).toBe(1);
    expect(await createdOn('2026-12-01')).toBe(0);
    expect((await app.request('GET', '/api/v1/settings/company')).body.timeZone).toBe('UTC');
  });
});
