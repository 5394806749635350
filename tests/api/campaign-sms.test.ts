import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import type { MemorySms } from '../../src/infra/sms/outbox.ts';
import { SmsRejectedError } from '../../src/infra/sms/port.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

const CNY = (amount: number) => ({ amount, currency: 'CNY' });

/** SMS campaigns over HTTP: SMS templates, an audience of mobile numbers, a test, the send through the SMS port with per-member records. */
describe('SMS campaigns', () => {
  const clock = new ManualClock(new Date('2027-05-01T01:00:00.000Z'));
  let app: TestApp;
  let sms: MemorySms;
  let marketer: { userId: string; token: string };
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
  const get = async (path: string) => {
    await caughtUp();
    return app.request('GET', path, { token: marketer.token });
  };
  const post = (path: string, body: unknown) => app.request('POST', path, { token: marketer.token, body });

  beforeAll(async () => {
    app = await startTestApp({ CRM_MAIL_RATE_PER_S: '1000', SMS_SIGN_NAME: '华星电子' }, { clock });
    sms = app.services.sms as MemorySms;
    marketer = await app.userWithToken('sms.marketer', ['manager']);
    const customerId = (await post('/api/v1/customers', { name: '短信客户' })).body.id as string;
    const contacts: [string, string | undefined][] = [['王一', '13900003001'], ['李二', '+86 139-0000-3002'], ['张三', '13900003003'], ['赵四', '13900003004'], ['无手机', undefined], ['退订者', '13900003009']];
    for (const [name, mobile] of contacts) await post('/api/v1/contacts', { customerId, name, ...(mobile ? { mobile } : { email: "nomobile@example.com" }) });
  });
  afterAll(async () => app.close());

  it('templates, an audience of numbers (opted-out ones left out), a test, and a send with a record per member, once each', async () => {
    // An SMS template: a parameter that does not compile is refused, naming it.
    const broken = await post('/api/v1/sms-templates', { name: '坏模板', templateCode: 'SMS_1', params: { name: '{{#if contact.name}}' } });
    expectProblem(broken, 400, 'validation');
    expect(broken.body.errors[0].path).toBe('params.name');
    const templateId = (await post('/api/v1/sms-templates', { name: '春季短信', templateCode: 'SMS_123456789', params: { name: '{{contact.name}}', company: '{{customer.name}}', campaign: '{{campaign.name}}' }, content: '${name}您好，${company}春季新品 8 折' })).body.id as string;
    expect((await get('/api/v1/sms-templates')).body.items.map((t: { name: string }) => t.name)).toEqual(['春季短信']);

    // A number that opted out of texts (the consent ledger, by number) is left out of the audience.
    const optOut = await post('/api/v1/consents', { mobile: '13900003009', given: false, source: 'user', evidence: { note: '电话里说不要短信' } });
    expect(optOut.body).toMatchObject({ mobile: '13900003009', consent: 'withdrawn' });
    expect((await get('/api/v1/consents?mobile=%2B8613900003009')).body).toMatchObject({ mobile: '13900003009', smsConsent: 'withdrawn', emailConsent: 'unknown' });
    expectProblem(await post('/api/v1/consents', { given: false, source: 'user', evidence: {} }), 400, 'validation');

    const campaignId = (await post('/api/v1/campaigns', { name: '五一短信', type: 'sms', startsOn: '2027-05-01', endsOn: '2027-05-07', budget: CNY(10_000) })).body.id as string;
    const audience = await post(`/api/v1/campaigns/${campaignId}/audience`, { filter: { resource: 'contacts', query: {} }, excludeMobiles: ['13900003004'] });
    expect(audience.status, JSON.stringify(audience.body)).toBe(200);
    expect(audience.body).toMatchObject({ count: 3, excluded: 3 });
    const members = (await get(`/api/v1/campaigns/${campaignId}/members`)).body.items;
    expect(members.map((m: { mobile: string }) => m.mobile).sort()).toEqual(['13900003001', '13900003002', '13900003003']);

    // Test: to numbers (an address is refused for an SMS campaign), parameters from the first member.
    expectProblem(await post(`/api/v1/campaigns/${campaignId}/test-send`, { templateId, to: ['me@example.com'] }), 400, 'validation');
    const test = await post(`/api/v1/campaigns/${campaignId}/test-send`, { templateId, to: ['13900009999'] });
    expect(test.status, JSON.stringify(test.body)).toBe(200);
    expect(sms.sent.at(-1)).toMatchObject({ to: '13900009999', templateCode: 'SMS_123456789', signName: '华星电子', params: { campaign: '五一短信' } });

    // An A/B test is for mails; an email template is not an SMS template.
    expectProblem(await post(`/api/v1/campaigns/${campaignId}/send`, { templateId, abTest: { variantTemplateId: '0198c0de-0000-7000-8000-000000000000', share: 0.5, metric: 'clicks', decideAfterHours: 1 } }), 409, 'campaign.ab_test_email_only');
    const mailTemplate = (await post('/api/v1/email-templates', { name: '邮件', subject: { 'zh-CN': '邮件' }, html: { 'zh-CN': '<p>邮件</p>' } })).body.id as string;
    expectProblem(await post(`/api/v1/campaigns/${campaignId}/send`, { templateId: mailTemplate }), 404, 'sms_template.not_found');

    // The gateway refuses one number; 张三 opts out after the list was frozen (skipped at send time).
    await post('/api/v1/consents', { mobile: '13900003003', given: false, source: 'form', evidence: { form: 'https://example.com/stop' } });
    const send = sms.send.bind(sms);
    sms.send = async (message) => {
      if (message.to === '13900003002') throw new SmsRejectedError('invalid mobile number', 'isv.MOBILE_NUMBER_ILLEGAL');
      return send(message);
    };
    const before = sms.sent.length;
    const started = await post(`/api/v1/campaigns/${campaignId}/send`, { templateId });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    await app.services.campaigns.send(campaignId);
    const texts = sms.sent.slice(before);
    expect(texts).toEqual([expect.objectContaining({ to: '13900003001', templateCode: 'SMS_123456789', params: { name: '王一', company: '短信客户', campaign: '五一短信' } })]);
    const campaign = (await get(`/api/v1/campaigns/${campaignId}`)).body;
    expect(campaign.send).toMatchObject({ status: 'completed', total: 3, delivered: 1, failed: 1, skipped: 1 });
    const statuses = Object.fromEntries((await get(`/api/v1/campaigns/${campaignId}/members`)).body.items.map((m: { mobile: string; status: string }) => [m.mobile, m.status]));
    expect(statuses).toEqual({ '13900003001': 'delivered', '13900003002': 'failed', '13900003003': 'unsubscribed' });
    // The per-member records: the request id before, the gateway's message id after.
    const events = (await app.services.eventStore.readAll({ maxCount: 1_000_000 })).filter((e) => (e.data as { campaignId?: string }).campaignId === campaignId && e.type.startsWith('CampaignSms'));
    expect(events.map((e) => e.type).sort()).toEqual(['CampaignSmsAccepted', 'CampaignSmsFailed', 'CampaignSmsSending', 'CampaignSmsSending']);
    expect(events.find((e) => e.type === 'CampaignSmsAccepted')!.data).toMatchObject({ messageId: expect.stringMatching(/^memory-sms-/) });
    // Asked again: nobody gets a second text.
    await app.services.campaigns.send(campaignId);
    expect(sms.sent.length - before).toBe(1);
    const report = (await get(`/api/v1/reports/campaigns/${campaignId}`)).body;
    expect(report).toMatchObject({ sent: 2, delivered: 1, failed: 1, skipped: 1 });
  });
});
