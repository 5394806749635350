import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmOrder, createOrder, cancelOrder } from '../../src/commands/documents.ts';
import { systemActor } from '../../src/commands/employees.ts';
import { createProduct } from '../../src/commands/products.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

const cny = (amount: number) => ({ amount, currency: 'CNY' });
const label = (zh: string, en: string) => ({ 'zh-CN': zh, en });

describe('member levels and customer care (会员等级 / 老客户关怀)', () => {
  const clock = new ManualClock(new Date('2026-12-01T02:00:00.000Z'));
  let app: TestApp;
  let rep: { userId: string; token: string };
  const ids: Record<'big' | 'small' | 'none', string> = { big: '', small: '', none: '' };
  const totals: Record<'big' | 'small', number> = { big: 0, small: 0 };
  let cancelled = '';

  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 20_000);
  /** Fires what is due and lets the read models catch up with what that wrote. */
  const runTimers = async () => {
    await caughtUp();
    await app.services.timers.tick();
    await caughtUp();
  };
  const levelOf = async (id: string) => (await app.request('GET', `/api/v1/customers/${id}`, { token: await app.login() })).body.memberLevel as string | null | undefined;
  const rules = (silver: number, gold: number) => ({
    basis: 'orders',
    windowMonths: 12,
    levels: [
      { key: 'regular', label: label('普通', 'Regular'), minAmount: cny(0) },
      { key: 'silver', label: label('银卡', 'Silver'), minAmount: cny(silver) },
      { key: 'gold', label: label('金卡', 'Gold'), minAmount: cny(gold) },
    ],
  });

  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    rep = await app.userWithToken('levels.rep', ['salesperson'], await app.department('Levels'));
    const meta = () => app.services.requestMeta('test');
    const { productId } = await createProduct(app.services.deps, { code: 'LV-1', name: 'Pump', unit: 'pc', standardPrice: cny(1_000_00), taxRate: 13, active: true }, systemActor, meta());
    for (const key of ['big', 'small', 'none'] as const)
      ids[key] = (await app.request('POST', '/api/v1/customers', { token: rep.token, body: { name: `Levels ${key} Co` } })).body.id;
    const order = async (customerId: string, quantity: number) => {
      const { orderId } = await createOrder(app.services.deps, { customerId, currency: 'CNY', lines: [{ productId, quantity, discountPercent: 0 }], paymentTermsDays: 30, ownerId: rep.userId }, systemActor, meta());
      await confirmOrder(app.services.deps, orderId, systemActor, meta());
      return orderId;
    };
    await order(ids.big, 50);
    await order(ids.small, 5);
    // A cancelled order counts for nothing.
    cancelled = await order(ids.none, 500);
    await cancelOrder(app.services.deps, cancelled, 'withdrawn', systemActor, meta());
    await caughtUp();
    const admin = await app.login();
    for (const key of ['big', 'small'] as const)
      totals[key] = ((await app.request('GET', `/api/v1/orders?customerId=${ids[key]}`, { token: admin })).body.items as { total: { amount: number } }[]).reduce((sum, o) => sum + o.total.amount, 0);
  });
  afterAll(async () => app.close());

  it('has no levels until rules are set; the rules are validated', async () => {
    const admin = await app.login();
    expect((await app.request('GET', '/api/v1/settings/member-levels', { token: admin })).body).toEqual({ basis: 'orders', windowMonths: 12, levels: [] });
    expect(await levelOf(ids.big)).toBeUndefined();
    const twice = rules(100, 200);
    twice.levels[2]!.key = 'silver';
    expectProblem(await app.request('PUT', '/api/v1/settings/member-levels', { token: admin, body: twice }), 400, 'validation');
    const mixed = rules(100, 200);
    mixed.levels[1]!.minAmount = { amount: 100, currency: 'USD' };
    expectProblem(await app.request('PUT', '/api/v1/settings/member-levels', { token: admin, body: mixed }), 400, 'validation');
    expectProblem(await app.request('PUT', '/api/v1/settings/member-levels', { token: admin, body: { ...rules(100, 200), windowMonths: 0 } }), 400, 'validation');
    expectProblem(await app.request('PUT', '/api/v1/settings/member-levels', { token: rep.token, body: rules(100, 200) }), 403, 'forbidden');
  });

  it('setting the rules evaluates everyone: a level per customer, an event in its history, a care task for its owner', async () => {
    const admin = await app.login();
    expect((await app.request('PUT', '/api/v1/settings/member-levels', { token: admin, body: rules(totals.small, totals.big) })).status).toBe(200);
    await runTimers();
    expect(await levelOf(ids.big)).toBe('gold');
    expect(await levelOf(ids.small)).toBe('silver');
    expect(await levelOf(ids.none)).toBe('regular');
    expect((await app.request('GET', '/api/v1/customers?memberLevel=gold', { token: admin })).body.items.map((c: { id: string }) => c.id)).toEqual([ids.big]);

    const history = (await app.request('GET', `/api/v1/customers/${ids.big}/history`, { token: admin })).body.items as { type: string; data: { memberLevel?: { from: string | null; to: string; amount: unknown } } }[];
    const change = history.find((h) => h.type === 'CustomerMemberLevelChanged')!;
    expect(change.data.memberLevel).toMatchObject({ from: null, to: 'gold', amount: cny(totals.big), basis: 'orders', windowMonths: 12 });

    // A first level says nothing about the customer: no care task yet.
    expect((await app.request('GET', `/api/v1/tasks?customerId=${ids.big}`, { token: rep.token })).body.items).toEqual([]);
  });

  it('evaluating again changes nothing (no events, no tasks)', async () => {
    const before = (await app.services.eventStore.readStream(`customer-${ids.big}`)).length;
    const { evaluateMemberLevels } = await import('../../src/commands/member-levels.ts');
    expect(await evaluateMemberLevels(app.services.deps, app.services.readStore, '2026-12-01', app.services.requestMeta('test'))).toBe(0);
    expect((await app.services.eventStore.readStream(`customer-${ids.big}`)).length).toBe(before);
    expect((await app.request('GET', `/api/v1/tasks?customerId=${ids.big}`, { token: rep.token })).body.items).toEqual([]);
  });

  it('a rule change re-evaluates everyone at once', async () => {
    clock.advance(60_000);
    const admin = await app.login();
    await app.request('PUT', '/api/v1/settings/member-levels', { token: admin, body: rules(totals.small, totals.big + 1) });
    await runTimers();
    expect(await levelOf(ids.big)).toBe('silver');
    expect(await levelOf(ids.small)).toBe('silver');
    // Gold → silver: a care task for the owner, due in three days, naming both levels.
    const tasks = (await app.request('GET', `/api/v1/tasks?customerId=${ids.big}`, { token: rep.token })).body.items as { subject: string; ownerId: string; dueAt: string }[];
    expect(tasks).toHaveLength(1);
    expect(tasks[0]!.subject).toContain('金卡 → 银卡');
    expect(tasks[0]!.ownerId).toBe(rep.userId);
    expect(Date.parse(tasks[0]!.dueAt) - clock.now().getTime()).toBe(3 * 86_400_000);
    // Silver stays silver: no task for the small customer.
    expect((await app.request('GET', `/api/v1/tasks?customerId=${ids.small}`, { token: rep.token })).body.items).toEqual([]);
  });

  it('the window moves on: a nightly run a year later finds nothing bought, and everyone is regular', async () => {
    clock.advance(400 * 86_400_000);
    await runTimers();
    expect(await levelOf(ids.big)).toBe('regular');
    expect(await levelOf(ids.small)).toBe('regular');
    // Each fall gives its owner a care task; the customer that was regular already gets none.
    const token = (await app.login('levels.rep', 'levels.rep-password-1'));
    expect((await app.request('GET', `/api/v1/tasks?customerId=${ids.big}`, { token })).body.items).toHaveLength(2);
    expect((await app.request('GET', `/api/v1/tasks?customerId=${ids.small}`, { token })).body.items).toHaveLength(1);
    expect((await app.request('GET', `/api/v1/tasks?customerId=${ids.none}`, { token })).body.items).toEqual([]);
  });

  it('levels taken away altogether leave every customer without one, and make no care tasks', async () => {
    clock.advance(60_000);
    const admin = await app.login();
    expect((await app.request('PUT', '/api/v1/settings/member-levels', { token: admin, body: { basis: 'orders', windowMonths: 12, levels: [] } })).status).toBe(200);
    await runTimers();
    expect(await levelOf(ids.big)).toBeNull();
    const token = await app.login('levels.rep', 'levels.rep-password-1');
    expect((await app.request('GET', `/api/v1/tasks?customerId=${ids.big}`, { token })).body.items).toHaveLength(2);
    // The nightly run scheduled the next one.
    const due = await app.services.readStore.collection('timers_due').findOne({ _id: 'member-levels:run' });
    expect(Date.parse(due!.dueAt as string)).toBeGreaterThan(clock.now().getTime());
  });
});
