import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, seedCompany } from '../../src/cli/seed-company.ts';
import { actorOf } from '../../src/commands/access.ts';
import { changeActivity, logActivity, removeActivity } from '../../src/commands/activities.ts';
import { cancelOrder, confirmOrder, createOrder } from '../../src/commands/documents.ts';
import { findEmployeeByUsername, systemActor } from '../../src/commands/employees.ts';
import { load } from '../../src/commands/pipeline.ts';
import { changePlanItems, createPlan } from '../../src/commands/plans.ts';
import { cancelTask, changeTask, createTask, reassignTask } from '../../src/commands/tasks.ts';
import { employees } from '../../src/cli/seed-data.ts';
import { planDecider } from '../../src/domain/plan/index.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import type { TeamCounts } from '../../src/projections/team-view.ts';
import type { RecordedEvent } from '../../src/infra/eventstore/port.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

type Counts = TeamCounts;
type Member = Counts & { employeeId: string; name: string };

const zone = 'Asia/Shanghai';
const dayIn = (iso: string) => new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));

/**
 * The team view recomputed here, straight from the event log, by the rules the API documents (written again, on
 * purpose, without the projection's code): the two must agree number for number.
 */
function recompute(events: readonly RecordedEvent[], range: { from: string; to: string }, now: Date): Map<string, Counts> {
  const result = new Map<string, Counts>();
  const of = (ownerId: string): Counts => {
    let counts = result.get(ownerId);
    if (!counts)
      result.set(ownerId, (counts = { planItems: { done: 0, open: 0 }, activities: { total: 0, byKind: {} }, newCustomers: 0, leadsWorked: 0, opportunities: { created: 0, moved: 0, won: 0, lost: 0 }, quotesSent: 0, orders: { count: 0, amount: { amount: 0, currency: 'CNY' } }, collections: { count: 0, amount: { amount: 0, currency: 'CNY' } }, shipments: 0, tasksOverdue: 0 }));
    return counts;
  };
  const inRange = (day: string) => day >= range.from && day < range.to;
  const owners = new Map<string, string>();
  const orders = new Map<string, { total: number; currency: string; confirmed?: { day: string; ownerId: string } }>();
  const activities = new Map<string, { ownerId: string; kind: string; occurredAt: string }>();
  const plans = new Map<string, { ownerId: string; date: string; items: { status: string }[] }>();
  const tasks = new Map<string, { ownerId: string; dueAt: string; status: string; doneAt?: string }>();
  for (const event of events) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the payloads of many event types, read by field name
    const d = event.data as Record<string, any>;
    const at = event.metadata.at;
    const owner = owners.get(event.streamId)!;
    switch (event.type) {
      case 'CustomerRegistered':
        if (d.ownerId && inRange(dayIn(at))) of(d.ownerId).newCustomers += 1;
        break;
      case 'LeadCreated':
      case 'OpportunityCreated':
      case 'QuoteCreated':
      case 'OrderCreated':
        owners.set(event.streamId, d.ownerId);
        if (event.type === 'OpportunityCreated' && inRange(dayIn(at))) of(d.ownerId).opportunities.created += 1;
        if (event.type === 'OrderCreated') orders.set(event.streamId, { total: d.totals.total, currency: d.currency });
        break;
      case 'LeadOwnerChanged':
      case 'OpportunityOwnerChanged':
      case 'QuoteOwnerChanged':
      case 'OrderOwnerChanged':
        owners.set(event.streamId, d.ownerId);
        break;
      case 'LeadStatusChanged':
      case 'LeadConverted':
      case 'LeadDisqualified':
        if (inRange(dayIn(at))) of(owner).leadsWorked += 1;
        break;
      case 'OpportunityStageChanged':
      case 'OpportunityReopened':
        if (inRange(dayIn(at))) of(owner).opportunities.moved += 1;
        break;
      case 'OpportunityWon':
        if (inRange(dayIn(at))) of(owner).opportunities.won += 1;
        break;
      case 'OpportunityLost':
        if (inRange(dayIn(at))) of(owner).opportunities.lost += 1;
        break;
      case 'QuoteSent':
        if (inRange(dayIn(at))) of(owner).quotesSent += 1;
        break;
      case 'OrderConfirmed':
        orders.get(event.streamId)!.confirmed = { day: d.confirmedOn, ownerId: owner };
        break;
      case 'OrderCancelled':
        delete orders.get(event.streamId)!.confirmed;
        break;
      case 'PaymentReceived':
        if (d.currency === 'CNY' && inRange(dayIn(d.receivedAt))) {
          of(owner).collections.count += 1;
          of(owner).collections.amount.amount += d.amount;
        }
        break;
      case 'OrderShipped':
        if (inRange(dayIn(d.shippedAt))) of(owner).shipments += 1;
        break;
      case 'ActivityLogged':
        activities.set(event.streamId, { ownerId: d.ownerId, kind: d.fields.kind, occurredAt: d.fields.occurredAt });
        break;
      case 'ActivityChanged':
        Object.assign(activities.get(event.streamId)!, d.changes.kind ? { kind: d.changes.kind } : {}, d.changes.occurredAt ? { occurredAt: d.changes.occurredAt } : {});
        break;
      case 'ActivityRemoved':
        activities.delete(event.streamId);
        break;
      case 'PlanCreated':
        plans.set(event.streamId, { ownerId: d.ownerId, date: d.date, items: d.items });
        break;
      case 'PlanItemsChanged':
        plans.get(event.streamId)!.items = d.items;
        break;
      case 'TaskCreated':
        tasks.set(event.streamId, { ownerId: d.ownerId, dueAt: d.fields.dueAt, status: 'open' });
        break;
      case 'TaskChanged':
        if (d.changes.dueAt) tasks.get(event.streamId)!.dueAt = d.changes.dueAt;
        break;
      case 'TaskReassigned':
        tasks.get(event.streamId)!.ownerId = d.ownerId;
        break;
      case 'TaskDone':
        Object.assign(tasks.get(event.streamId)!, { status: 'done', doneAt: at });
        break;
      case 'TaskCancelled':
        tasks.get(event.streamId)!.status = 'cancelled';
        break;
    }
  }
  for (const order of orders.values())
    if (order.confirmed && order.currency === 'CNY' && inRange(order.confirmed.day)) {
      of(order.confirmed.ownerId).orders.count += 1;
      of(order.confirmed.ownerId).orders.amount.amount += order.total;
    }
  for (const activity of activities.values())
    if (inRange(dayIn(activity.occurredAt))) {
      const counts = of(activity.ownerId).activities;
      counts.total += 1;
      counts.byKind[activity.kind] = (counts.byKind[activity.kind] ?? 0) + 1;
    }
  for (const plan of plans.values())
    if (inRange(plan.date)) {
      of(plan.ownerId).planItems.done += plan.items.filter((i) => i.status === 'done').length;
      of(plan.ownerId).planItems.open += plan.items.filter((i) => i.status === 'planned').length;
    }
  for (const task of tasks.values())
    if (inRange(dayIn(task.dueAt)) && task.status !== 'cancelled' && task.dueAt < now.toISOString() && (task.status === 'open' || task.doneAt! > task.dueAt)) of(task.ownerId).tasksOverdue += 1;
  return result;
}

