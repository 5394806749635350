import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import type { MemoryMailer } from '../../src/infra/mail/memory.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';
import { dsnFixture } from '../support/dsn.ts';

const CNY = (amount: number) => ({ amount, currency: 'CNY' });
const DSN_TOKEN = 'dsn-token-for-the-mail-server-0123456789';

/** The five-stage email flow over HTTP, with the in-memory mail port (the Mailpit suite sends through real SMTP). */
describe('email campaigns: templates, audience, test send, send, tracking, unsubscribe', () => {
  const clock = new ManualClock(new Date('2027-03-01T01:00:00.000Z'));
  let app: TestApp;
  let marketer: { userId: string; token: string };
  let rep: { userId: string; token: string };
  let otherRep: { userId: string; token: string };
  let mailer: MemoryMailer;
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
  const get = async (path: string, token: string) => {
    await caughtUp();
    return app.request('GET', path, { token });
  };
  const post = (path: string, body: unknown, token: string) => app.request('POST', path, { token, body });

  beforeAll(async () => {
    app = await startTestApp({ CRM_PUBLIC_URL: 'https://crm.example.com', CRM_MAIL_RATE_PER_S: '1000', CRM_MAIL_DSN_TOKEN: DSN_TOKEN }, { clock });
    mailer = app.services.mailer as MemoryMailer;
    const sales = await app.department('华东销售部');
    marketer = await app.userWithToken('mail.marketer', ['manager']);
    rep = await app.userWithToken('mail.rep', ['salesperson'], sales);
    otherRep = await app.userWithToken('mail.other', ['salesperson'], await app.department('华南销售部'));
    // The rep's customers: two with contacts that have addresses, one contact without; the other rep's customer.
    for (const [i, industry] of ['制造', '制造', '贸易'].entries()) {
      const customerId = (await post('/api/v1/customers', { name: `华星电子 ${i}`, industry }, rep.token)).body.id as string;
      await post('/api/v1/contacts', { customerId, name: `联系人 ${i}`, mobile: `1390000000${i}`, email: `buyer${i}@example.com` }, rep.token);
    }
    const noMail = (await post('/api/v1/customers', { name: '无邮箱公司', industry: '制造' }, rep.token)).body.id as string;
    await post('/api/v1/contacts', { customerId: noMail, name: '没有邮箱', mobile: '13900000099' }, rep.token);
    const foreign = (await post('/api/v1/customers', { name: '别人的客户', industry: '制造' }, otherRep.token)).body.id as string;
    await post('/api/v1/contacts', { customerId: foreign, name: '别人的联系人', mobile: '13900000098', email: 'foreign@example.com' }, otherRep.token);
  });
  afterAll(async () => app.close());

  const template = {
    name: '春季新品',
    subject: { 'zh-CN': '{{contact.name}}，{{customer.name}} 的春季新品', en: 'Spring range for {{customer.name}}' },
    html: { 'zh-CN': '<p>{{contact.name}} 您好</p><p><a href="https://shop.example.com/spring?a=1&amp;b=2">看看新品</a></p><p><a href="{{unsubscribeUrl}}">退订</a></p>' },
  };

  it('runs design → test → audience → send: one mail per member in scope, tracked and unsubscribable, progress on the campaign', async () => {
    const campaignId = (await post('/api/v1/campaigns', { name: '春季邮件', type: 'email', startsOn: '2027-03-01', endsOn: '2027-03-31', budget: CNY(500_000) }, rep.token)).body.id as string;
    // design: a template that does not compile is refused, naming the part.
    const broken = await post('/api/v1/email-templates', { ...template, html: { 'zh-CN': '<p>{{#if contact.name}}oops</p>' } }, rep.token);
    expectProblem(broken, 400, 'validation');
    expect(broken.body.errors[0].path).toBe('html.zh-CN');
    const created = await post('/api/v1/email-templates', template, rep.token);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const templateId = created.body.id as string;
    expect((await get('/api/v1/email-templates', rep.token)).body.items.map((t: { name: string }) => t.name)).toContain('春季新品');
    await post(`/api/v1/campaigns/${campaignId}/stage`, { stage: 'design' }, rep.token);

    // send before an audience: refused.
    expectProblem(await post(`/api/v1/campaigns/${campaignId}/send`, { templateId }, rep.token), 409, 'campaign.no_audience');

    // test
    const test = await post(`/api/v1/campaigns/${campaignId}/test-send`, { templateId, to: ['me@example.com'] }, rep.token);
    expect(test.status, JSON.stringify(test.body)).toBe(200);
    expect(mailer.sent.at(-1)).toMatchObject({ to: ['me@example.com'] });
    expect(mailer.sent.at(-1)!.subject).toMatch(/^\[测试 TEST\] /);

    // audience: the rep's customers in 制造 (their contacts), in the rep's scope only; one without an address is left out.
    const audience = await post(`/api/v1/campaigns/${campaignId}/audience`, { filter: { resource: 'customers', query: { industry: '制造' } } }, rep.token);
    expect(audience.status, JSON.stringify(audience.body)).toBe(200);
    expect(audience.body).toMatchObject({ count: 2, excluded: 1 });
    const badFilter = await post(`/api/v1/campaigns/${campaignId}/audience`, { filter: { resource: 'customers', query: { colour: 'red' } } }, rep.token);
    expectProblem(badFilter, 400, 'validation');
    expect(badFilter.body.errors[0].path).toBe('filter.query.colour');
    const members = (await get(`/api/v1/campaigns/${campaignId}/members`, rep.token)).body;
    expect(members.total).toBe(2);
    expect(members.items.map((m: { email: string }) => m.email).sort()).toEqual(['buyer0@example.com', 'buyer1@example.com']);
    expect(members.items.every((m: { status: string }) => m.status === 'targeted')).toBe(true);
    // The other rep sees none of these members (their records are outside the other rep's scope).
    expect((await get(`/api/v1/campaigns/${campaignId}/members`, otherRep.token)).body.total).toBe(0);

    // send
    const before = mailer.sent.length;
    const sent = await post(`/api/v1/campaigns/${campaignId}/send`, { templateId }, rep.token);
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);
    expect(sent.body).toMatchObject({ id: campaignId, status: 'sending', total: 2 });
    await app.services.campaigns.send(campaignId);
    await caughtUp();
    const mails = mailer.sent.slice(before);
    expect(mails.map((m) => m.to[0]).sort()).toEqual(['buyer0@example.com', 'buyer1@example.com']);
    const mail = mails.find((m) => m.to[0] === 'buyer0@example.com')!;
    expect(mail.subject).toBe('联系人 0，华星电子 0 的春季新品');
    expect(mail.headers!['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(mail.headers!['List-Unsubscribe']).toMatch(/^<https:\/\/crm\.example\.com\/api\/v1\/public\/unsubscribe\/[A-Za-z0-9_-]+>$/);
    expect(mail.text).toContain('联系人 0 您好');
    const campaign = (await get(`/api/v1/campaigns/${campaignId}`, rep.token)).body;
    expect(campaign.send).toMatchObject({ status: 'completed', total: 2, delivered: 2, failed: 0, skipped: 0, templateId });
    expectProblem(await post(`/api/v1/campaigns/${campaignId}/send`, { templateId }, rep.token), 409, 'campaign.already_sent');
    expectProblem(await post(`/api/v1/campaigns/${campaignId}/audience`, { filter: { resource: 'contacts', query: {} } }, rep.token), 409, 'campaign.already_sent');

    // The pixel and the click, through their signed links; a tampered token is refused and never redirects.
    const local = (url: string) => url.replace('https://crm.example.com', app.baseUrl);
    const pixel = /<img src="([^"]+)"/.exec(mail.html!)![1]!.replace(/&amp;/g, '&');
    const opened = await fetch(local(pixel), { headers: { 'User-Agent': 'Mozilla/5.0 (Macintosh)' } });
    expect(opened.status).toBe(200);
    expect(opened.headers.get('content-type')).toBe('image/gif');
    const click = /<a href="([^"]+\/t\/click\/[^"]+)"/.exec(mail.html!)![1]!.replace(/&amp;/g, '&');
    const clicked = await fetch(local(click), { redirect: 'manual' });
    expect(clicked.status).toBe(302);
    expect(clicked.headers.get('location')).toBe('https://shop.example.com/spring?a=1&b=2');
    const token = click.split('/').at(-1)!;
    const tampered = `${token.slice(0, 30)}${token[30] === 'A' ? 'B' : 'A'}${token.slice(31)}`;
    const refused = await fetch(`${app.baseUrl}/api/v1/public/t/click/${tampered}`, { redirect: 'manual' });
    expect(refused.status).toBe(404);
    expect(refused.headers.get('location')).toBeNull();
    // A click token is not an open token.
    expect((await fetch(`${app.baseUrl}/api/v1/public/t/open/${token}`)).status).toBe(404);
    await caughtUp();
    const engaged = (await get(`/api/v1/campaigns/${campaignId}/members`, rep.token)).body.items.find((m: { email: string }) => m.email === 'buyer0@example.com');
    expect(engaged).toMatchObject({ status: 'clicked', opens: 1, clicks: 1 });

    // Unsubscribe: GET shows a page and changes nothing; the one-click POST unsubscribes; the ledger says why.
    const unsubscribe = local(mail.headers!['List-Unsubscribe']!.slice(1, -1));
    const page = await fetch(unsubscribe);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post">');
    expect((await get('/api/v1/consents?email=buyer0@example.com', rep.token)).body.emailConsent).toBe('unknown');
    const oneClick = await fetch(unsubscribe, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(oneClick.status).toBe(200);
    const ledger = (await get('/api/v1/consents?email=buyer0@example.com', rep.token)).body;
    expect(ledger.emailConsent).toBe('withdrawn');
    expect(ledger.entries).toEqual([expect.objectContaining({ type: 'opt_out', channel: 'email', source: 'link', evidence: expect.objectContaining({ campaignId, via: 'List-Unsubscribe-Post' }) })]);
    await caughtUp();
    const gone = (await get(`/api/v1/campaigns/${campaignId}/members`, rep.token)).body.items.find((m: { email: string }) => m.email === 'buyer0@example.com');
    expect(gone.status).toBe('unsubscribed');

    // A bounce report for buyer1's mail: with the integration token only; a hard bounce marks the member and suppresses the address.
    const buyer1 = mails.find((m) => m.to[0] === 'buyer1@example.com')!;
    const report = dsnFixture('hard-bounce', { recipient: 'buyer1@example.com', messageId: buyer1.messageId, campaignId });
    const dsn = (token: string | undefined, body = report) => fetch(`${app.baseUrl}/api/v1/mail/dsn`, { method: 'POST', headers: { 'content-type': 'multipart/report; report-type=delivery-status; boundary="BOUNDARY-1"', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body });
    expect((await dsn(undefined)).status).toBe(401);
    expect((await dsn(rep.token)).status).toBe(401);
    expect((await dsn(DSN_TOKEN, 'not a report')).status).toBe(400);
    const bounced = await dsn(DSN_TOKEN);
    expect(bounced.status).toBe(200);
    expect(await bounced.json()).toMatchObject({ matched: true, campaignId, recorded: [{ recipient: 'buyer1@example.com', kind: 'hard', status: '5.1.1' }] });
    // A report about a mail that is no campaign's is accepted and matches nothing.
    expect(await (await dsn(DSN_TOKEN, dsnFixture('hard-bounce', { recipient: 'x@example.com', messageId: '<other@example.com>' }))).json()).toMatchObject({ matched: false, recorded: [] });
    await caughtUp();
    expect((await get(`/api/v1/campaigns/${campaignId}/members?status=bounced`, rep.token)).body.items.map((m: { email: string }) => m.email)).toEqual(['buyer1@example.com']);

    // Suppression: the next campaign leaves the unsubscribed and the bounced addresses out of its audience.
    const next = (await post('/api/v1/campaigns', { name: '夏季邮件', type: 'email', startsOn: '2027-06-01', endsOn: '2027-06-30', budget: CNY(0) }, rep.token)).body.id as string;
    const second = await post(`/api/v1/campaigns/${next}/audience`, { filter: { resource: 'contacts', query: {} } }, rep.token);
    expect(second.body).toMatchObject({ count: 1, excluded: 3 });
    const kept = (await get(`/api/v1/campaigns/${next}/members`, rep.token)).body.items.map((m: { email: string }) => m.email).sort();
    expect(kept).toEqual(['buyer2@example.com']);
  });

  it('refuses a send to the wrong kind of campaign, an unknown template, and callers without the permission', async () => {
    const fair = (await post('/api/v1/campaigns', { name: '展会', type: 'exhibition', startsOn: '2027-04-01', endsOn: '2027-04-03', budget: CNY(0) }, marketer.token)).body.id as string;
    const templateId = (await post('/api/v1/email-templates', template, marketer.token)).body.id as string;
    await post(`/api/v1/campaigns/${fair}/audience`, { filter: { resource: 'leads', query: {} } }, marketer.token);
    expectProblem(await post(`/api/v1/campaigns/${fair}/send`, { templateId }, marketer.token), 409, 'campaign.not_email');
    expectProblem(await post(`/api/v1/campaigns/${fair}/send`, { templateId: '01900000-0000-7000-8000-00000000dead' }, marketer.token), 404, 'email_template.not_found');
    const engineer = await app.userWithToken('mail.engineer', ['service_engineer']);
    expectProblem(await post('/api/v1/email-templates', template, engineer.token), 403, 'forbidden');
    expectProblem(await post(`/api/v1/campaigns/${fair}/test-send`, { templateId, to: ['x@example.com'] }, engineer.token), 403, 'forbidden');
  });

  it('reports results from counters that equal a recount of the events: people\'s opens and clicks, first-touch leads and deals, won revenue, costs and ROI; the threshold is data', async () => {
    const campaignId = (await post('/api/v1/campaigns', { name: '秋季邮件', type: 'email', startsOn: '2027-03-01', endsOn: '2027-03-31', budget: CNY(300_000) }, marketer.token)).body.id as string;
    const templateId = (await post('/api/v1/email-templates', template, marketer.token)).body.id as string;
    const frozen = await post(`/api/v1/campaigns/${campaignId}/audience`, { filter: { resource: 'leads', query: { source: 'fair-2027' } } }, marketer.token);
    expect(frozen.status).toBe(200);
    expect(frozen.body.count).toBe(0);
    for (const i of [0, 1, 2]) await post('/api/v1/leads', { company: `秋季客户 ${i}`, person: `客户 ${i}`, email: `autumn${i}@example.com`, source: 'fair-2027' }, marketer.token);
    await caughtUp();
    expect((await post(`/api/v1/campaigns/${campaignId}/audience`, { filter: { resource: 'leads', query: { source: 'fair-2027' } } }, marketer.token)).body.count).toBe(3);
    const before = mailer.sent.length;
    expect((await post(`/api/v1/campaigns/${campaignId}/send`, { templateId }, marketer.token)).status).toBe(202);
    await app.services.campaigns.send(campaignId);
    const mails = mailer.sent.slice(before);
    const linksOf = (to: string) => {
      const html = mails.find((m) => m.to[0] === to)!.html!;
      const local = (url: string) => url.replace('https://crm.example.com', app.baseUrl).replace(/&amp;/g, '&');
      return { pixel: local(/<img src="([^"]+)"/.exec(html)![1]!), click: local(/<a href="([^"]+\/t\/click\/[^"]+)"/.exec(html)![1]!) };
    };
    // A scanner fetches every pixel and link at once (HEAD, its agent); a person opens autumn0's 5 s after delivery, autumn1's a minute later, and clicks.
    for (const i of [0, 1, 2]) {
      await fetch(linksOf(`autumn${i}@example.com`).pixel, { method: 'HEAD', headers: { 'User-Agent': 'Mimecast Security Scanner' } });
      await fetch(linksOf(`autumn${i}@example.com`).click, { redirect: 'manual', headers: { 'User-Agent': 'Barracuda URL checker' } });
    }
    clock.advance(5_000);
    await fetch(linksOf('autumn0@example.com').pixel, { headers: { 'User-Agent': 'Mozilla/5.0 (iPhone)' } });
    clock.advance(55_000);
    await fetch(linksOf('autumn1@example.com').pixel, { headers: { 'User-Agent': 'Mozilla/5.0 (Windows NT 10.0)' } });
    await fetch(linksOf('autumn1@example.com').click, { redirect: 'manual', headers: { 'User-Agent': 'Mozilla/5.0 (Windows NT 10.0)' } });
    // Last touch: autumn1 clicked, then asks for a quote through the web form: a new lead for that address.
    const webLead = (await post('/api/v1/leads', { company: '秋季客户 1 的询价', person: '客户 1', email: 'autumn1@example.com', source: 'web' }, marketer.token)).body.id as string;
    // …which becomes a deal, won, quoted and ordered: last touch follows it.
    const converted = (await post(`/api/v1/leads/${webLead}/convert`, { createOpportunity: { name: '秋季询价成交', amount: CNY(800_000), expectedCloseDate: '2027-04-30' } }, marketer.token)).body;
    expect((await post(`/api/v1/opportunities/${converted.opportunityId}/win`, {}, marketer.token)).status).toBe(200);
    const productId = (await post('/api/v1/products', { code: 'AUTUMN-1', name: '秋季新品', unit: '台', standardPrice: CNY(100_000), taxRate: 13 }, marketer.token)).body.id as string;
    const orderFrom = async (customer: string, opportunityId: string) => {
      const quoteId = (await post('/api/v1/quotes', { customerId: customer, opportunityId, validUntil: '2027-04-30', lines: [{ productId, quantity: 2 }] }, marketer.token)).body.id as string;
      expect((await post(`/api/v1/quotes/${quoteId}/send`, {}, marketer.token)).status).toBe(200);
      const accepted = await post(`/api/v1/quotes/${quoteId}/accept`, { paymentTermsDays: 30 }, marketer.token);
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
      return accepted.body.orderId as string;
    };
    await orderFrom(converted.customerId, converted.opportunityId);
    // First touch: two leads and a deal cite the campaign; the deal is won. Costs: one entered, one expense claim.
    await post('/api/v1/leads', { company: '回复的客户', person: '赵六', campaignId, source: 'campaign' }, marketer.token);
    await post('/api/v1/leads', { company: '另一个客户', person: '钱七', campaignId, source: 'campaign' }, marketer.token);
    const customerId = (await post('/api/v1/customers', { name: '秋季成交客户' }, marketer.token)).body.id as string;
    const dealId = (await post('/api/v1/opportunities', { name: '秋季大单', customerId, amount: CNY(1_200_000), expectedCloseDate: '2027-04-30', campaignId }, marketer.token)).body.id as string;
    expect((await post(`/api/v1/opportunities/${dealId}/win`, {}, marketer.token)).status).toBe(200);
    // The deal citing the campaign is ordered twice; one order is cancelled (first touch takes it back).
    await orderFrom(customerId, dealId);
    const cancelled = await orderFrom(customerId, dealId);
    expect((await post(`/api/v1/orders/${cancelled}/cancel`, { reason: '客户取消' }, marketer.token)).status).toBe(200);
    expect((await post(`/api/v1/campaigns/${campaignId}/costs`, { amount: CNY(250_000), description: '邮件服务费', on: '2027-03-01' }, marketer.token)).status).toBe(200);
    expectProblem(await post(`/api/v1/campaigns/${campaignId}/costs`, { amount: CNY(0), description: '零', on: '2027-03-01' }, marketer.token), 409, 'campaign.invalid_cost');
    const claimId = (await post('/api/v1/expenses', { lines: [{ category: 'travel', amount: CNY(15_000), date: '2027-03-02', description: '展会交通' }], campaignId }, marketer.token)).body.id as string;
    expect((await post(`/api/v1/expenses/${claimId}/submit`, {}, marketer.token)).status).toBe(200);
    await caughtUp();

    // The same numbers, counted again straight from the event log.
    const events = (await app.services.eventStore.readAll({ maxCount: 1_000_000 })).filter((e) => (e.data as { campaignId?: string }).campaignId === campaignId || (e.data as { fields?: { campaignId?: string } }).fields?.campaignId === campaignId);
    const of = (type: string) => events.filter((e) => e.type === type);
    const deliveredAt = new Map(of('CampaignMailDelivered').map((e) => [(e.data as { memberId: string }).memberId, Date.parse((e.data as { at: string }).at)]));
    const people = (type: string, threshold: number) =>
      new Set(of(type).filter((e) => { const d = e.data as { memberId: string; method: string; userAgent: string; at: string }; return d.method === 'GET' && !/mimecast|barracuda/i.test(d.userAgent) && (Date.parse(d.at) - deliveredAt.get(d.memberId)!) / 1000 >= threshold; }).map((e) => (e.data as { memberId: string }).memberId)).size;
    const wonDeal = of('OpportunityCreated').map((e) => (e.data as { fields: { amount: { amount: number } } }).fields.amount.amount).reduce((a, b) => a + b, 0);
    const entered = of('CampaignCostRecorded').map((e) => (e.data as { amount: { amount: number } }).amount.amount).reduce((a, b) => a + b, 0);
    const claimed = of('ExpenseClaimDrafted').map((e) => (e.data as { fields: { lines: { amount: { amount: number } }[] } }).fields.lines.reduce((a, l) => a + l.amount.amount, 0)).reduce((a, b) => a + b, 0);
    const cost = entered + claimed;
    const expected = {
      sent: of('CampaignMailSending').length,
      delivered: deliveredAt.size,
      opened: people('CampaignMailOpened', 10),
      clicked: people('CampaignMailClicked', 10),
      leads: of('LeadCreated').length,
      opportunities: of('OpportunityCreated').length,
      wonRevenue: CNY(wonDeal),
      cost: CNY(cost),
      costPerLead: CNY(Math.round(cost / of('LeadCreated').length)),
      roi: Math.round(((wonDeal - cost) / cost) * 10_000) / 10_000,
    };
    expect(expected).toMatchObject({ sent: 3, delivered: 3, opened: 1, clicked: 1, leads: 2, opportunities: 1 });
    const report = await get(`/api/v1/reports/campaigns/${campaignId}`, marketer.token);
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    // Orders and last touch, recounted from the events: orders from quotes of the campaign's deals; the web lead's deal.
    const all = await app.services.eventStore.readAll({ maxCount: 1_000_000 });
    const quotesOf = (opportunityId: string) => new Set(all.filter((e) => e.type === 'QuoteCreated' && (e.data as { opportunityId?: string }).opportunityId === opportunityId).map((e) => (e.data as { quoteId: string }).quoteId));
    const cancelledIds = new Set(all.filter((e) => e.type === 'OrderCancelled').map((e) => (e.data as { orderId: string }).orderId));
    const ordersOf = (opportunityId: string) => all.filter((e) => e.type === 'OrderCreated' && quotesOf(opportunityId).has((e.data as { quoteId?: string }).quoteId ?? '') && !cancelledIds.has((e.data as { orderId: string }).orderId));
    const firstOrders = ordersOf(dealId);
    expect(firstOrders).toHaveLength(1);
    const lastTouch = { leads: 1, opportunities: 1, orders: ordersOf(converted.opportunityId).length, wonRevenue: CNY(800_000) };
    expect(report.body).toMatchObject({ ...expected, unsubscribed: 0, bounced: 0, openRate: 0.3333, clickRate: 0.3333, orders: 1, orderRevenue: CNY((firstOrders[0]!.data as { totals: { total: number } }).totals.total), lastTouch });
    expect(lastTouch.orders).toBe(1);
    const responded = (await get(`/api/v1/campaigns/${campaignId}/members?status=responded`, marketer.token)).body.items;
    expect(responded.map((m: { email: string }) => m.email)).toEqual(['autumn1@example.com']);
    expect(report.body.automated.opens).toBeGreaterThanOrEqual(4);

    // The threshold is data: at 0 s, autumn0's quick open is a person's too, recomputed at once.
    expect((await app.request('PUT', '/api/v1/settings/campaign-engagement', { body: { minSecondsAfterDelivery: 0 } })).status).toBe(200);
    expect((await get(`/api/v1/reports/campaigns/${campaignId}`, marketer.token)).body).toMatchObject({ opened: people('CampaignMailOpened', 0), clicked: 1 });
    expect(people('CampaignMailOpened', 0)).toBe(2);
    expectProblem(await app.request('PUT', '/api/v1/settings/campaign-engagement', { body: { minSecondsAfterDelivery: 7 } }), 400, 'validation');

    // Compared with the others of March, best ROI first.
    const compared = (await get('/api/v1/reports/campaigns?from=2027-03-01&to=2027-04-01', marketer.token)).body;
    expect(compared.items[0]).toMatchObject({ campaignId, roi: expected.roi });
    expect(compared.totals.leads).toBeGreaterThanOrEqual(2);
    const engineer = await app.userWithToken('report.engineer', ['service_engineer']);
    expectProblem(await app.request('GET', `/api/v1/reports/campaigns/${campaignId}`, { token: engineer.token }), 403, 'forbidden');
  });
});
