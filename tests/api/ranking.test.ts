import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import { acting } from '../support/acting.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

type User = { userId: string; token: string };
const CNY = (amount: number) => ({ amount, currency: 'CNY' });

/** The sales ranking, and the setting that lets salespeople see where they stand among their peers (issue 18). */
describe('sales ranking among peers', () => {
  let app: TestApp;
  let east1: User;
  let east2: User;
  let west: User;
  let manager: User;
  const { ok } = acting(() => app);
  const ranking = async (user: User, query = '') => (await ok(user, 'GET', `/api/v1/reports/ranking?period=2026-11${query}`)).items.map((row: { ownerId: string; rank: number }) => [row.rank, row.ownerId]);

  beforeAll(async () => {
    app = await startTestApp({}, { clock: new ManualClock(new Date('2026-11-10T02:00:00.000Z')) });
    const eastId = await app.department('Ranking east');
    const westId = await app.department('Ranking west');
    east1 = await app.userWithToken('rank.east1', ['salesperson'], eastId);
    east2 = await app.userWithToken('rank.east2', ['salesperson'], eastId);
    west = await app.userWithToken('rank.west', ['salesperson'], westId);
    manager = await app.userWithToken('rank.manager', ['manager'], eastId);
    const productId = (await app.request('POST', '/api/v1/products', { body: { code: 'RANK-1', name: '阀门', unit: '个', standardPrice: CNY(10_000), taxRate: 13 } })).body.id;
    // Confirmed orders this month: east2 sells most, then west, then east1.
    for (const [seller, quantity] of [[east1, 1], [east2, 5], [west, 3]] as const) {
      const customerId = (await ok(seller, 'POST', '/api/v1/customers', { name: `Ranking customer of ${seller.userId}` })).id;
      const order = await ok(seller, 'POST', '/api/v1/orders', { customerId, lines: [{ productId, quantity }] });
      await ok(seller, 'POST', `/api/v1/orders/${order.id}/confirm`, {});
    }
  });
  afterAll(async () => app.close());

  it('by default a salesperson sees only themselves, a manager their tree', async () => {
    expect(await ranking(east1)).toEqual([[1, east1.userId]]);
    expect(await ranking(manager)).toEqual([
      [1, east2.userId],
      [2, east1.userId],
    ]);
    expect(await ok({ token: await app.login() }, 'GET', '/api/v1/settings/ranking')).toEqual({ peers: 'none' });
  });

  it("with peers: 'department' a salesperson sees their department's members; with 'company' everyone", async () => {
    const admin = { token: await app.login() };
    await ok(admin, 'PUT', '/api/v1/settings/ranking', { peers: 'department' });
    expect(await ranking(east1)).toEqual([
      [1, east2.userId],
      [2, east1.userId],
    ]);
    expect(await ranking(west)).toEqual([[1, west.userId]]);
    await ok(admin, 'PUT', '/api/v1/settings/ranking', { peers: 'company' });
    expect(await ranking(east1)).toEqual([
      [1, east2.userId],
      [2, west.userId],
      [3, east1.userId],
    ]);
    // Asking for a department is a report over that department, in scope as ever.
    expect(await ranking(east1, `&departmentId=${(await ok(admin, 'GET', `/api/v1/employees/${west.userId}`)).departmentId}`)).toEqual([]);
    // The peers are in the ranking only: their records stay out of scope.
    expect((await ok(east1, 'GET', '/api/v1/orders')).items.every((order: { ownerId: string }) => order.ownerId === east1.userId)).toBe(true);
    await ok(admin, 'PUT', '/api/v1/settings/ranking', { peers: 'none' });
    expect(await ranking(east1)).toEqual([[1, east1.userId]]);
  });

  it('refuses a setting it does not know', async () => {
    expectProblem(await app.request('PUT', '/api/v1/settings/ranking', { body: { peers: 'everyone' } }), 400, 'validation');
    expectProblem(await app.request('PUT', '/api/v1/settings/ranking', { token: east1.token, body: { peers: 'company' } }), 403, 'forbidden');
  });
});
