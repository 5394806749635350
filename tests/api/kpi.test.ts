import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toCsv } from '../../src/api/csv.ts';
import { XLSX_TYPE } from '../../src/api/xlsx.ts';
import { DEMO_PASSWORD, seedCompany } from '../../src/cli/seed-company.ts';
import { prng } from '../../src/cli/seed-data.ts';
import { cancelOrder, changeDocumentOwner, confirmOrder, createOrder, receivePayment } from '../../src/commands/documents.ts';
import { systemActor } from '../../src/commands/employees.ts';
import { changeLead, changeLeadOwner, convertLead, createLead } from '../../src/commands/leads.ts';
import { changeOpportunity, changeOpportunityOwner, createOpportunity, moveOpportunity } from '../../src/commands/opportunities.ts';
import { defaultStages } from '../../src/domain/opportunity/index.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import type { RecordedEvent } from '../../src/infra/eventstore/port.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

const zone = 'Asia/Shanghai';
const dayIn = (iso: string) => new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));

/** The sales KPIs of one salesperson (or everyone) as this test counts them. */
interface Expected {
  newCustomers: number;
  leadsCreated: number;
  leadsConverted: number;
  leadsCreatedBySource: Record<string, number>;
  opportunitiesCreated: number;
  opportunitiesWon: number;
  opportunitiesLost: number;
  lostByReason: Record<string, number>;
  wonCycleMs: number;
  pipelineAmount: number;
  pipelineByStage: Record<string, { count: number; amount: number }>;
  orderAmount: number;
  collections: number;
  receivables: number;
  overdue: number;
  activities: number;
}
const empty = (): Expected => ({
  newCustomers: 0, leadsCreated: 0, leadsConverted: 0, leadsCreatedBySource: {}, opportunitiesCreated: 0, opportunitiesWon: 0, opportunitiesLost: 0, lostByReason: {}, wonCycleMs: 0,
  pipelineAmount: 0, pipelineByStage: {}, orderAmount: 0, collections: 0, receivables: 0, overdue: 0, activities: 0,
});
const bump = (counts: Record<string, number>, key: string, by = 1) => (counts[key] = (counts[key] ?? 0) + by);

/**
 * The KPIs recomputed here, straight from the event log, by the rules the API documents (written again, on
 * purpose, without the projections' code): flows in [from, to) and balances as they stood at the start of `asOf`
 * (the end of the period, or tomorrow if it ends later). Keyed by salesperson, and '*' for everyone.
 */
