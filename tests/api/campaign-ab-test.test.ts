import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import type { MemoryMailer } from '../../src/infra/mail/memory.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

const CNY = (amount: number) => ({ amount, currency: 'CNY' });

/** A/B tests over HTTP: a share of the audience gets two templates, a timer decides by the metric, the rest get the winner. */
describe('email campaigns: A/B tests', () => {
  const clock = new ManualClock(new Date('2027-04-01T01:00:00.000Z'));
  let app: TestApp;
  let marketer: { userId: string; token: string };
  let mailer: MemoryMailer;
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
  const get = async (path: string) => {
    await caughtUp();
    return app.request('GET', path, { token: marketer.token });
  };
  const post = (path: string, body: unknown) => app.request('POST', path, { token: marketer.token, body });
  const template = (name: string, subject: string) => ({ name, subject: { 'zh-CN': subject }, html: { 'zh-CN': `<p>{{contact.name}}</p><p><a href="https://shop.example.com/${name}">看看</a></p>` } });
  const campaignWithAudience = async (name: string) => {
    const campaignId = (await post('/api/v1/campaigns', { name, type: 'email', startsOn: '2027-04-01', endsOn: '2027-04-30', budget: CNY(100_000) })).body.id as string;
    // The audience is read from the contacts' read model: caught up with the contacts created before.
    await caughtUp();
    const audience = await post(`/api/v1/campaigns/${campaignId}/audience`, { filter: { resource: 'contacts', query: {} } });
    expect(audience.body.count).toBe(20);
    return campaignId;
  };

  beforeAll(async () => {
    app = await startTestApp({ CRM_PUBLIC_URL: 'https://crm.example.com', CRM_MAIL_RATE_PER_S: '1000' }, { clock });
    mailer = app.services.mailer as MemoryMailer;
    marketer = await app.userWithToken('ab.marketer', ['manager']);
    const customerId = (await post('/api/v1/customers', { name: '华星电子' })).body.id as string;
    for (let i = 0; i < 20; i++) await post('/api/v1/contacts', { customerId, name: `联系人 ${i}`, email: `ab${i}@example.com` });
  });
  afterAll(async () => app.close());

  it('mails the test share with A and B, waits, decides by clicks of people (not scanners) when the timer fires, and sends the winner to the rest, once each', async () => {
    const a = (await post('/api/v1/email-templates', template('plain', '春季新品'))).body.id as string;
    const b = (await post('/api/v1/email-templates', template('bold', '限时：春季新品 8 折'))).body.id as string;
    const campaignId = await campaignWithAudience('A/B 春季');

    // Bad tests are refused: the same template twice, a share that leaves a variant empty, an unknown variant.
    expectProblem(await post(`/api/v1/campaigns/${campaignId}/send`, { templateId: a, abTest: { variantTemplateId: a, share: 0.5, metric: 'clicks', decideAfterHours: 4 } }), 400, 'validation');
    expectProblem(await post(`/api/v1/campaigns/${campaignId}/send`, { templateId: a, abTest: { variantTemplateId: b, share: 0.05, metric: 'clicks', decideAfterHours: 4 } }), 409, 'campaign.ab_test_too_small');
    expectProblem(await post(`/api/v1/campaigns/${campaignId}/send`, { templateId: a, abTest: { variantTemplateId: b, share: 1.5, metric: 'clicks', decideAfterHours: 4 } }), 400, 'validation');
    expectProblem(await post(`/api/v1/campaigns/${campaignId}/send`, { templateId: a, abTest: { variantTemplateId: '0198c0de-0000-7000-8000-000000000000', share: 0.5, metric: 'clicks', decideAfterHours: 4 } }), 404, 'email_template.not_found');

    const before = mailer.sent.length;
    const sent = await post(`/api/v1/campaigns/${campaignId}/send`, { templateId: a, abTest: { variantTemplateId: b, share: 0.5, metric: 'clicks', decideAfterHours: 4 } });
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);
    expect(sent.body).toMatchObject({ total: 20, abTest: { groups: { A: 5, B: 5, rest: 10 }, decideAt: '2027-04-01T05:00:00.000Z' } });
    await app.services.campaigns.send(campaignId);
    const test = mailer.sent.slice(before);
    expect(test).toHaveLength(10);
    const ofA = test.filter((m) => m.subject === '春季新品');
    const ofB = test.filter((m) => m.subject === '限时：春季新品 8 折');
    expect([ofA.length, ofB.length]).toEqual([5, 5]);
    // Undecided, the send does not complete, and running it again mails nobody.
    await app.services.campaigns.send(campaignId);
    expect(mailer.sent.length - before).toBe(10);
    expect((await get(`/api/v1/campaigns/${campaignId}`)).body.send).toMatchObject({ status: 'sending', abTest: { metric: 'clicks', groups: { A: 5, B: 5, rest: 10 } } });

    // People click two B mails a minute after delivery; a scanner clicks every A mail at once (it must not win A the test).
    const local = (url: string) => url.replace('https://crm.example.com', app.baseUrl);
    const clickOf = (html: string) => local(/<a href="([^"]+\/t\/click\/[^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&'));
    for (const mail of ofA) await fetch(clickOf(mail.html!), { redirect: 'manual', headers: { 'User-Agent': 'Mimecast URL Protect' } });
    clock.advance(60_000);
    for (const mail of ofB.slice(0, 2)) await fetch(clickOf(mail.html!), { redirect: 'manual', headers: { 'User-Agent': 'Mozilla/5.0 (Windows NT 10.0)' } });

    // Not yet due: the timer does nothing.
    await caughtUp();
    await app.services.timers.tick();
    expect((await get(`/api/v1/campaigns/${campaignId}`)).body.send.abTest.decided).toBeUndefined();
    clock.advance(4 * 3_600_000);
    await caughtUp();
    await app.services.timers.tick();
    await app.services.campaigns.send(campaignId);
    const campaign = (await get(`/api/v1/campaigns/${campaignId}`)).body;
    expect(campaign.send.abTest.decided).toMatchObject({ winner: 'B', templateId: b, results: { A: { members: 5, delivered: 5, converted: 0, ratePpm: 0 }, B: { members: 5, delivered: 5, converted: 2, ratePpm: 400_000 } } });
    expect(campaign.send).toMatchObject({ status: 'completed', delivered: 20, failed: 0, skipped: 0 });
    const rest = mailer.sent.slice(before + 10);
    expect(rest).toHaveLength(10);
    expect(rest.every((m) => m.subject === '限时：春季新品 8 折')).toBe(true);
    // Everyone got exactly one mail.
    const recipients = mailer.sent.slice(before).map((m) => m.to[0]);
    expect(new Set(recipients).size).toBe(20);
    // A second firing decides nothing again.
    await app.services.timers.tick();
    expect(mailer.sent.length - before).toBe(20);
  });

  it('a tie keeps the template (A); the decision by leads counts leads created for the addresses after delivery', async () => {
    const a = (await post('/api/v1/email-templates', template('a2', 'A 版'))).body.id as string;
    const b = (await post('/api/v1/email-templates', template('b2', 'B 版'))).body.id as string;
    const campaignId = await campaignWithAudience('A/B 线索');
    const before = mailer.sent.length;
    expect((await post(`/api/v1/campaigns/${campaignId}/send`, { templateId: a, abTest: { variantTemplateId: b, share: 0.2, metric: 'leads', decideAfterHours: 1 } })).status).toBe(202);
    await app.services.campaigns.send(campaignId);
    const test = mailer.sent.slice(before);
    expect(test).toHaveLength(4);
    // A lead for one address mailed A and one mailed B: a tie.
    for (const subject of ['A 版', 'B 版']) {
      const to = test.find((m) => m.subject === subject)!.to[0]!;
      expect((await post('/api/v1/leads', { company: `公司 ${to}`, person: to, email: to.toUpperCase() })).status).toBe(201);
    }
    clock.advance(3_600_000);
    await caughtUp();
    await app.services.timers.tick();
    await app.services.campaigns.send(campaignId);
    const send = (await get(`/api/v1/campaigns/${campaignId}`)).body.send;
    expect(send.abTest.decided).toMatchObject({ winner: 'A', templateId: a, results: { A: { delivered: 2, converted: 1 }, B: { delivered: 2, converted: 1 } } });
    expect(send.status).toBe('completed');
    expect(mailer.sent.slice(before + 4).every((m) => m.subject === 'A 版')).toBe(true);
    expect(mailer.sent.length - before).toBe(20);
  });
});
