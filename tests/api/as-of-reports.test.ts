import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, seedCompany } from '../../src/cli/seed-company.ts';
import { prng } from '../../src/cli/seed-data.ts';
import { confirmOrder, createOrder, receivePayment } from '../../src/commands/documents.ts';
import { systemActor } from '../../src/commands/employees.ts';
import { createOpportunity, moveOpportunity } from '../../src/commands/opportunities.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { FUNNEL } from '../../src/projections/opportunities.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

const cny = (amount: number) => ({ amount, currency: 'CNY' });

/** Every report, with a query that has something to count in the seeded company. */
const reports = [
  '/api/v1/reports/funnel?from=2026-01-01&to=2027-01-01',
  '/api/v1/reports/time-in-stage?from=2026-01-01&to=2027-01-01',
  '/api/v1/reports/kpi?from=2026-10-01&to=2026-12-01&groupBy=month',
  '/api/v1/reports/kpi?from=2026-11-01&to=2026-11-15&groupBy=owner',
  '/api/v1/reports/forecast?from=2026-10-01&to=2027-06-01',
  '/api/v1/reports/receivables',
  '/api/v1/reports/ranking?period=2026-11',
  '/api/v1/reports/service?from=2026-01-01&to=2027-01-01&groupBy=customer',
  '/api/v1/reports/expenses?from=2026-01-01&to=2027-01-01&groupBy=category',
  '/api/v1/reports/budgets?from=2026-01&to=2026-12',
  '/api/v1/reports/approval-turnaround?from=2026-01&to=2026-12',
];

/**
 * Reports `?asOf=`: a company trades over several weeks; a second service is started on a copy of its log cut at
 * a past instant, with its clock there. Every report as of that instant on the first must be what the second
 * answers as of now.
 */
