import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

describe('work plans (工作计划) over HTTP', () => {
  let app: TestApp;
  let seller: { userId: string; token: string };
  let colleague: { userId: string; token: string };
  let manager: { userId: string; token: string };
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);

  beforeAll(async () => {
    app = await startTestApp();
    const team = await app.department('Plans team');
    seller = await app.userWithToken('plan.seller', ['salesperson'], team);
    colleague = await app.userWithToken('plan.colleague', ['salesperson'], await app.department('Plans elsewhere'));
    manager = await app.userWithToken('plan.manager', ['manager'], team);
  });
  afterAll(async () => app.close());

  it('a day plan and a week plan: items planned → done / dropped, one plan per period and day, a manager comments', async () => {
    const day = await app.request('POST', '/api/v1/plans', { token: seller.token, body: { period: 'day', date: '2026-12-01', items: [{ text: '拜访苏州精密机械' }, { text: '整理报价单' }] } });
    expect(day.status, day.text).toBe(201);
    const week = await app.request('POST', '/api/v1/plans', { token: seller.token, body: { period: 'week', date: '2026-12-03', items: [{ text: '完成三次拜访' }] } });
    expect(week.status).toBe(201);
    const again = await app.request('POST', '/api/v1/plans', { token: seller.token, body: { period: 'week', date: '2026-12-02', items: [] } });
    expectProblem(again, 409, 'plan.duplicate');
    expect(again.body.existingPlanId).toBe(week.body.id);
    // Someone else's plan for the same day is theirs.
    expect((await app.request('POST', '/api/v1/plans', { token: colleague.token, body: { period: 'day', date: '2026-12-01', items: [] } })).status).toBe(201);
    await caughtUp();
    const plan = (await app.request('GET', `/api/v1/plans/${day.body.id}`, { token: seller.token })).body;
    expect(plan).toMatchObject({ period: 'day', date: '2026-12-01', ownerId: seller.userId, counts: { planned: 2, done: 0, dropped: 0 } });
    expect((await app.request('GET', `/api/v1/plans/${week.body.id}`, { token: seller.token })).body.date).toBe('2026-11-30');
    const [visit, quote] = plan.items;
    const changed = await app.request('PATCH', `/api/v1/plans/${day.body.id}`, {
      token: seller.token,
      body: { items: [{ ...visit, status: 'done', note: '客户同意看方案' }, { ...quote, status: 'dropped', note: '改到明天' }, { text: '临时：回复邮件', status: 'done' }] },
    });
    expect(changed.status).toBe(200);
    const comment = await app.request('POST', `/api/v1/plans/${day.body.id}/comments`, { token: manager.token, body: { text: '报价明天上午必须发出' } });
    expect(comment.status).toBe(200);
    expectProblem(await app.request('POST', `/api/v1/plans/${day.body.id}/comments`, { token: colleague.token, body: { text: '?' } }), 404, 'plan.not_found');
    await caughtUp();
    const after = (await app.request('GET', `/api/v1/plans/${day.body.id}`, { token: seller.token })).body;
    expect(after.counts).toEqual({ planned: 0, done: 2, dropped: 1 });
    expect(after.items.map((i: { id: string }) => i.id).slice(0, 2)).toEqual([visit.id, quote.id]);
    expect(after.comments).toMatchObject([{ authorId: manager.userId, text: '报价明天上午必须发出' }]);
    const listed = (await app.request('GET', '/api/v1/plans?period=day&date=2026-12-01', { token: manager.token })).body.items.map((p: { ownerId: string }) => p.ownerId);
    expect(listed).toEqual([seller.userId]);
    expectProblem(await app.request('GET', `/api/v1/plans/${day.body.id}`, { token: colleague.token }), 404, 'plan.not_found');
    const history = (await app.request('GET', `/api/v1/plans/${day.body.id}/history`, { token: seller.token })).body.items.map((e: { type: string }) => e.type);
    expect(history).toEqual(['PlanCreated', 'PlanItemsChanged', 'PlanCommented']);
    expectProblem(await app.request('PATCH', `/api/v1/plans/${day.body.id}`, { token: seller.token, body: { period: 'week' } }), 400, 'validation');
  });
});
