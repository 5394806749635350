import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

const CNY = (amount: number) => ({ amount, currency: 'CNY' });
const unknown = '01900000-0000-7000-8000-00000000dead';

describe('campaigns (营销活动)', () => {
  const clock = new ManualClock(new Date('2027-02-20T02:00:00.000Z'));
  let app: TestApp;
  let marketer: { userId: string; token: string };
  let rep: { userId: string; token: string };
  let engineer: { userId: string; token: string };
  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    marketer = await app.userWithToken('campaign.manager', ['manager']);
    rep = await app.userWithToken('campaign.rep', ['salesperson']);
    engineer = await app.userWithToken('campaign.engineer', ['service_engineer']);
  });
  afterAll(async () => app.close());
  /** Reads come from the read model: wait until it has what was written (a remote read store lags). */
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
  const get = async (path: string, token?: string) => {
    await caughtUp();
    return app.request('GET', path, token === undefined ? {} : { token });
  };

  const create = async (body: Record<string, unknown>, token = marketer.token) => {
    const response = await app.request('POST', '/api/v1/campaigns', { token, body });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body.id as string;
  };
  const spring = { name: '春季新品邮件推广', type: 'email', startsOn: '2027-03-01', endsOn: '2027-03-31', budget: CNY(2_000_000), expected: { leads: 120, opportunities: 20, revenue: CNY(300_000_000) } };

  it('an email campaign has the email template\'s five stages and moves through them, each move kept with who and when', async () => {
    const id = await create(spring);
    const fresh = (await get(`/api/v1/campaigns/${id}`, rep.token)).body;
    expect(fresh).toMatchObject({ ...spring, ownerId: marketer.userId, currentStage: null, stageHistory: [], status: 'active' });
    expect(fresh.stages.map((s: { key: string }) => s.key)).toEqual(['design', 'test', 'audience', 'send', 'evaluate']);
    expect(fresh.stages[2].label).toEqual({ 'zh-CN': '选择客户名单', en: 'Choose the audience' });

    expect((await app.request('POST', `/api/v1/campaigns/${id}/stage`, { token: marketer.token, body: { stage: 'design' } })).status).toBe(200);
    clock.advance(3_600_000);
    expect((await app.request('POST', `/api/v1/campaigns/${id}/stage`, { token: marketer.token, body: { stage: 'test', note: '已发测试邮件给市场部' } })).status).toBe(200);
    const moved = (await get(`/api/v1/campaigns/${id}`, marketer.token)).body;
    expect(moved.currentStage).toBe('test');
    expect(moved.stageHistory).toEqual([
      { stage: 'design', from: null, by: marketer.userId, at: '2027-02-20T02:00:00.000Z' },
      { stage: 'test', from: 'design', by: marketer.userId, at: '2027-02-20T03:00:00.000Z', note: '已发测试邮件给市场部' },
    ]);
    const wrong = await app.request('POST', `/api/v1/campaigns/${id}/stage`, { token: marketer.token, body: { stage: 'run' } });
    expectProblem(wrong, 409, 'campaign.unknown_stage');
    expect(wrong.body.stages).toEqual(['design', 'test', 'audience', 'send', 'evaluate']);
    // A service engineer may not touch campaigns (nor see them: 403 on the module).
    expectProblem(await app.request('POST', `/api/v1/campaigns/${id}/stage`, { token: engineer.token, body: { stage: 'send' } }), 403, 'forbidden');
    expectProblem(await app.request('PATCH', `/api/v1/campaigns/${id}`, { token: marketer.token, body: { type: 'sms' } }), 409, 'campaign.type_fixed');
    expectProblem(await app.request('PATCH', `/api/v1/campaigns/${id}`, { token: marketer.token, body: { endsOn: '2027-02-01' } }), 409, 'campaign.invalid_period');
    expectProblem(await app.request('POST', '/api/v1/campaigns', { token: marketer.token, body: { ...spring, type: 'fax' } }), 400, 'validation');
  });

  it('stage templates are data: changed in the settings, they give new campaigns their stages; existing ones keep theirs', async () => {
    const before = await create({ ...spring, name: '上海工博会', type: 'exhibition' });
    const templates = (await app.request('GET', '/api/v1/settings/campaign-stages')).body;
    expect(templates.email.map((s: { key: string }) => s.key)).toEqual(['design', 'test', 'audience', 'send', 'evaluate']);
    const booth = [
      { key: 'book', label: { 'zh-CN': '订展位', en: 'Book a stand' } },
      { key: 'show', label: { 'zh-CN': '参展', en: 'Exhibit' } },
      { key: 'evaluate', label: { 'zh-CN': '总结评估', en: 'Evaluate' } },
    ];
    expect((await app.request('PUT', '/api/v1/settings/campaign-stages', { body: { exhibition: booth } })).status).toBe(200);
    const after = await create({ ...spring, name: '广州机床展', type: 'exhibition' });
    expect((await get(`/api/v1/campaigns/${after}`)).body.stages).toEqual(booth);
    expect((await get(`/api/v1/campaigns/${before}`)).body.stages.map((s: { key: string }) => s.key)).toEqual(['plan', 'prepare', 'run', 'follow_up', 'evaluate']);
    expect((await app.request('GET', '/api/v1/settings/campaign-stages')).body.email.length).toBe(5);
    expectProblem(await app.request('PUT', '/api/v1/settings/campaign-stages', { body: { exhibition: [booth[0], booth[0]] } }), 400, 'validation');
    expectProblem(await app.request('PUT', '/api/v1/settings/campaign-stages', { token: marketer.token, body: { exhibition: booth } }), 403, 'forbidden');
  });

  it('campaignId on a lead, an opportunity or an expense claim names a real campaign (404 otherwise), for whoever may view campaigns', async () => {
    const id = await create({ ...spring, name: '老客户回馈' });
    const lead = await app.request('POST', '/api/v1/leads', { token: rep.token, body: { company: '苏州精工', person: '李工', campaignId: id } });
    expect(lead.status, JSON.stringify(lead.body)).toBe(201);
    expectProblem(await app.request('POST', '/api/v1/leads', { token: rep.token, body: { company: '苏州精工', person: '李工', campaignId: unknown } }), 404, 'campaign.not_found');
    expectProblem(await app.request('PATCH', `/api/v1/leads/${lead.body.id}`, { token: rep.token, body: { campaignId: unknown } }), 404, 'campaign.not_found');
    const customer = await app.request('POST', '/api/v1/customers', { token: rep.token, body: { name: '无锡动力机械有限公司' } });
    const deal = { name: '空压机 20 台', customerId: customer.body.id, amount: CNY(80_000_000), expectedCloseDate: '2027-06-30' };
    expect((await app.request('POST', '/api/v1/opportunities', { token: rep.token, body: { ...deal, campaignId: id } })).status).toBe(201);
    expectProblem(await app.request('POST', '/api/v1/opportunities', { token: rep.token, body: { ...deal, campaignId: unknown } }), 404, 'campaign.not_found');
    // A service engineer may not view campaigns: to them it does not exist, even on their own expense claim.
    const claim = { lines: [{ category: 'travel', amount: CNY(30_000), date: '2027-02-19', description: '展会差旅' }] };
    expectProblem(await app.request('POST', '/api/v1/expenses', { token: engineer.token, body: { ...claim, campaignId: id } }), 404, 'campaign.not_found');
    expect((await app.request('POST', '/api/v1/expenses', { token: marketer.token, body: { ...claim, campaignId: id } })).status).toBe(201);
    expectProblem(await app.request('POST', '/api/v1/expenses', { token: marketer.token, body: { ...claim, campaignId: unknown } }), 404, 'campaign.not_found');
  });

  it('lists, filters and exports campaigns company-wide; archived ones are told apart', async () => {
    const id = await create({ ...spring, name: '短信促销', type: 'sms' });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
    const sms = (await app.request('GET', '/api/v1/campaigns?type=sms', { token: rep.token })).body;
    expect(sms.items.map((c: { id: string }) => c.id)).toEqual([id]);
    expect(sms.items[0].stages.map((s: { key: string }) => s.key)).toEqual(['design', 'test', 'audience', 'send', 'evaluate']);
    expect((await app.request('POST', `/api/v1/campaigns/${id}/archive`, { token: marketer.token, body: {} })).status).toBe(200);
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
    expect((await app.request('GET', '/api/v1/campaigns?status=archived', { token: rep.token })).body.items.map((c: { id: string }) => c.id)).toEqual([id]);
    expectProblem(await app.request('POST', `/api/v1/campaigns/${id}/stage`, { token: marketer.token, body: { stage: 'design' } }), 409, 'campaign.archived');
    const csv = await app.request('GET', '/api/v1/campaigns', { headers: { Accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    expect(csv.text).toContain('短信促销');
    expectProblem(await app.request('GET', '/api/v1/campaigns', { token: engineer.token }), 403, 'forbidden');
  });
});