describe('the team view (GET /api/v1/dashboard/team)', () => {
  const clock = new ManualClock(new Date('2026-12-02T03:00:00.000Z'));
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    await seedCompany(app.services, 40, () => {}, { salesDays: 7 });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 150_000);
  }, 240_000);
  afterAll(async () => app.close());

  /** A login whose role grants only these permissions, over everyone's records. */
  const withPermissions = async (name: string, permissions: Record<string, string[]>) => {
    const admin = await app.login();
    const role = await app.request('POST', '/api/v1/roles', { token: admin, body: { name, permissions, dataScope: 'all' } });
    expect(role.status, JSON.stringify(role.body)).toBe(201);
    const hired = await app.request('POST', '/api/v1/employees', { token: admin, body: { name, departmentId: await app.department(name), username: name, password: `${name}-pass-1`, roleIds: [role.body.id] } });
    expect(hired.status, JSON.stringify(hired.body)).toBe(201);
    return app.firstLogin(name, `${name}-pass-1`);
  };

  const counts = (member: Member): Counts => {
    const { employeeId: _id, name: _name, departmentId: _department, ...rest } = member as Member & { departmentId: unknown };
    return rest;
  };

  it.each([
    ['the whole seeded stretch', '2026-11-01', '2026-12-10'],
    ['one past day', '2026-11-27', '2026-11-28'],
    ['the last week up to today', '2026-11-25', '2026-12-03'],
  ])('equals the numbers recomputed from the events: %s', async (_name, from, to) => {
    const token = await app.login();
    const answer = await app.request('GET', `/api/v1/dashboard/team?from=${from}&to=${to}`, { token });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const expected = recompute(await app.services.eventStore.readAll(), { from, to }, clock.now());
    const items = answer.body.items as Member[];
    for (const item of items) expect(counts(item), item.name).toEqual(expected.get(item.employeeId) ?? recomputeEmpty());
    // Nobody with numbers is missing from the answer.
    for (const ownerId of expected.keys()) expect(items.some((i) => i.employeeId === ownerId), ownerId).toBe(true);
    expect(answer.body.currency).toBe('CNY');
  });

  it('the seeded weeks show work of every kind', async () => {
    const token = await app.login();
    const { body } = await app.request('GET', '/api/v1/dashboard/team?from=2026-11-01&to=2026-12-10', { token });
    const totals = body.totals as Counts;
    expect(totals.activities.total).toBeGreaterThan(100);
    expect(totals.planItems.done).toBeGreaterThan(0);
    expect(totals.planItems.open).toBeGreaterThan(0);
    // The 40 seeded customers and those leads became.
    expect(totals.newCustomers).toBeGreaterThanOrEqual(40);
    expect(totals.opportunities.created).toBeGreaterThan(0);
    expect(totals.quotesSent).toBeGreaterThan(0);
    expect(totals.orders.count).toBeGreaterThan(0);
    expect(totals.orders.amount.amount).toBeGreaterThan(0);
    expect(totals.tasksOverdue).toBeGreaterThan(0);
    // The twelve of the sales team, the four of the service desk (and the administrator, in everyone's scope).
    expect(body.items.length).toBe(17);
    // The totals are the sums of the rows.
    const sum = (pick: (c: Counts) => number) => (body.items as Counts[]).reduce((n, c) => n + pick(c), 0);
    for (const pick of [(c: Counts) => c.activities.total, (c: Counts) => c.planItems.done, (c: Counts) => c.newCustomers, (c: Counts) => c.orders.amount.amount, (c: Counts) => c.tasksOverdue, (c: Counts) => c.opportunities.moved])
      expect(pick(totals)).toBe(sum(pick));
  });

  it("each caller sees the salespeople in their scope; a department narrows it; a part whose module they may not view is null", async () => {
    const rep = await app.login('wang.fang', DEMO_PASSWORD);
    const own = (await app.request('GET', '/api/v1/dashboard/team?from=2026-11-01&to=2026-12-10', { token: rep })).body.items as Member[];
    expect(own.map((i) => i.name)).toEqual(['王芳']);
    const manager = await app.login('zhang.wei', DEMO_PASSWORD);
    const east = (await app.request('GET', '/api/v1/dashboard/team?from=2026-11-01&to=2026-12-10', { token: manager })).body.items as Member[];
    expect(east.map((i) => i.name).sort()).toEqual(['张伟', '李强', '王芳'].sort());
    const director = await app.login('sun.hui', DEMO_PASSWORD);
    const departments = (await app.request('GET', '/api/v1/departments', { token: director })).body.items as { id: string; name: string }[];
    const south = departments.find((d) => d.name.startsWith('华南'))!.id;
    const narrowed = (await app.request('GET', `/api/v1/dashboard/team?from=2026-11-01&to=2026-12-10&departmentId=${south}`, { token: director })).body.items as Member[];
    expect(narrowed.map((i) => i.name).sort()).toEqual(['刘洋', '杨敏', '陈静'].sort());
    // The manager of East asking for South sees nobody (South is outside their scope).
    expect((await app.request('GET', `/api/v1/dashboard/team?from=2026-11-01&to=2026-12-10&departmentId=${south}`, { token: manager })).body.items).toEqual([]);

    const reportsOnly = await withPermissions('team.reports', { reports: ['view'] });
    const limited = (await app.request('GET', '/api/v1/dashboard/team?from=2026-11-01&to=2026-12-10', { token: reportsOnly })).body;
    expect(limited.items.length).toBeGreaterThan(0);
    for (const item of limited.items) {
      expect(item.activities).toBeNull();
      expect(item.orders).toBeNull();
      expect(item.tasksOverdue).toBeNull();
    }
    expect(limited.totals.orders).toBeNull();
  });

  it('answers 400 for a bad period or an unknown department, 403 without reports view', async () => {
    const token = await app.login();
    expectProblem(await app.request('GET', '/api/v1/dashboard/team?from=2026-12-02&to=2026-12-01', { token }), 400, 'validation');
    expectProblem(await app.request('GET', '/api/v1/dashboard/team?from=2026-12-01', { token }), 400, 'validation');
    expectProblem(await app.request('GET', '/api/v1/dashboard/team?from=2020-01-01&to=2026-12-01', { token }), 400, 'validation');
    expectProblem(await app.request('GET', '/api/v1/dashboard/team?from=2026-11-01&to=2026-12-01&departmentId=0190a7c2-0000-7000-8000-000000000000', { token }), 400, 'validation');
    const nobody = await withPermissions('team.noreports', { activities: ['view'] });
    expectProblem(await app.request('GET', '/api/v1/dashboard/team?from=2026-11-01&to=2026-12-01', { token: nobody }), 403, 'forbidden');
  });

  it('corrections move the numbers with them: an activity changed or removed, a task moved or reassigned, a plan updated, an order cancelled', async () => {
    const { deps } = app.services;
    const meta = () => app.services.requestMeta('test');
    const ids = await findEmployeeIds(app);
    const rep = { ...systemActor, userId: ids['wang.fang']! };
    const customerId = (await app.request('GET', '/api/v1/customers?limit=1&sort=createdAt', { token: await app.login('wang.fang', DEMO_PASSWORD) })).body.items[0].id as string;
    const kept = await logActivity(deps, { kind: 'call', customerId, occurredAt: '2026-11-26T02:00:00.000Z', summary: '电话回访' }, rep, meta());
    const dropped = await logActivity(deps, { kind: 'visit', customerId, occurredAt: '2026-11-26T03:00:00.000Z', summary: '上门拜访' }, rep, meta());
    await changeActivity(deps, kept.id, { kind: 'meeting', occurredAt: '2026-11-20T02:00:00.000Z' }, rep, meta());
    await removeActivity(deps, dropped.id, rep, meta());
    const task = await createTask(deps, { subject: '寄样品', dueAt: '2026-11-27T02:00:00.000Z', priority: 'normal' }, rep, meta());
    await changeTask(deps, task.id, { dueAt: '2026-11-25T02:00:00.000Z' }, rep, meta());
    await reassignTask(deps, task.id, ids['li.qiang']!, (await actorOf(deps, ids['zhang.wei']!))!, meta());
    const late = await createTask(deps, { subject: '确认交期', dueAt: '2026-11-24T02:00:00.000Z', priority: 'high' }, rep, meta());
    await cancelTask(deps, late.id, 'no longer needed', rep, meta());
    const plan = await createPlan(deps, { period: 'day', date: '2026-11-23', items: [{ text: '拜访客户', status: 'planned' }, { text: '整理报价', status: 'planned' }] }, rep, meta());
    const items = (await load(deps, planDecider, `plan-${plan.id}`)).state as { items: { id: string; text: string }[] };
    await changePlanItems(deps, plan.id, { items: items.items.map((item, i) => ({ id: item.id, text: item.text, status: i === 0 ? 'done' : 'dropped' })) }, rep, meta());
    const products = (await app.request('GET', '/api/v1/products?limit=1', { token: await app.login() })).body.items as { id: string }[];
    const order = await createOrder(deps, { customerId, currency: 'CNY', lines: [{ productId: products[0]!.id, quantity: 2, discountPercent: 0 }], paymentTermsDays: 30, ownerId: ids['wang.fang']! }, systemActor, meta());
    await confirmOrder(deps, order.orderId, systemActor, meta());
    await cancelOrder(deps, order.orderId, 'customer withdrew', systemActor, meta());
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 30_000);

    const token = await app.login();
    const { body } = await app.request('GET', '/api/v1/dashboard/team?from=2026-11-01&to=2026-12-10', { token });
    const expected = recompute(await app.services.eventStore.readAll(), { from: '2026-11-01', to: '2026-12-10' }, clock.now());
    for (const item of body.items as Member[]) expect(counts(item), item.name).toEqual(expected.get(item.employeeId) ?? recomputeEmpty());
  });

  it("today's overdue tasks count as their due time passes, with no event", async () => {
    const token = await app.login('wang.fang', DEMO_PASSWORD);
    const dueAt = new Date(clock.now().getTime() + 3_600_000).toISOString();
    expect((await app.request('POST', '/api/v1/tasks', { token, body: { subject: '回电话', dueAt } })).status).toBe(201);
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
    const overdue = async () => {
      const fresh = await app.login('wang.fang', DEMO_PASSWORD);
      return ((await app.request('GET', '/api/v1/dashboard/team?from=2026-12-02&to=2026-12-03', { token: fresh })).body.items as Member[])[0]!.tasksOverdue;
    };
    const before = await overdue();
    clock.advance(2 * 3_600_000);
    expect(await overdue()).toBe(before + 1);
    clock.advance(-2 * 3_600_000);
  });
});

const recomputeEmpty = (): Counts => ({ planItems: { done: 0, open: 0 }, activities: { total: 0, byKind: {} }, newCustomers: 0, leadsWorked: 0, opportunities: { created: 0, moved: 0, won: 0, lost: 0 }, quotesSent: 0, orders: { count: 0, amount: { amount: 0, currency: 'CNY' } }, collections: { count: 0, amount: { amount: 0, currency: 'CNY' } }, shipments: 0, tasksOverdue: 0 });

async function findEmployeeIds(app: TestApp): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const { username } of employees) ids[username] = (await findEmployeeByUsername(app.services.deps, username))!.employeeId;
  return ids;
}
