import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logActivity } from '../../src/commands/activities.ts';
import { systemActor } from '../../src/commands/employees.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

type User = { userId: string; token: string };

describe('activities (跟进记录) over HTTP', () => {
  let app: TestApp;
  let seller: User;
  let colleague: User;
  let manager: User;
  let customerId: string;
  let contactId: string;
  let opportunityId: string;
  const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3_600_000).toISOString();
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
  const log = (token: string, body: Record<string, unknown>) => app.request('POST', '/api/v1/activities', { token, body: { kind: 'call', customerId, occurredAt: at(1), summary: 'Called about the Q1 order', ...body } });

  beforeAll(async () => {
    app = await startTestApp();
    const east = await app.department('Activities East');
    const west = await app.department('Activities West');
    seller = await app.userWithToken('act.seller', ['salesperson'], east);
    colleague = await app.userWithToken('act.colleague', ['salesperson'], west);
    manager = await app.userWithToken('act.manager', ['manager'], east);
    customerId = (await app.request('POST', '/api/v1/customers', { token: seller.token, body: { name: '苏州精密机械有限公司' } })).body.id;
    contactId = (await app.request('POST', '/api/v1/contacts', { token: seller.token, body: { customerId, name: '王经理', mobile: '13900001111' } })).body.id;
    opportunityId = (await app.request('POST', '/api/v1/opportunities', { token: seller.token, body: { name: '二期产线', customerId, amount: { amount: 800_000_00, currency: 'CNY' }, expectedCloseDate: '2027-03-31' } })).body.id;
  });
  afterAll(async () => app.close());

  it('logs, lists newest first, reads one, changes, and removes (history stays)', async () => {
    const first = await log(seller.token, { occurredAt: at(30), summary: '首次电话沟通', contactId, durationMinutes: 12 });
    expect(first.status).toBe(201);
    const visit = await log(seller.token, {
      kind: 'visit',
      occurredAt: at(2),
      summary: '到厂拜访，参观产线',
      contactId,
      opportunityId,
      outcome: '客户认可方案',
      commitments: ['周五前发送报价', '安排技术交流'],
      checkIn: { place: '苏州工业园区星湖街 88 号', lat: 31.3, lng: 120.7 },
      nextStep: { subject: '发送报价', dueAt: new Date(Date.now() + 3 * 86_400_000).toISOString() },
    });
    expect(visit.status).toBe(201);
    await caughtUp();
    const list = (await app.request('GET', '/api/v1/activities', { token: seller.token })).body;
    expect(list.items.map((a: { id: string }) => a.id)).toEqual([visit.body.id, first.body.id]);
    expect(list.items[0]).toMatchObject({ kind: 'visit', ownerId: seller.userId, checkIn: { place: '苏州工业园区星湖街 88 号' }, commitments: ['周五前发送报价', '安排技术交流'] });
    expect(list.items[0]).not.toHaveProperty('_state');
    expect((await app.request('GET', '/api/v1/activities?kind=call', { token: seller.token })).body.items.map((a: { id: string }) => a.id)).toEqual([first.body.id]);
    expect((await app.request('GET', '/api/v1/activities?q=产线', { token: seller.token })).body.items.map((a: { id: string }) => a.id)).toEqual([visit.body.id]);

    const changed = await app.request('PATCH', `/api/v1/activities/${first.body.id}`, { token: seller.token, body: { outcome: '约好拜访', durationMinutes: null } });
    expect(changed.status).toBe(200);
    const one = (await app.request('GET', `/api/v1/activities/${first.body.id}`, { token: seller.token, headers: { 'x-min-position': changed.headers.get('x-position')! } })).body;
    expect(one).toMatchObject({ outcome: '约好拜访', summary: '首次电话沟通', revision: 1 });
    expect(one).not.toHaveProperty('durationMinutes');

    // Removing takes `delete` (a manager's); the activity leaves lists and timelines, its history stays.
    expectProblem(await app.request('DELETE', `/api/v1/activities/${first.body.id}`, { token: seller.token }), 403, 'forbidden');
    const removed = await app.request('DELETE', `/api/v1/activities/${first.body.id}`, { token: manager.token });
    expect(removed.status).toBe(200);
    await caughtUp();
    expectProblem(await app.request('GET', `/api/v1/activities/${first.body.id}`, { token: seller.token }), 404, 'activity.not_found');
    expect((await app.request('GET', '/api/v1/activities', { token: seller.token })).body.items.map((a: { id: string }) => a.id)).toEqual([visit.body.id]);
    const history = (await app.request('GET', `/api/v1/activities/${first.body.id}/history`, { token: seller.token })).body;
    expect(history.items.map((e: { type: string }) => e.type)).toEqual(['ActivityLogged', 'ActivityChanged', 'ActivityRemoved']);
    expectProblem(await app.request('PATCH', `/api/v1/activities/${first.body.id}`, { token: seller.token, body: { outcome: 'x' } }), 404, 'activity.not_found');
  });

  it('refuses what is not an activity: unknown kinds, the future, a check-in off a visit, another customer', async () => {
    expectProblem(await log(seller.token, { kind: 'telepathy' }), 400, 'validation');
    expectProblem(await log(seller.token, { occurredAt: new Date(Date.now() + 86_400_000).toISOString() }), 400, 'validation');
    expectProblem(await log(seller.token, { checkIn: { place: 'x', lat: 1, lng: 2 } }), 409, 'activity.check_in_visit_only');
    expectProblem(await log(seller.token, { summary: '' }), 400, 'validation');
    expectProblem(await log(seller.token, { customerId: undefined }), 400, 'validation');
    expectProblem(await log(seller.token, { ownerId: colleague.userId }), 400, 'validation');
    const made = await log(seller.token, {});
    expectProblem(await app.request('PATCH', `/api/v1/activities/${made.body.id}`, { token: seller.token, body: { customerId: 'other' } }), 404, 'customer.not_found');
    const other = (await app.request('POST', '/api/v1/customers', { token: seller.token, body: { name: 'Another Co' } })).body.id;
    expectProblem(await app.request('PATCH', `/api/v1/activities/${made.body.id}`, { token: seller.token, body: { customerId: other } }), 409, 'activity.customer_fixed');
  });

  it('kinds are data: an administrator adds one, it is offered; retired, it stays on what has it', async () => {
    expect((await app.request('GET', '/api/v1/activities/kinds', { token: seller.token })).body.items.map((k: { key: string }) => k.key)).toEqual(['call', 'visit', 'meeting', 'email', 'note']);
    expectProblem(await app.request('PUT', '/api/v1/settings/activity-kinds', { token: seller.token, body: { kinds: [] } }), 403, 'forbidden');
    expectProblem(await app.request('PUT', '/api/v1/settings/activity-kinds', { body: { kinds: [{ key: 'call', label: { 'zh-CN': '电话', en: 'Call' } }] } }), 400, 'validation');
    expect((await app.request('PUT', '/api/v1/settings/activity-kinds', { body: { kinds: [{ key: 'wechat', label: { 'zh-CN': '微信', en: 'WeChat' } }] } })).status).toBe(200);
    const kinds = (await app.request('GET', '/api/v1/activities/kinds', { token: seller.token })).body.items;
    expect(kinds[kinds.length - 1]).toEqual({ key: 'wechat', label: { 'zh-CN': '微信', en: 'WeChat' }, builtIn: false });
    const chat = await log(seller.token, { kind: 'wechat', summary: '微信确认交期' });
    expect(chat.status).toBe(201);
    await app.request('PUT', '/api/v1/settings/activity-kinds', { body: { kinds: [{ key: 'wechat', label: { 'zh-CN': '微信', en: 'WeChat' }, active: false }] } });
    expectProblem(await log(seller.token, { kind: 'wechat' }), 400, 'validation');
    expect((await app.request('PATCH', `/api/v1/activities/${chat.body.id}`, { token: seller.token, body: { kind: 'wechat', outcome: '已确认' } })).status).toBe(200);
  });

  it('is scoped by its owner; a record in scope shows its whole timeline, whoever logged it', async () => {
    const mine = await log(seller.token, { summary: '只有我和经理能看到', opportunityId });
    await caughtUp();
    expectProblem(await app.request('GET', `/api/v1/activities/${mine.body.id}`, { token: colleague.token }), 404, 'activity.not_found');
    expect((await app.request('GET', '/api/v1/activities', { token: colleague.token })).body.items).toEqual([]);
    expect((await app.request('GET', `/api/v1/activities/${mine.body.id}`, { token: manager.token })).status).toBe(200);
    // Not on a customer outside one's scope, nor through one.
    expectProblem(await log(colleague.token, {}), 404, 'customer.not_found');
    expectProblem(await app.request('GET', `/api/v1/customers/${customerId}/activities`, { token: colleague.token }), 404, 'customer.not_found');
    expectProblem(await app.request('PATCH', `/api/v1/activities/${mine.body.id}`, { token: colleague.token, body: { outcome: 'x' } }), 404, 'activity.not_found');

    const timeline = async (path: string, token: string) => (await app.request('GET', path, { token })).body.items.map((a: { summary: string }) => a.summary);
    expect(await timeline(`/api/v1/customers/${customerId}/activities`, seller.token)).toContain('只有我和经理能看到');
    expect(await timeline(`/api/v1/opportunities/${opportunityId}/activities`, seller.token)).toEqual(['只有我和经理能看到', '到厂拜访，参观产线']);
    expect(await timeline(`/api/v1/contacts/${contactId}/activities`, seller.token)).toEqual(['到厂拜访，参观产线']);
    expect(await timeline(`/api/v1/customers/${customerId}/activities?kind=visit`, seller.token)).toEqual(['到厂拜访，参观产线']);
    const paged = (await app.request('GET', `/api/v1/customers/${customerId}/activities?limit=1`, { token: seller.token })).body;
    expect(paged.items).toHaveLength(1);
    const next = (await app.request('GET', `/api/v1/customers/${customerId}/activities?limit=1&cursor=${paged.nextCursor}`, { token: seller.token })).body;
    expect(next.items[0].id).not.toBe(paged.items[0].id);

    // Handed to the colleague, the customer's whole timeline comes with it; the activities list stays each one's own.
    expect((await app.request('POST', `/api/v1/customers/${customerId}/assign`, { token: manager.token, body: { ownerId: colleague.userId } })).status).toBe(200);
    await caughtUp();
    expect(await timeline(`/api/v1/customers/${customerId}/activities`, colleague.token)).toContain('只有我和经理能看到');
    expect((await app.request('GET', '/api/v1/activities', { token: colleague.token })).body.items).toEqual([]);
    expect((await log(colleague.token, { summary: '接手后的第一次电话' })).status).toBe(201);
  });

  it('carries custom fields and exports CSV', async () => {
    expect((await app.request('POST', '/api/v1/settings/fields/activities', { body: { key: 'satisfaction', label: { 'zh-CN': '满意度', en: 'Satisfaction' }, type: 'integer' } })).status).toBe(201);
    const other = (await app.request('POST', '/api/v1/customers', { token: manager.token, body: { name: 'CSV Co' } })).body.id;
    const made = await log(manager.token, { customerId: other, summary: '满意度回访', custom: { satisfaction: 5 } });
    expect(made.status).toBe(201);
    expectProblem(await log(manager.token, { customerId: other, custom: { satisfaction: 'high' } }), 400, 'validation');
    await caughtUp();
    expect((await app.request('GET', '/api/v1/activities?custom.satisfaction=5', { token: manager.token })).body.items.map((a: { id: string }) => a.id)).toEqual([made.body.id]);
    const csv = await app.request('GET', '/api/v1/activities', { token: manager.token, headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    expect(csv.text).toContain('满意度回访');
  });

  it('a hidden field stays hidden in lists, timelines, one activity, history, CSV, filters, sorts and search', async () => {
    const SECRET = '价格底线 88 万';
    const department = await app.department('Activities hidden');
    const roleId = (
      await app.request('POST', '/api/v1/roles', {
        body: { name: 'Hides outcomes', permissions: { customers: ['view', 'create'], activities: ['view', 'create', 'export'] }, dataScope: 'department', fieldSecurity: { activities: { outcome: 'hidden' } } },
      })
    ).body.id as string;
    const hiderId = (await app.request('POST', '/api/v1/employees', { body: { name: 'act.hider', departmentId: department, username: 'act.hider', password: 'act.hider-pass-1', roleIds: [roleId] } })).body.id as string;
    const token = await app.firstLogin('act.hider', 'act.hider-pass-1');
    const own = (await app.request('POST', '/api/v1/customers', { token, body: { name: 'Hidden Outcome Co' } })).body.id;
    // Logged as theirs by another way in (an import, a colleague's tool): the outcome is there, hidden from them.
    const made = { body: await logActivity(app.services.deps, { kind: 'meeting', customerId: own, occurredAt: at(1), summary: 'Negotiation', outcome: SECRET }, { ...systemActor, userId: hiderId }, app.services.requestMeta('test')) };
    await caughtUp();
    for (const path of ['/api/v1/activities', `/api/v1/activities/${made.body.id}`, `/api/v1/activities/${made.body.id}/history`, `/api/v1/customers/${own}/activities`]) {
      const response = await app.request('GET', path, { token });
      expect(response.status, path).toBe(200);
      expect(response.text, path).not.toContain(SECRET);
    }
    const csv = await app.request('GET', '/api/v1/activities', { token, headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    expect(csv.text).not.toContain(SECRET);
    expect((await app.request('GET', '/api/v1/activities?q=88', { token })).body.items).toEqual([]);
    expectProblem(await app.request('GET', '/api/v1/activities?sort=outcome', { token }), 400, 'validation');
    expectProblem(await app.request('POST', '/api/v1/activities', { token, body: { kind: 'call', customerId: own, occurredAt: at(1), summary: 'x', outcome: 'y' } }), 403, 'field.readonly');
  });
});
