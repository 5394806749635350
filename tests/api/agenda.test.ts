import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import { calendar } from '../../src/api/icalendar.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/** A salesperson's morning, on a fixed clock: 2026-12-01 09:00 in Shanghai (01:00 UTC). */
describe('the agenda (今日待办) and its calendar feed', () => {
  const clock = new ManualClock(new Date('2025-12-01T02:00:00.000Z'));
  let app: TestApp;
  let seller: { userId: string; token: string };
  let ids: Record<string, string> = {};
  const relogin = async () => (seller.token = await app.login('agenda.seller', 'agenda.seller-password-1'));
  const post = async (path: string, body: unknown) => {
    const response = await app.request('POST', path, { token: seller.token, body });
    expect(response.status, `${path} ${response.text}`).toBe(201);
    return response.body.id as string;
  };

  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    seller = await app.userWithToken('agenda.seller', ['salesperson'], await app.department('Agenda'));
    const other = await app.userWithToken('agenda.other', ['salesperson'], await app.department('Agenda elsewhere'));
    // A year ago: the first order of a customer (an anniversary today), and a later one.
    const customerId = await post('/api/v1/customers', { name: '周年客户' });
    const productId = (await app.request('POST', '/api/v1/products', { body: { code: 'AG-1', name: '阀门', unit: '件', standardPrice: { amount: 1000, currency: 'CNY' }, taxRate: 13 } })).body.id;
    await post('/api/v1/orders', { customerId, lines: [{ productId, quantity: 1 }] });
    clock.set('2026-06-01T02:00:00.000Z');
    await relogin();
    await post('/api/v1/orders', { customerId, lines: [{ productId, quantity: 2 }] });
    clock.set('2026-12-01T01:00:00.000Z');
    await relogin();
    const contactId = await post('/api/v1/contacts', { customerId, name: '寿星', birthday: '1980-12-01' });
    await post('/api/v1/contacts', { customerId, name: '明天生日', birthday: '1985-12-02' });
    const dealId = await post('/api/v1/opportunities', { name: '过期未成交', customerId, amount: { amount: 50_000_00, currency: 'CNY' }, expectedCloseDate: '2026-11-20' });
    await post('/api/v1/opportunities', { name: '还没到期', customerId, amount: { amount: 1_00, currency: 'CNY' }, expectedCloseDate: '2026-12-31' });
    ids = {
      customerId,
      contactId,
      dealId,
      dayPlan: await post('/api/v1/plans', { period: 'day', date: '2026-12-01', items: [{ text: '拜访周年客户' }] }),
      weekPlan: await post('/api/v1/plans', { period: 'week', date: '2026-12-01', items: [{ text: '本周三次拜访' }] }),
      overdue: await post('/api/v1/tasks', { subject: '上周就该打的电话', dueAt: '2026-11-28T02:00:00Z', customerId }),
      today: await post('/api/v1/tasks', { subject: '今天下午发报价', dueAt: '2026-12-01T07:00:00Z', remindAt: '2026-12-01T06:30:00Z', priority: 'high' }),
      // 23:30 in Shanghai is still today there (15:30 UTC); tomorrow's is not on today's agenda.
      lateToday: await post('/api/v1/tasks', { subject: '晚上整理周报', dueAt: '2026-12-01T15:30:00Z' }),
      tomorrow: await post('/api/v1/tasks', { subject: '明天的事', dueAt: '2026-12-01T16:30:00Z' }),
    };
    const logged = await app.request('POST', '/api/v1/activities', { token: seller.token, body: { kind: 'call', customerId, contactId, occurredAt: '2026-12-01T00:30:00Z', summary: '早上电话', nextStep: { subject: '把样品寄出', dueAt: '2026-12-01T08:00:00Z' } } });
    ids.nextStep = logged.body.taskId;
    // Someone else's day stays theirs.
    await app.request('POST', '/api/v1/tasks', { token: other.token, body: { subject: '别人的任务', dueAt: '2026-12-01T03:00:00Z' } });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
  });
  afterAll(async () => app.close());

  it("answers one person's day in one request, in the company's days", async () => {
    const agenda = (await app.request('GET', '/api/v1/me/agenda', { token: seller.token })).body;
    expect(agenda.date).toBe('2026-12-01');
    expect(agenda.timeZone).toBe('Asia/Shanghai');
    expect(agenda.planItems.map((i: { text: string; period: string }) => [i.period, i.text])).toEqual([
      ['day', '拜访周年客户'],
      ['week', '本周三次拜访'],
    ]);
    expect(agenda.tasks.map((t: { id: string; overdue: boolean }) => [t.id, t.overdue])).toEqual([
      [ids.overdue, true],
      [ids.today, false],
      [ids.lateToday, false],
    ]);
    expect(agenda.nextSteps).toMatchObject([{ id: ids.nextStep, subject: '把样品寄出', overdue: false }]);
    expect(agenda.care.birthdays).toEqual([{ contactId: ids.contactId, name: '寿星', customerId: ids.customerId, customerName: '周年客户', birthday: '1980-12-01' }]);
    expect(agenda.care.orderAnniversaries).toEqual([{ customerId: ids.customerId, customerName: '周年客户', firstOrderAt: '2025-12-01T02:00:00.000Z', years: 1 }]);
    expect(agenda.overdueOpportunities).toMatchObject([{ id: ids.dealId, name: '过期未成交', expectedCloseDate: '2026-11-20' }]);
    // Another day, asked for: tomorrow's task, and the birthday then.
    const tomorrow = (await app.request('GET', '/api/v1/me/agenda?date=2026-12-02', { token: seller.token })).body;
    expect(tomorrow.tasks.map((t: { id: string }) => t.id)).toContain(ids.tomorrow);
    expect(tomorrow.care.birthdays.map((b: { name: string }) => b.name)).toEqual(['明天生日']);
    expect(tomorrow.care.orderAnniversaries).toEqual([]);
    expectProblem(await app.request('GET', '/api/v1/me/agenda?date=12/01', { token: seller.token }), 400, 'validation');
  });

  it('a calendar feed behind its own token: tasks with alarms, deals by close date; rotating it stops the old one', async () => {
    const issued = await app.request('POST', '/api/v1/me/agenda-feed', { token: seller.token, body: {} });
    expect(issued.status).toBe(201);
    const path = new URL(issued.body.url).pathname;
    expect(path).toMatch(/^\/api\/v1\/public\/calendar\/[A-Za-z0-9_-]+$/);
    const feed = await app.request('GET', path, { token: null });
    expect(feed.status).toBe(200);
    expect(feed.headers.get('content-type')).toMatch(/^text\/calendar/);
    expect(feed.text).toContain('BEGIN:VCALENDAR\r\n');
    expect(feed.text).toContain(`UID:task-${ids.today}@crm`);
    expect(feed.text).toContain('DTSTART:20261201T070000Z');
    expect(feed.text).toContain('TRIGGER;VALUE=DATE-TIME:20261201T063000Z');
    expect(feed.text).toContain('DTSTART;VALUE=DATE:20261231');
    expect(feed.text).not.toContain('别人的任务');
    const rotated = await app.request('POST', '/api/v1/me/agenda-feed', { token: seller.token, body: {} });
    expect(rotated.body.url).not.toBe(issued.body.url);
    expectProblem(await app.request('GET', path, { token: null }), 404, 'public_link.not_found');
    expect((await app.request('GET', new URL(rotated.body.url).pathname, { token: null })).status).toBe(200);
    expectProblem(await app.request('GET', `${path.slice(0, -2)}xx`, { token: null }), 404, 'public_link.not_found');
  });

  it('writes iCalendar that calendar apps read: escaped text, CRLF, lines folded at 75 octets', () => {
    const text = calendar(new Date('2026-12-01T00:00:00Z'), [{ uid: 'u@crm', summary: `报价; 样品, 合同\\${'很长的标题'.repeat(10)}`, at: '2026-12-01T07:00:00Z', minutes: 30 }]);
    expect(text).toContain('SUMMARY:报价\\; 样品\\, 合同\\\\');
    for (const line of text.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    expect(text.split('\r\n').some((line) => line.startsWith(' '))).toBe(true);
    expect(text.endsWith('END:VCALENDAR\r\n')).toBe(true);
  });
});
