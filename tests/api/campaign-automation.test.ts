import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import type { MemoryMailer } from '../../src/infra/mail/memory.ts';
import { automationCategory } from '../../src/domain/campaign/automation.ts';
import { birthdaysOn } from '../../src/commands/birthday-care.ts';
import type { EventConsumer } from '../../src/integrations/event-source.ts';
import { startMarketingAutomation } from '../../src/integrations/marketing/automation.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';
import { waitUntil } from '../support/wait.ts';

const CNY = (amount: number) => ({ amount, currency: 'CNY' });

/** Automation actions beyond mails and tasks: add to a campaign; and the birthdays the service raises itself. */
describe('marketing automation: add to a campaign, birthday care', () => {
  // 2027-06-15 09:30 in Shanghai.
  const clock = new ManualClock(new Date('2027-06-15T01:30:00.000Z'));
  let app: TestApp;
  let consumer: EventConsumer;
  let mailer: MemoryMailer;
  let seller: { userId: string; token: string };
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
  const tick = async () => {
    await caughtUp();
    return app.services.timers.tick();
  };
  const done = async () => (await app.services.eventStore.readAll({ maxCount: 1_000_000 })).filter((e) => e.streamId.startsWith(`${automationCategory}-`) && e.type === 'AutomationDone').map((e) => e.data as { outcome: string; detail: string });

  beforeAll(async () => {
    app = await startTestApp({ CRM_MAIL_RATE_PER_S: '1000' }, { clock });
    mailer = app.services.mailer as MemoryMailer;
    consumer = await startMarketingAutomation(app.services);
    seller = await app.userWithToken('auto.seller', ['salesperson']);
  });
  afterAll(async () => {
    await consumer.close();
    await app.close();
  });

  it('add_to_campaign: a web lead joins the campaign\'s member list once; a campaign sent since takes no one', async () => {
    const campaignId = (await app.request('POST', '/api/v1/campaigns', { body: { name: '网站线索培育', type: 'email', startsOn: '2027-06-01', endsOn: '2027-06-30', budget: CNY(0) } })).body.id as string;
    const rule = (target: string) => [{ key: 'nurture', name: '网站线索加入培育活动', when: { eventType: 'LeadCreated', conditions: { 'fields.source': 'web' } }, do: { action: 'add_to_campaign', campaignId: target } }];
    expectProblem(await app.request('PUT', '/api/v1/settings/marketing-automation', { body: rule('01900000-0000-7000-8000-00000000dead') }), 404, 'campaign.not_found');
    expect((await app.request('PUT', '/api/v1/settings/marketing-automation', { body: rule(campaignId) })).status).toBe(200);

    await app.request('POST', '/api/v1/leads', { token: seller.token, body: { company: '网站访客公司', person: '吴先生', source: 'web', email: 'wu@example.com' } });
    await app.request('POST', '/api/v1/leads', { token: seller.token, body: { company: '展会访客', person: '郑女士', source: 'fair', email: 'zheng@example.com' } });
    await app.request('POST', '/api/v1/leads', { token: seller.token, body: { company: '网站访客公司', person: '吴先生', source: 'web', email: 'WU@example.com' } });
    await waitUntil(async () => (await done()).length === 2 || (await tick()) < 0, 20_000, () => 'two firings done');
    expect((await done()).map((d) => d.outcome).sort()).toEqual(['added', 'skipped']);
    await caughtUp();
    const campaign = (await app.request('GET', `/api/v1/campaigns/${campaignId}`)).body;
    expect(campaign.audience).toMatchObject({ count: 1, filter: null });
    const members = (await app.request('GET', `/api/v1/campaigns/${campaignId}/members`)).body;
    // One member for the address, from whichever of the two leads' firings came first.
    expect(members.items).toEqual([expect.objectContaining({ resource: 'leads', status: 'targeted' })]);
    expect(members.items[0].email.toLowerCase()).toBe('wu@example.com');

    // Sent: the member gets the mail; a later web lead is not added (the firing says why).
    const templateId = (await app.request('POST', '/api/v1/email-templates', { body: { name: '培育', subject: { 'zh-CN': '{{contact.name}}，欢迎' }, html: { 'zh-CN': '<p>{{customer.name}}</p>' } } })).body.id as string;
    expect((await app.request('POST', `/api/v1/campaigns/${campaignId}/send`, { body: { templateId } })).status).toBe(202);
    await app.services.campaigns.send(campaignId);
    expect(mailer.sent.filter((m) => m.to[0]!.toLowerCase() === 'wu@example.com' && m.subject === '吴先生，欢迎')).toHaveLength(1);
    await app.request('POST', '/api/v1/leads', { token: seller.token, body: { company: '晚来的访客', person: '王先生', source: 'web', email: 'wang@example.com' } });
    await waitUntil(async () => (await done()).length === 3 || (await tick()) < 0, 20_000, () => 'the third firing done');
    expect((await done()).at(-1)).toMatchObject({ outcome: 'skipped', detail: expect.stringContaining('sent') });
  });

  it("birthday care: today's birthdays (29 February's on 28 February in other years) fire the ContactBirthday rules once a year", async () => {
    const customerId = (await app.request('POST', '/api/v1/customers', { token: seller.token, body: { name: '生日客户' } })).body.id as string;
    await app.request('POST', '/api/v1/contacts', { token: seller.token, body: { customerId, name: '今天生日', mobile: '13900002001', email: 'today@example.com', birthday: '1985-06-15' } });
    await app.request('POST', '/api/v1/contacts', { token: seller.token, body: { customerId, name: '明天生日', mobile: '13900002002', email: 'tomorrow@example.com', birthday: '1990-06-16' } });
    const templateId = (await app.request('POST', '/api/v1/email-templates', { body: { name: '生日祝福', subject: { 'zh-CN': '{{contact.name}}，生日快乐' }, html: { 'zh-CN': '<p>祝您生日快乐！</p><p><a href="{{unsubscribeUrl}}">退订</a></p>' } } })).body.id as string;
    const rules = [
      { key: 'birthday_mail', name: '生日祝福邮件', when: { eventType: 'ContactBirthday' }, do: { action: 'send_template', templateId } },
      { key: 'birthday_call', name: '生日关怀电话', when: { eventType: 'ContactBirthday' }, do: { action: 'create_task', subject: '生日关怀：打个电话', dueInHours: 8 } },
    ];
    expect((await app.request('PUT', '/api/v1/settings/marketing-automation', { body: rules })).status).toBe(200);
    const before = mailer.sent.length;
    // The rules' save starts the daily run at once: today's birthdays are raised, then the firings are due.
    await tick();
    await tick();
    const mails = () => mailer.sent.slice(before).filter((m) => m.subject.endsWith('生日快乐'));
    expect(mails().map((m) => m.to[0])).toEqual(['today@example.com']);
    await caughtUp();
    const tasks = (await app.request('GET', '/api/v1/tasks', { token: seller.token })).body.items.filter((t: { subject: string }) => t.subject === '生日关怀：打个电话');
    expect(tasks).toHaveLength(1);
    // Ticks later the same day raise nothing again; the next morning raises tomorrow's.
    await tick();
    expect(mails()).toHaveLength(1);
    clock.advance(24 * 3_600_000);
    await tick();
    await tick();
    expect(mails().map((m) => m.to[0])).toEqual(['today@example.com', 'tomorrow@example.com']);
    // A marketing mail, so it carries the one-click unsubscribe (RFC 8058) and a link in its body; it is honoured.
    const greeting = mails()[0]!;
    expect(greeting.headers!['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(greeting.html).toContain('/api/v1/public/unsubscribe/');
    const link = greeting.headers!['List-Unsubscribe']!.slice(1, -1).replace(/^https?:\/\/[^/]+/, app.baseUrl);
    const unsubscribed = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(unsubscribed.status).toBe(200);
    const ledger = (await app.request('GET', '/api/v1/consents?email=today@example.com')).body;
    expect(ledger).toMatchObject({ emailConsent: 'withdrawn', entries: [expect.objectContaining({ source: 'link', evidence: expect.objectContaining({ automation: expect.stringMatching(/^birthday_mail\./) }) })] });
    expect(birthdaysOn('2027-02-28')).toEqual(['02-28', '02-29']);
    expect(birthdaysOn('2028-02-28')).toEqual(['02-28']);
  });
});