function recompute(events: readonly RecordedEvent[], range: { from: string; to: string }, asOf: string): Map<string, Expected> {
  const result = new Map<string, Expected>();
  const of = (ownerId: string) => {
    if (!result.has(ownerId)) result.set(ownerId, empty());
    return [result.get(ownerId)!, (result.get('*') ?? result.set('*', empty()).get('*'))!];
  };
  const inRange = (day: string) => day >= range.from && day < range.to;
  const leads = new Map<string, { ownerId: string; source: string }>();
  const opportunities = new Map<string, { ownerId: string; stage: string; status: string; amount: { amount: number; currency: string }; createdAt: string; closedAt?: string; reason?: string }>();
  const orders = new Map<string, { ownerId: string; currency: string; total: number; paid: number; status: string; dueDate?: string; confirmed?: { day: string; ownerId: string } }>();
  const activities = new Map<string, { ownerId: string; occurredAt: string }>();
  const balances = () => {
    for (const o of opportunities.values())
      if (o.status === 'open' && o.amount.currency === 'CNY')
        for (const into of of(o.ownerId)) {
          into.pipelineAmount += o.amount.amount;
          const stage = (into.pipelineByStage[o.stage] ??= { count: 0, amount: 0 });
          stage.count += 1;
          stage.amount += o.amount.amount;
        }
    for (const o of orders.values())
      if (['confirmed', 'partially_shipped', 'shipped'].includes(o.status) && o.currency === 'CNY')
        for (const into of of(o.ownerId)) {
          into.receivables += o.total - o.paid;
          if (o.dueDate! < asOf) into.overdue += o.total - o.paid;
        }
  };
  let balanced = false;
  for (const event of events) {
    if (!balanced && dayIn(event.metadata.at) >= asOf) {
      balances();
      balanced = true;
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the payloads of many event types, read by field name
    const d = event.data as Record<string, any>;
    const at = event.metadata.at;
    const id = event.streamId;
    switch (event.type) {
      case 'CustomerRegistered':
        if (d.ownerId && inRange(dayIn(at))) for (const into of of(d.ownerId)) into.newCustomers += 1;
        break;
      case 'LeadCreated':
        leads.set(id, { ownerId: d.ownerId, source: d.fields.source ?? '' });
        if (inRange(dayIn(at)))
          for (const into of of(d.ownerId)) {
            into.leadsCreated += 1;
            bump(into.leadsCreatedBySource, d.fields.source ?? '');
          }
        break;
      case 'LeadChanged':
        if (d.changes.source !== undefined) leads.get(id)!.source = d.changes.source ?? '';
        break;
      case 'LeadOwnerChanged':
        leads.get(id)!.ownerId = d.ownerId;
        break;
      case 'LeadConverted':
        if (inRange(dayIn(at))) for (const into of of(leads.get(id)!.ownerId)) into.leadsConverted += 1;
        break;
      case 'OpportunityCreated':
        opportunities.set(id, { ownerId: d.ownerId, stage: d.stage, status: 'open', amount: d.fields.amount, createdAt: at });
        if (inRange(dayIn(at))) for (const into of of(d.ownerId)) into.opportunitiesCreated += 1;
        break;
      case 'OpportunityChanged':
        if (d.changes.amount) opportunities.get(id)!.amount = d.changes.amount;
        break;
      case 'OpportunityStageChanged':
      case 'OpportunityReopened':
        Object.assign(opportunities.get(id)!, { stage: d.stage, status: 'open', closedAt: undefined });
        break;
      case 'OpportunityWon':
        Object.assign(opportunities.get(id)!, { stage: d.stage, status: 'won', closedAt: at });
        break;
      case 'OpportunityLost':
        Object.assign(opportunities.get(id)!, { stage: d.stage, status: 'lost', closedAt: at, reason: d.reason });
        break;
      case 'OpportunityOwnerChanged':
        opportunities.get(id)!.ownerId = d.ownerId;
        break;
      case 'OrderCreated':
        orders.set(id, { ownerId: d.ownerId, currency: d.currency, total: d.totals.total, paid: 0, status: 'draft' });
        break;
      case 'OrderConfirmed':
        Object.assign(orders.get(id)!, { status: 'confirmed', dueDate: d.dueDate, confirmed: { day: d.confirmedOn, ownerId: orders.get(id)!.ownerId } });
        break;
      case 'OrderShipped':
        break;
      case 'OrderCompleted':
        orders.get(id)!.status = 'completed';
        break;
      case 'OrderCancelled':
        Object.assign(orders.get(id)!, { status: 'cancelled', confirmed: undefined });
        break;
      case 'PaymentReceived':
        orders.get(id)!.paid += d.amount;
        if (d.currency === 'CNY' && inRange(dayIn(d.receivedAt))) for (const into of of(orders.get(id)!.ownerId)) into.collections += d.amount;
        break;
      case 'OrderOwnerChanged':
        orders.get(id)!.ownerId = d.ownerId;
        break;
      case 'ActivityLogged':
        activities.set(id, { ownerId: d.ownerId, occurredAt: d.fields.occurredAt });
        break;
      case 'ActivityChanged':
        if (d.changes.occurredAt) activities.get(id)!.occurredAt = d.changes.occurredAt;
        break;
      case 'ActivityRemoved':
        activities.delete(id);
        break;
    }
  }
  if (!balanced) balances();
  for (const o of opportunities.values())
    if (o.closedAt && inRange(dayIn(o.closedAt)))
      for (const into of of(o.ownerId)) {
        if (o.status === 'won') {
          into.opportunitiesWon += 1;
          into.wonCycleMs += Date.parse(o.closedAt) - Date.parse(o.createdAt);
        } else {
          into.opportunitiesLost += 1;
          bump(into.lostByReason, o.reason!);
        }
      }
  for (const o of orders.values()) if (o.confirmed && o.currency === 'CNY' && inRange(o.confirmed.day)) for (const into of of(o.confirmed.ownerId)) into.orderAmount += o.total;
  for (const a of activities.values()) if (inRange(dayIn(a.occurredAt))) for (const into of of(a.ownerId)) into.activities += 1;
  return result;
}

type Metric = { value: unknown; previous: unknown; lastYear: unknown; delta: { previous: unknown; lastYear: unknown }; change: { previous: number | null; lastYear: number | null }; breakdown?: Record<string, unknown> };
const cny = (amount: number) => ({ amount, currency: 'CNY' });

/** What the API should answer for one group's metric values, from the recomputed numbers. */
function valuesOf(e: Expected) {
  const decided = e.opportunitiesWon + e.opportunitiesLost;
  return {
    newCustomers: e.newCustomers,
    leadsCreated: e.leadsCreated,
    leadsConverted: e.leadsConverted,
    opportunitiesCreated: e.opportunitiesCreated,
    opportunitiesWon: e.opportunitiesWon,
    opportunitiesLost: e.opportunitiesLost,
    winRate: decided ? Math.round((e.opportunitiesWon / decided) * 10_000) / 10_000 : null,
    avgCycleDays: e.opportunitiesWon ? Math.round((e.wonCycleMs / e.opportunitiesWon / 86_400_000) * 100) / 100 : null,
    pipelineAmount: cny(e.pipelineAmount),
    orderAmount: cny(e.orderAmount),
    collections: cny(e.collections),
    receivables: cny(e.receivables),
    overdue: cny(e.overdue),
    activities: e.activities,
  };
}
const SALES_METRICS = Object.keys(valuesOf(empty()));

describe('the KPI report (GET /api/v1/reports/kpi)', () => {
  const clock = new ManualClock(new Date('2025-11-10T03:00:00.000Z'));
  let app: TestApp;
  let events: RecordedEvent[];
  const now = '2026-12-02T03:00:00.000Z';
  const tomorrow = '2026-12-03';

  /** A day of selling at `at`: leads from several sources (some converted), opportunities moved, won, lost, reopened and handed over, orders confirmed, paid, cancelled. */
  async function trade(at: string, seed: number) {
    clock.set(at);
    const { deps, readStore } = app.services;
    const meta = () => app.services.requestMeta('test');
    const random = prng(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const customers = await readStore.collection<{ _id: string; ownerId: string }>('customers').find({}, { limit: 30, sort: { _id: 1 } });
    const products = await readStore.collection('products').find({}, { limit: 3 });
    const owners = [...new Set(customers.map((c) => c.ownerId))];
    for (let i = 0; i < 6; i++) {
      const source = pick(['展会', '官网', '老客户介绍', undefined]);
      const { leadId } = await createLead(deps, { fields: { company: `线索公司 ${seed}-${i}`, person: '王经理', ...(source ? { source } : {}) }, ownerId: pick(owners) }, systemActor, meta());
      if (i === 1) await changeLead(deps, leadId, { source: '官网' }, systemActor, meta());
      if (i === 2) await changeLeadOwner(deps, leadId, pick(owners), systemActor, meta());
      if (i % 2 === 0) await convertLead(deps, leadId, {}, systemActor, meta());
    }
    for (let i = 0; i < 8; i++) {
      const customer = pick(customers);
      const { opportunityId } = await createOpportunity(deps, { fields: { name: `项目 ${seed}-${i}`, customerId: customer._id, amount: cny((10 + Math.floor(random() * 90)) * 10_000_00), expectedCloseDate: '2027-03-31' }, ownerId: customer.ownerId }, systemActor, meta());
      if (i % 4 === 1) await moveOpportunity(deps, opportunityId, { type: 'MoveStage', stage: 'proposal' }, systemActor, meta());
      if (i % 4 === 2) await moveOpportunity(deps, opportunityId, { type: 'WinOpportunity' }, systemActor, meta());
      if (i % 4 === 3) await moveOpportunity(deps, opportunityId, { type: 'LoseOpportunity', reason: pick(['价格', '交期']) }, systemActor, meta());
      if (i === 3) await moveOpportunity(deps, opportunityId, { type: 'ReopenOpportunity' }, systemActor, meta());
      if (i === 4) await changeOpportunity(deps, opportunityId, { amount: cny(123_456_00) }, systemActor, meta());
      if (i === 5) await changeOpportunityOwner(deps, opportunityId, pick(owners), systemActor, meta());
    }
    for (let i = 0; i < 4; i++) {
      const customer = pick(customers);
      const lines = [{ productId: pick(products)._id, quantity: 1 + i, discountPercent: 0 }];
      const { orderId } = await createOrder(deps, { customerId: customer._id, currency: 'CNY', lines, paymentTermsDays: pick([15, 30, 60]), ownerId: customer.ownerId }, systemActor, meta());
      await confirmOrder(deps, orderId, systemActor, meta());
      if (i === 1) await receivePayment(deps, orderId, { amount: cny(100_00), receivedAt: at, method: 'bank_transfer' }, systemActor, meta());
      if (i === 2) await cancelOrder(deps, orderId, '客户取消', systemActor, meta());
      if (i === 3) await changeDocumentOwner(deps, 'order', orderId, pick(owners), systemActor, meta());
    }
    // An older order paid a little today.
    const older = await readStore.collection<{ _id: string; receivable: { amount: number } }>('orders').find({ status: { $in: ['confirmed', 'shipped', 'partially_shipped'] }, 'receivable.amount': { $gt: 1_000_00 } }, { limit: 1, sort: { createdAt: 1 } });
    if (older[0]) await receivePayment(deps, older[0]._id, { amount: cny(1_000_00), receivedAt: at, method: 'bank_transfer' }, systemActor, meta());
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 60_000);
  }

  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    await seedCompany(app.services, 30, () => {}, { salesDays: 3 });
    await trade('2025-11-20T02:00:00.000Z', 1);
    await trade('2025-12-05T02:00:00.000Z', 2);
    await trade('2026-10-10T02:00:00.000Z', 3);
    await trade('2026-11-03T06:00:00.000Z', 4);
    await trade('2026-11-20T17:30:00.000Z', 5); // 01:30 on the 21st in Shanghai
    await trade('2026-12-01T04:00:00.000Z', 6);
    clock.set(now);
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 150_000);
    events = await app.services.eventStore.readAll();
  }, 300_000);
  afterAll(async () => app.close());

  const kpi = async (query: string, token?: string | null) => {
    const answer = await app.request('GET', `/api/v1/reports/kpi?${query}`, { token: token === undefined ? await app.login() : token });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body as { totals: { metrics: Record<string, Metric> }; groups: { key: string | null; name: string | null; metrics: Record<string, Metric> }[]; periods: Record<string, { from: string; to: string }> };
  };
  const asOf = (to: string) => (to < tomorrow ? to : tomorrow);
  const expectedOf = (range: { from: string; to: string }) => recompute(events, range, asOf(range.to));
  const expectValues = (metrics: Record<string, Metric>, part: 'value' | 'previous' | 'lastYear', expected: Expected | undefined, label: string) => {
    const want = valuesOf(expected ?? empty());
    for (const metric of SALES_METRICS) expect(metrics[metric]![part], `${label} ${metric} ${part}`).toEqual(want[metric as keyof typeof want]);
  };

  it.each([
    ['a month', '2026-11-01', '2026-12-01', { previous: ['2026-10-01', '2026-11-01'], lastYear: ['2025-11-01', '2025-12-01'] }],
    ['a stretch of days up to tomorrow and past it', '2026-11-15', '2026-12-10', { previous: ['2026-10-21', '2026-11-15'], lastYear: ['2025-11-15', '2025-12-10'] }],
    ['a quarter', '2026-10-01', '2027-01-01', { previous: ['2026-07-01', '2026-10-01'], lastYear: ['2025-10-01', '2026-01-01'] }],
  ])('totals equal the numbers recomputed from the events, with the previous period and last year: %s', async (_name, from, to, periods) => {
    const body = await kpi(`from=${from}&to=${to}`);
    expect(body.periods).toEqual({ previous: { from: periods.previous[0], to: periods.previous[1] }, lastYear: { from: periods.lastYear[0], to: periods.lastYear[1] } });
    const [now, previous, lastYear] = [{ from, to }, { from: periods.previous[0]!, to: periods.previous[1]! }, { from: periods.lastYear[0]!, to: periods.lastYear[1]! }].map((range) => expectedOf(range).get('*'));
    expectValues(body.totals.metrics, 'value', now, 'now');
    expectValues(body.totals.metrics, 'previous', previous, 'previous');
    expectValues(body.totals.metrics, 'lastYear', lastYear, 'last year');
    // Breakdowns: leads by source, losses by reason, the pipeline by stage.
    expect(body.totals.metrics.leadsCreated!.breakdown).toEqual({ bySource: now!.leadsCreatedBySource });
    expect((body.totals.metrics.opportunitiesLost!.breakdown as { byReason: unknown }).byReason).toEqual(now!.lostByReason);
    expect(body.totals.metrics.pipelineAmount!.breakdown).toEqual({ byStage: Object.fromEntries(Object.entries(now!.pipelineByStage).map(([stage, s]) => [stage, { count: s.count, amount: cny(s.amount) }])) });
  });

  it('the period really had numbers of every sales kind, and the deltas and changes follow from the values', async () => {
    const body = await kpi('from=2026-11-01&to=2026-12-01');
    const m = body.totals.metrics;
    for (const metric of ['leadsCreated', 'leadsConverted', 'opportunitiesCreated', 'opportunitiesWon', 'opportunitiesLost']) expect(m[metric]!.value, metric).toBeGreaterThan(0);
    for (const metric of ['pipelineAmount', 'orderAmount', 'collections', 'receivables', 'overdue']) expect((m[metric]!.value as { amount: number }).amount, metric).toBeGreaterThan(0);
    expect(m.opportunitiesCreated!.delta).toEqual({ previous: (m.opportunitiesCreated!.value as number) - (m.opportunitiesCreated!.previous as number), lastYear: (m.opportunitiesCreated!.value as number) - (m.opportunitiesCreated!.lastYear as number) });
    const amount = (v: unknown) => (v as { amount: number }).amount;
    expect(m.orderAmount!.delta.previous).toEqual(cny(amount(m.orderAmount!.value) - amount(m.orderAmount!.previous)));
    expect(m.orderAmount!.change.previous).toBe(Math.round(((amount(m.orderAmount!.value) - amount(m.orderAmount!.previous)) / amount(m.orderAmount!.previous)) * 10_000) / 10_000);
    // Nothing was created in the empty month before the seeded year: no relative change from zero.
    const early = await kpi('from=2025-12-01&to=2026-01-01');
    expect(early.totals.metrics.newCustomers!.lastYear).toBe(0);
    expect(early.totals.metrics.newCustomers!.change.lastYear).toBeNull();
  });

  it('by salesperson and by department, each group equals its recomputed numbers and the totals are their sums', async () => {
    const range = { from: '2026-11-01', to: '2026-12-01' };
    const expected = expectedOf(range);
    const byOwner = await kpi(`from=${range.from}&to=${range.to}&groupBy=owner`);
    expect(byOwner.groups.length).toBeGreaterThan(5);
    for (const group of byOwner.groups) expectValues(group.metrics, 'value', expected.get(group.key!), group.name!);
    for (const ownerId of expected.keys()) if (ownerId !== '*') expect(byOwner.groups.some((g) => g.key === ownerId), ownerId).toBe(true);
    const byDepartment = await kpi(`from=${range.from}&to=${range.to}&groupBy=department`);
    const sum = (groups: typeof byDepartment.groups, metric: string) => groups.reduce((n, g) => n + (typeof g.metrics[metric]!.value === 'number' ? (g.metrics[metric]!.value as number) : (g.metrics[metric]!.value as { amount: number }).amount), 0);
    for (const metric of ['newCustomers', 'opportunitiesWon', 'orderAmount', 'receivables', 'pipelineAmount']) {
      const total = byOwner.totals.metrics[metric]!.value;
      const n = typeof total === 'number' ? total : (total as { amount: number }).amount;
      expect(sum(byOwner.groups, metric), metric).toBe(n);
      expect(sum(byDepartment.groups, metric), metric).toBe(n);
    }
    // Departments by name; the administrator, in no department, counts under none.
    expect(byDepartment.groups.filter((g) => g.key !== null).every((g) => typeof g.name === 'string')).toBe(true);
    expect(byDepartment.groups.filter((g) => g.key === null).length).toBeLessThanOrEqual(1);
  });

  it('by day and by month: each bucket equals its recomputed numbers, compared with the bucket before and the same one last year', async () => {
    const byMonth = await kpi('from=2026-10-01&to=2027-01-01&groupBy=month');
    expect(byMonth.groups.map((g) => g.key)).toEqual(['2026-10', '2026-11', '2026-12']);
    const months = [['2026-09-01', '2026-10-01'], ['2026-10-01', '2026-11-01'], ['2026-11-01', '2026-12-01'], ['2026-12-01', '2027-01-01']] as const;
    byMonth.groups.forEach((group, i) => {
      expectValues(group.metrics, 'value', expectedOf({ from: months[i + 1]![0], to: months[i + 1]![1] }).get('*'), group.key!);
      expectValues(group.metrics, 'previous', expectedOf({ from: months[i]![0], to: months[i]![1] }).get('*'), group.key!);
      const [f, t] = months[i + 1]!;
      expectValues(group.metrics, 'lastYear', expectedOf({ from: `${Number(f.slice(0, 4)) - 1}${f.slice(4)}`, to: `${Number(t.slice(0, 4)) - 1}${t.slice(4)}` }).get('*'), group.key!);
    });
    // The quarter's totals as without grouping.
    expect(byMonth.totals).toEqual((await kpi('from=2026-10-01&to=2027-01-01')).totals);

    const byDay = await kpi('from=2026-11-19&to=2026-11-23&groupBy=day');
    expect(byDay.groups.map((g) => g.key)).toEqual(['2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22']);
    for (const group of byDay.groups) {
      const day = group.key!;
      const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      const before = new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
      expectValues(group.metrics, 'value', expectedOf({ from: day, to: next }).get('*'), day);
      expectValues(group.metrics, 'previous', expectedOf({ from: before, to: day }).get('*'), day);
    }
    // The trade at 17:30 UTC on the 20th happened on the 21st in the company's time zone.
    expect(byDay.groups[2]!.metrics.opportunitiesCreated!.value).toBe(8);
    expect(byDay.groups[1]!.metrics.opportunitiesCreated!.value).toBe(0);
    expect(byDay.totals).toEqual((await kpi('from=2026-11-19&to=2026-11-23')).totals);
  });

  it('answers only the metrics asked for; a salesperson sees their own numbers; a metric of a module the caller may not view is null', async () => {
    const some = await kpi('from=2026-11-01&to=2026-12-01&metrics=orderAmount,winRate');
    expect(Object.keys(some.totals.metrics)).toEqual(['orderAmount', 'winRate']);

    const rep = await app.login('wang.fang', DEMO_PASSWORD);
    const own = await kpi('from=2026-11-01&to=2026-12-01&groupBy=owner', rep);
    expect(own.groups.map((g) => g.name)).toEqual(['王芳']);
    const repId = own.groups[0]!.key!;
    expectValues(own.totals.metrics, 'value', expectedOf({ from: '2026-11-01', to: '2026-12-01' }).get(repId), '王芳');

    const admin = await app.login();
    const role = await app.request('POST', '/api/v1/roles', { token: admin, body: { name: 'kpi.reports', permissions: { reports: ['view'], orders: ['view'] }, dataScope: 'all' } });
    const hired = await app.request('POST', '/api/v1/employees', { token: admin, body: { name: 'kpi.reports', departmentId: await app.department('kpi'), username: 'kpi.reports', password: 'kpi-reports-1', roleIds: [role.body.id] } });
    expect(hired.status, JSON.stringify(hired.body)).toBe(201);
    const limited = await kpi('from=2026-11-01&to=2026-12-01', await app.firstLogin('kpi.reports', 'kpi-reports-1'));
    expect(limited.totals.metrics.orderAmount).not.toBeNull();
    expect(limited.totals.metrics.winRate).toBeNull();
    expect(limited.totals.metrics.newCustomers).toBeNull();
  });

  it('targets (POST/PATCH/DELETE /api/v1/targets): attainment in the KPI answer, by salesperson, department and month, and in the ranking', async () => {
    const admin = await app.login();
    const rep = await app.login('wang.fang', DEMO_PASSWORD);
    const repId = (await kpi('from=2026-11-01&to=2026-12-01&groupBy=owner', rep)).groups[0]!.key!;
    const departments = (await app.request('GET', '/api/v1/departments', { token: admin })).body.items as { id: string; name: string }[];
    const employees = (await app.request('GET', '/api/v1/employees?limit=100', { token: admin })).body.items as { id: string; departmentId: string | null }[];
    const repDepartment = employees.find((e) => e.id === repId)!.departmentId!;
    const otherDepartment = departments.find((d) => d.id !== repDepartment && employees.some((e) => e.departmentId === d.id))!.id;
    const colleague = employees.find((e) => e.departmentId === otherDepartment)!.id;
    const post = (body: Record<string, unknown>) => app.request('POST', '/api/v1/targets', { token: admin, body });
    // Lists and reports read the targets' read model: let it catch up with the writes (the FerretDB run is slower).
    const settled = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 30_000);

    const orders = await post({ employeeId: repId, month: '2026-11', metric: 'orderAmount', value: cny(10_000_000_00) });
    expect(orders.status, JSON.stringify(orders.body)).toBe(201);
    expect((await post({ employeeId: repId, month: '2026-11', metric: 'newCustomers', value: 4 })).status).toBe(201);
    expect((await post({ departmentId: repDepartment, month: '2026-11', metric: 'collections', value: cny(500_000_00) })).status).toBe(201);
    expect((await post({ employeeId: colleague, month: '2026-11', metric: 'newCustomers', value: 3 })).status).toBe(201);
    // One per whom, metric and month; the value's type follows the metric; whom must exist and be one.
    expectProblem(await post({ employeeId: repId, month: '2026-11', metric: 'orderAmount', value: cny(1) }), 409, 'target.already_exists');
    expectProblem(await post({ employeeId: repId, month: '2026-12', metric: 'newCustomers', value: cny(1) }), 400, 'validation');
    expectProblem(await post({ employeeId: repId, month: '2026-12', metric: 'orderAmount', value: 3 }), 400, 'validation');
    expectProblem(await post({ month: '2026-12', metric: 'orderAmount', value: cny(1) }), 400, 'validation');
    expectProblem(await post({ employeeId: repId, month: '2026-13', metric: 'orderAmount', value: cny(1) }), 400, 'validation');
    expect((await post({ employeeId: '0190a7c2-0000-7000-8000-000000000000', month: '2026-12', metric: 'orderAmount', value: cny(1) })).status).toBeGreaterThanOrEqual(400);
    // Its value changes (the rest stays); removed, it is gone; a salesperson may not list them.
    const changed = await app.request('PATCH', `/api/v1/targets/${orders.body.id}`, { token: admin, body: { value: cny(8_000_000_00) } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expectProblem(await app.request('PATCH', `/api/v1/targets/${orders.body.id}`, { token: admin, body: { metric: 'collections' } }), 409, 'target.key_fixed');
    const spare = await post({ employeeId: repId, month: '2027-01', metric: 'orderAmount', value: cny(1) });
    expect((await app.request('DELETE', `/api/v1/targets/${spare.body.id}`, { token: admin })).status).toBe(200);
    await settled();
    expect((await app.request('GET', `/api/v1/targets/${spare.body.id}`, { token: admin })).status).toBe(404);
    expect((await app.request('GET', '/api/v1/targets?month=2026-11', { token: admin })).body.items).toHaveLength(4);
    expectProblem(await app.request('GET', '/api/v1/targets', { token: rep }), 403, 'forbidden');

    await settled();
    type WithTarget = Metric & { target: unknown; attainment: number | null };
    const attained = (entry: Metric, target: number) => Math.round(((typeof entry.value === 'number' ? entry.value : (entry.value as { amount: number }).amount) / target) * 10_000) / 10_000;
    const own = (await kpi('from=2026-11-01&to=2026-12-01', rep)).totals.metrics;
    expect((own.orderAmount as WithTarget).target).toEqual(cny(8_000_000_00));
    expect((own.orderAmount as WithTarget).attainment).toBe(attained(own.orderAmount!, 8_000_000_00));
    expect((own.newCustomers as WithTarget).target).toBe(4);
    expect((own.collections as WithTarget).target).toBeNull();
    expect((own.collections as WithTarget).attainment).toBeNull();
    expect((own.winRate as WithTarget).target).toBeUndefined();

    const byOwner = await kpi('from=2026-11-01&to=2026-12-01&groupBy=owner');
    const repGroup = byOwner.groups.find((g) => g.key === repId)!;
    expect((repGroup.metrics.orderAmount as WithTarget).attainment).toBe(attained(repGroup.metrics.orderAmount!, 8_000_000_00));
    // The company's totals: everyone's own targets summed.
    expect((byOwner.totals.metrics.newCustomers as WithTarget).target).toBe(7);
    const byDepartment = await kpi('from=2026-11-01&to=2026-12-01&groupBy=department');
    const repDept = byDepartment.groups.find((g) => g.key === repDepartment)!;
    expect((repDept.metrics.collections as WithTarget).target).toEqual(cny(500_000_00));
    expect((repDept.metrics.collections as WithTarget).attainment).toBe(attained(repDept.metrics.collections!, 500_000_00));
    // Without a department target of its own, a department's is its members' summed.
    expect((repDept.metrics.newCustomers as WithTarget).target).toBe(4);
    expect((byDepartment.groups.find((g) => g.key === otherDepartment)!.metrics.newCustomers as WithTarget).target).toBe(3);
    const narrowed = await kpi(`from=2026-11-01&to=2026-12-01&departmentId=${repDepartment}`);
    expect((narrowed.totals.metrics.collections as WithTarget).target).toEqual(cny(500_000_00));
    const byMonth = await kpi('from=2026-10-01&to=2026-12-01&groupBy=month');
    expect(byMonth.groups.map((g) => (g.metrics.newCustomers as WithTarget).target)).toEqual([null, 7]);
    // A period in which no target month starts has none.
    expect(((await kpi('from=2026-11-10&to=2026-11-20')).totals.metrics.orderAmount as WithTarget).target).toBeNull();

    // The ranking: the top seller's own target for the month, and how much of it they made; nobody else has one.
    const rankingOf = async () => (await app.request('GET', '/api/v1/reports/ranking?period=2026-11&by=orders', { token: admin })).body.items as { ownerId: string; orderAmount: { amount: number }; target: unknown; attainment: number | null }[];
    const top = (await rankingOf())[0]!;
    if (top.ownerId !== repId) expect((await post({ employeeId: top.ownerId, month: '2026-11', metric: 'orderAmount', value: cny(8_000_000_00) })).status).toBe(201);
    await settled();
    const ranked = await rankingOf();
    const row = ranked.find((r) => r.ownerId === top.ownerId)!;
    expect(row.target).toEqual(cny(8_000_000_00));
    expect(row.attainment).toBe(Math.round((row.orderAmount.amount / 8_000_000_00) * 10_000) / 10_000);
    for (const other of ranked) if (other.ownerId !== top.ownerId && other.ownerId !== repId) expect(other.target).toBeNull();
  });

  it('the forecast (GET /api/v1/reports/forecast): open opportunities by expected close month and stage, weighted, against the month\'s target; recomputed from the events', async () => {
    const admin = await app.login();
    // Open opportunities as the log leaves them: stage, amount, owner, expected close date.
    const open = new Map<string, { stage: string; status: string; amount: { amount: number; currency: string }; expected: string }>();
    for (const event of events) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- opportunity payloads, read by field name
      const d = event.data as Record<string, any>;
      const o = open.get(event.streamId);
      if (event.type === 'OpportunityCreated') open.set(event.streamId, { stage: d.stage, status: 'open', amount: d.fields.amount, expected: d.fields.expectedCloseDate });
      else if (event.type === 'OpportunityChanged' && o) Object.assign(o, d.changes.amount ? { amount: d.changes.amount } : {}, d.changes.expectedCloseDate ? { expected: d.changes.expectedCloseDate } : {});
      else if ((event.type === 'OpportunityStageChanged' || event.type === 'OpportunityReopened') && o) Object.assign(o, { stage: d.stage, status: 'open' });
      else if (event.type === 'OpportunityWon' && o) o.status = 'won';
      else if (event.type === 'OpportunityLost' && o) o.status = 'lost';
    }
    const probability = Object.fromEntries(defaultStages.map((stage) => [stage.key, stage.probability]));
    const expected = new Map<string, { count: number; amount: number; weighted: number }>();
    for (const o of open.values()) {
      if (o.status !== 'open' || o.amount.currency !== 'CNY' || o.expected < '2026-12-01' || o.expected >= '2027-06-01') continue;
      const month = expected.get(o.expected.slice(0, 7)) ?? { count: 0, amount: 0, weighted: 0 };
      month.count += 1;
      month.amount += o.amount.amount;
      expected.set(o.expected.slice(0, 7), month);
    }
    expect((await app.request('POST', '/api/v1/targets', { token: admin, body: { departmentId: (await app.request('GET', '/api/v1/departments', { token: admin })).body.items[0].id, month: '2027-03', metric: 'orderAmount', value: cny(20_000_000_00) } })).status).toBe(201);
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 30_000);

    const answer = await app.request('GET', '/api/v1/reports/forecast?from=2026-12-01&to=2027-06-01', { token: admin });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const months = answer.body.months as { month: string; count: number; amount: { amount: number }; weightedAmount: { amount: number }; byStage: { stage: string; count: number; amount: { amount: number }; weightedAmount: { amount: number }; probability: number }[]; target: unknown; coverage: number | null }[];
    expect(months.map((m) => m.month)).toEqual(['2026-12', '2027-01', '2027-02', '2027-03', '2027-04', '2027-05']);
    for (const month of months) {
      const want = expected.get(month.month) ?? { count: 0, amount: 0 };
      expect([month.count, month.amount.amount], month.month).toEqual([want.count, want.amount]);
      for (const stage of month.byStage) {
        expect(stage.probability).toBe(probability[stage.stage]);
        expect(stage.weightedAmount.amount).toBe(Math.round((stage.amount.amount * probability[stage.stage]!) / 100));
      }
      expect(month.weightedAmount.amount).toBe(month.byStage.reduce((n, s) => n + s.weightedAmount.amount, 0));
    }
    expect(months.find((m) => m.month === '2027-03')!.count).toBeGreaterThan(0);
    // Against target: March's department target (no employee has one of their own for March).
    const march = months.find((m) => m.month === '2027-03')!;
    expect(march.target).toEqual(null);
    const firstDepartment = (await app.request('GET', '/api/v1/departments', { token: admin })).body.items[0].id as string;
    const narrowed = (await app.request('GET', `/api/v1/reports/forecast?from=2027-03-01&to=2027-04-01&departmentId=${firstDepartment}`, { token: admin })).body;
    expect(narrowed.months[0].target).toEqual(cny(20_000_000_00));
    expect(narrowed.months[0].coverage).toBe(Math.round((narrowed.months[0].weightedAmount.amount / 20_000_000_00) * 10_000) / 10_000);
    expect(narrowed.totals.target).toEqual(cny(20_000_000_00));
    // A salesperson sees their own.
    const rep = await app.login('wang.fang', DEMO_PASSWORD);
    const own = (await app.request('GET', '/api/v1/reports/forecast?from=2026-12-01&to=2027-06-01', { token: rep })).body;
    expect(own.totals.count).toBeLessThan(answer.body.totals.count);
    expectProblem(await app.request('GET', '/api/v1/reports/forecast?from=2027-06-01&to=2026-12-01', { token: admin }), 400, 'validation');
  });

  it('exports as XLSX and CSV (every report does): a row for the totals and each group, opened back and compared', async () => {
    const token = await app.login();
    const query = 'from=2026-11-01&to=2026-12-01&groupBy=owner&metrics=orderAmount,winRate,newCustomers';
    const json = await kpi(query);
    const response = await fetch(`${app.baseUrl}/api/v1/reports/kpi?${query}`, { headers: { accept: XLSX_TYPE, authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(XLSX_TYPE);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(Buffer.from(await response.arrayBuffer()) as never);
    const sheet = workbook.worksheets[0]!;
    const header = (sheet.getRow(1).values as unknown[]).slice(1) as string[];
    const row = (n: number) => Object.fromEntries(header.map((column, i) => [column, sheet.getRow(n).getCell(i + 1).value ?? null]));
    expect(sheet.rowCount).toBe(1 + 1 + json.groups.length);
    expect(row(2)).toMatchObject({ group: 'total', 'orderAmount.value.amount': (json.totals.metrics.orderAmount!.value as { amount: number }).amount, 'winRate.value': json.totals.metrics.winRate!.value, 'newCustomers.previous': json.totals.metrics.newCustomers!.previous });
    json.groups.forEach((group, i) => expect(row(3 + i)).toMatchObject({ group: group.key, name: group.name, 'orderAmount.value.amount': (group.metrics.orderAmount!.value as { amount: number }).amount, 'newCustomers.delta.previous': group.metrics.newCustomers!.delta.previous }));
    expect(header.some((column) => column.includes('breakdown'))).toBe(false);

    // The funnel as CSV: a row per stage, money as dotted columns; negative numbers stay numbers.
    const funnel = (await app.request('GET', '/api/v1/reports/funnel?from=2026-11-01&to=2026-12-01', { token })).body as { stages: { stage: string; count: number; amount: { amount: number } }[] };
    const csv = await fetch(`${app.baseUrl}/api/v1/reports/funnel?from=2026-11-01&to=2026-12-01`, { headers: { accept: 'text/csv', authorization: `Bearer ${token}` } });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).replace(/^\uFEFF/, '').trim().split('\r\n').map((line) => line.split(','));
    expect(lines[0]!.slice(0, 6)).toEqual(['stage', 'name', 'probability', 'count', 'amount.amount', 'amount.currency']);
    expect(lines.slice(1).map((cells) => [cells[0], Number(cells[3]), Number(cells[4])])).toEqual(funnel.stages.map((s) => [s.stage, s.count, s.amount.amount]));
    expect(toCsv([{ delta: -3, text: '-3' }], [{ header: 'delta', value: (r) => r.delta }, { header: 'text', value: (r) => r.text }])).toBe("\uFEFFdelta,text\r\n-3,'-3\r\n");

    // Exporting is reports `export`: a salesperson (view only) is refused.
    const rep = await app.login('wang.fang', DEMO_PASSWORD);
    const refused = await fetch(`${app.baseUrl}/api/v1/reports/kpi?from=2026-11-01&to=2026-12-01`, { headers: { accept: XLSX_TYPE, authorization: `Bearer ${rep}` } });
    expect(refused.status).toBe(403);
  });

  it('answers 400 naming what is wrong: an unknown metric, a bad period or grouping', async () => {
    const token = await app.login();
    const bad = async (query: string, path: string) => {
      const answer = await app.request('GET', `/api/v1/reports/kpi?${query}`, { token });
      expectProblem(answer, 400, 'validation');
      expect(JSON.stringify(answer.body.errors), query).toContain(path);
      return answer.body;
    };
    expect(JSON.stringify((await bad('from=2026-11-01&to=2026-12-01&metrics=orderAmount,profit', 'query.metrics')).errors)).toContain('Unknown metric profit');
    await bad('from=2026-12-01&to=2026-11-01', 'query.from');
    await bad('from=2020-01-01&to=2026-12-01', 'query.to');
    await bad('from=2026-11-05&to=2026-12-01&groupBy=month', 'query.groupBy');
    await bad('from=2025-01-01&to=2026-12-01&groupBy=day', 'query.groupBy');
    await bad('from=2026-11-01&to=2026-12-01&groupBy=week', 'query.groupBy');
    await bad('from=2026-11-01&to=2026-12-01&currency=yuan', 'query.currency');
  });
});