describe('reports as of a past instant (?asOf=)', () => {
  const clock = new ManualClock(new Date('2026-10-05T02:00:00.000Z'));
  const cut = '2026-11-10T04:00:00.000Z';
  const now = '2026-12-01T03:00:00.000Z';
  let app: TestApp;
  let then: TestApp;
  let dir: string;

  /** A day of selling: opportunities created, moved, won and lost; orders confirmed and paid. */
  async function trade(at: string, seed: number) {
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 60_000);
    clock.set(at);
    const { deps, readStore } = app.services;
    const meta = () => app.services.requestMeta('test');
    const random = prng(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const customers = await readStore.collection<{ _id: string; ownerId: string }>('customers').find({}, { limit: 20, sort: { _id: 1 } });
    const products = await readStore.collection('products').find({}, { limit: 3 });
    const open = await readStore.collection<{ _id: string }>('opportunities').find({ status: 'open' }, { limit: 6, sort: { _id: 1 } });
    for (const [i, opportunity] of open.entries())
      await moveOpportunity(deps, opportunity._id, i % 3 === 0 ? { type: 'WinOpportunity' } : i % 3 === 1 ? { type: 'MoveStage', stage: 'negotiation' } : { type: 'LoseOpportunity', reason: '价格' }, systemActor, meta());
    for (let i = 0; i < 5; i++) {
      const customer = pick(customers);
      await createOpportunity(deps, { fields: { name: `项目 ${seed}-${i}`, customerId: customer._id, amount: cny((10 + Math.floor(random() * 90)) * 10_000_00), expectedCloseDate: '2027-02-28' }, ownerId: customer.ownerId }, systemActor, meta());
    }
    for (let i = 0; i < 3; i++) {
      const customer = pick(customers);
      const { orderId } = await createOrder(deps, { customerId: customer._id, currency: 'CNY', lines: [{ productId: pick(products)._id, quantity: 1 + i, discountPercent: 0 }], paymentTermsDays: 15, ownerId: customer.ownerId }, systemActor, meta());
      await confirmOrder(deps, orderId, systemActor, meta());
      if (i === 1) await receivePayment(deps, orderId, { amount: cny(100_00), receivedAt: at, method: 'bank_transfer' }, systemActor, meta());
    }
  }

  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    await seedCompany(app.services, 30, () => {}, { salesDays: 3 });
    await trade('2026-10-20T02:00:00.000Z', 1);
    await trade('2026-11-03T06:00:00.000Z', 2);
    // An event at the very instant is part of the log as it stood then.
    await trade(cut, 3);
    await trade('2026-11-10T04:00:00.001Z', 4);
    await trade('2026-11-25T02:00:00.000Z', 5);
    clock.set(now);
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 120_000);
    // The log as it stood at the cut, copied event by event (ids, times, actors kept) into a second service's data directory.
    dir = mkdtempSync(join(tmpdir(), 'crm-as-of-'));
    const copy = new SqliteEventStore({ path: join(dir, 'events.sqlite') });
    for (const event of await app.services.eventStore.readAll())
      if (Date.parse(event.metadata.at) <= Date.parse(cut)) await copy.append(event.streamId, [{ id: event.id, type: event.type, data: event.data, metadata: event.metadata }], 'any');
    await copy.close();
    // The copy's reservations were hashed under the first service's key: the second is given the same key.
    then = await startTestApp({ CRM_DATA_DIR: dir, CRM_RESERVATION_KEY: app.services.deps.reservationKey!.toString('hex') }, { clock: new ManualClock(new Date(cut)) });
    await then.services.runner.waitFor(await then.services.eventStore.headPosition(), 120_000);
  }, 300_000);
  afterAll(async () => {
    await app?.close();
    await then?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const asOf = (path: string, instant = cut) => `${path}${path.includes('?') ? '&' : '?'}asOf=${encodeURIComponent(instant)}`;

  it('every report as of the instant is the report of a service whose log ends there, for the admin and for a salesperson in their scope', async () => {
    for (const [username, password] of [['admin', undefined], ['wang.fang', DEMO_PASSWORD]] as const) {
      const token = await app.login(username, password);
      const tokenThen = await then.login(username, password);
      for (const path of reports) {
        const past = await app.request('GET', asOf(path), { token });
        expect(past.status, `${path}: ${JSON.stringify(past.body)}`).toBe(200);
        const expected = await then.request('GET', path, { token: tokenThen });
        expect(expected.status).toBe(200);
        const { asOf: answeredAsOf, ...report } = past.body as Record<string, unknown>;
        expect(answeredAsOf).toBe(cut);
        expect(report, `${path} as ${username}`).toEqual(expected.body);
      }
    }
  });

  it('differs from the report of now (the instant is a real cut), and the same instant is not built twice', async () => {
    const past = await app.request('GET', asOf(reports[0]!));
    const live = await app.request('GET', reports[0]!);
    const { asOf: _asOf, ...report } = past.body as Record<string, unknown>;
    expect(report).not.toEqual(live.body);
    const built = app.services.asOf.built;
    await app.request('GET', asOf(reports[0]!));
    expect(app.services.asOf.built).toBe(built);
    // Another instant is another model.
    await app.request('GET', asOf(reports[0]!, '2026-11-04T00:00:00.000Z'));
    expect(app.services.asOf.built).toBe(built + 1);
  });

  it('exports as of the instant: the CSV of the past report', async () => {
    const csv = await app.request('GET', asOf('/api/v1/reports/receivables'), { headers: { Accept: 'text/csv' } });
    const csvThen = await then.request('GET', '/api/v1/reports/receivables', { headers: { Accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    expect(csv.text).toBe(csvThen.text);
  });

  it('refuses an instant in the future, or not an instant, naming query.asOf', async () => {
    expectProblem(await app.request('GET', asOf(reports[0]!, '2027-01-01T00:00:00.000Z')), 400, 'validation');
    const wrong = await app.request('GET', asOf(reports[0]!, 'yesterday'));
    expectProblem(wrong, 400, 'validation');
    expect(JSON.stringify(wrong.body)).toContain('query.asOf');
  });

  it('keeps at most CRM_ASOF_MAX_MODELS models, dropping the least recently used', async () => {
    const small = await startTestApp({ CRM_ASOF_MAX_MODELS: '2' });
    try {
      for (const instant of ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z'])
        expect((await small.request('GET', asOf(reports[0]!, instant))).status).toBe(200);
      expect(small.services.asOf.size).toBe(2);
      expect(small.services.asOf.built).toBe(3);
      // The first was dropped: asked again, it is built again.
      await small.request('GET', asOf(reports[0]!, '2026-01-01T00:00:00.000Z'));
      expect(small.services.asOf.built).toBe(4);
    } finally {
      await small.close();
    }
  });
});

/** A past instant that is not ready within CRM_ASOF_WAIT_MS: 202, a Location to poll, the report there for its caller only. */
describe('a report as of a past instant that takes a while (202 and a job to poll)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ CRM_ASOF_WAIT_MS: '0' });
    await seedCompany(app.services, 20, () => {}, { salesDays: 1 });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 60_000);
  }, 120_000);
  afterAll(async () => app.close());

  const instant = () => new Date(app.services.clock.now().getTime() - 1000).toISOString();

  async function poll(location: string, token?: string, headers: Record<string, string> = {}) {
    for (let attempt = 0; attempt < 200; attempt++) {
      const answer = await app.request('GET', location, { ...(token ? { token } : {}), headers });
      if (answer.status !== 202) return answer;
      expect(answer.headers.get('retry-after')).toBe('1');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('the job never finished');
  }

  it('answers 202 with a Location; polling it gives the report, equal to the report asked again once built', async () => {
    const path = `/api/v1/reports/funnel?from=2026-01-01&to=2027-01-01&asOf=${encodeURIComponent(instant())}`;
    const started = await app.request('GET', path);
    expect(started.status).toBe(202);
    const location = started.headers.get('location')!;
    expect(location).toMatch(/^\/api\/v1\/reports\/as-of\/[0-9a-f-]{36}$/);
    expect(started.body).toMatchObject({ status: 'running', eventsApplied: expect.any(Number) });
    const done = await poll(location);
    expect(done.status).toBe(200);
    const again = await app.request('GET', path);
    expect(again.status).toBe(200);
    expect(done.body).toEqual(again.body);
    expect(done.body).toMatchObject({ stages: expect.any(Array), asOf: expect.any(String) });
  });

  it('a job is its caller\'s: anyone else is told it does not exist; the caller gets it in their own scope and format', async () => {
    const rep = await app.login('wang.fang', DEMO_PASSWORD);
    const manager = await app.login('zhang.wei', DEMO_PASSWORD);
    const started = await app.request('GET', `/api/v1/reports/receivables?asOf=${encodeURIComponent(instant())}`, { token: rep });
    expect(started.status).toBe(202);
    const location = started.headers.get('location')!;
    expectProblem(await app.request('GET', location, { token: manager }), 404, 'report.job_not_found');
    expectProblem(await app.request('GET', location), 404, 'report.job_not_found');
    const done = await poll(location, rep);
    const direct = await app.request('GET', `/api/v1/reports/receivables?asOf=${encodeURIComponent(new Date(Date.parse(started.body.asOf)).toISOString())}`, { token: rep });
    expect(done.body).toEqual(direct.body);
    // Exports need reports export, which a salesperson lacks: the job applies the poller's permissions too.
    expectProblem(await poll(location, rep, { Accept: 'text/csv' }), 403, 'forbidden');
    const adminJob = await app.request('GET', `/api/v1/reports/receivables?asOf=${encodeURIComponent(instant())}`);
    const csv = await poll(adminJob.headers.get('location')!, undefined, { Accept: 'text/csv' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expectProblem(await app.request('GET', '/api/v1/reports/as-of/01900000-0000-7000-8000-000000000000', { token: rep }), 404, 'report.job_not_found');
  });

  it('the funnel model of an instant is shared by the reports that read the same read models', async () => {
    const at = instant();
    const model = app.services.asOf.model(new Date(at), [FUNNEL]);
    expect(app.services.asOf.model(new Date(at), [FUNNEL])).toBe(model);
    await model.ready;
    expect(model.state).toBe('ready');
  });
});
