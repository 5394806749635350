import { describe, expect, it } from 'vitest';
import { type CampaignEvent, campaignDecider, DEFAULT_CAMPAIGN_STAGES } from '../../src/domain/campaign/index.ts';
import { type CampaignMemberEvent, consentDecider, type ConsentEvent, memberIdFor, memberMailDecider, suppressionOf } from '../../src/domain/campaign/members.ts';
import { fold } from '../../src/domain/shared/decider.ts';
import { localeFor, renderMail, templateProblems } from '../../src/domain/campaign/render.ts';
import { specFor } from '../support/spec.ts';
import { isHardBounce, isSoftBounce, parseDeliveryStatus } from '../../src/domain/campaign/dsn.ts';
import { dsnFixture } from '../support/dsn.ts';
import { aboutOf, AutomationRules, ruleMatches, withStarts } from '../../src/domain/campaign/automation.ts';

const CNY = (amount: number) => ({ amount, currency: 'CNY' });
const at = '2027-03-01T02:00:00.000Z';

describe('campaign decider: audience and send', () => {
  const spec = specFor(campaignDecider);
  const campaignId = 'c1';
  const fields = { name: '春季新品邮件', type: 'email' as const, startsOn: '2027-03-01', endsOn: '2027-03-31', budget: CNY(2_000_000) };
  const created: CampaignEvent = { type: 'CampaignCreated', data: { campaignId, fields, ownerId: 'mkt', stages: DEFAULT_CAMPAIGN_STAGES.email } };
  const filter = { resource: 'contacts' as const, query: { industry: '制造' } };
  const frozen = (count: number, audienceId = 'a1'): CampaignEvent => ({ type: 'CampaignAudienceFrozen', data: { campaignId, audienceId, filter, exclude: [], excludeEmails: 0, count, excluded: 0, by: 'mkt', at } });
  const freeze = { type: 'FreezeAudience' as const, campaignId, audienceId: 'a2', filter, exclude: [], excludeEmails: 0, count: 3, excluded: 1, by: 'mkt', at };
  const start = { type: 'StartSend' as const, campaignId, sendId: 's1', templateId: 't1', templateRevision: 2, by: 'mkt', at };
  const started: CampaignEvent = { type: 'CampaignSendStarted', data: { campaignId, sendId: 's1', templateId: 't1', templateRevision: 2, total: 3, by: 'mkt', at } };

  it('freezes an audience, again until it is sent; a send needs a non-empty audience and an email campaign', () => {
    spec.given([created]).when(freeze).then([{ type: 'CampaignAudienceFrozen', data: { campaignId, audienceId: 'a2', filter, exclude: [], excludeEmails: 0, count: 3, excluded: 1, by: 'mkt', at } }]);
    spec.given([created, frozen(3)]).when(freeze).then([{ type: 'CampaignAudienceFrozen', data: { campaignId, audienceId: 'a2', filter, exclude: [], excludeEmails: 0, count: 3, excluded: 1, by: 'mkt', at } }]);
    spec.given([created]).when(start).thenThrows('campaign.no_audience');
    spec.given([created, frozen(0)]).when(start).thenThrows('campaign.empty_audience');
    spec.given([created, frozen(3)]).when(start).then([started]);
    const fair: CampaignEvent = { type: 'CampaignCreated', data: { campaignId, fields: { ...fields, type: 'exhibition' }, ownerId: 'mkt', stages: DEFAULT_CAMPAIGN_STAGES.exhibition } };
    spec.given([fair, frozen(3)]).when(start).thenThrows('campaign.not_email');
  });

  it('records costs above zero', () => {
    const cost = { type: 'RecordCost' as const, campaignId, costId: 'k1', amount: CNY(50_000), description: '展位费', on: '2027-03-01', by: 'mkt' };
    spec.given([created]).when(cost).then([{ type: 'CampaignCostRecorded', data: { campaignId, costId: 'k1', amount: CNY(50_000), description: '展位费', on: '2027-03-01', by: 'mkt' } }]);
    spec.given([created]).when({ ...cost, amount: CNY(0) }).thenThrows('campaign.invalid_cost');
  });

  it('sends once: asked again while sending resumes (nothing new); after it, the send and the audience stay as they were', () => {
    spec.given([created, frozen(3), started]).when({ ...start, sendId: 's2' }).then([]);
    spec.given([created, frozen(3), started]).when({ ...start, sendId: 's2', templateId: 't2' }).thenThrows('campaign.already_sending');
    spec.given([created, frozen(3), started]).when(freeze).thenThrows('campaign.already_sent');
    const completed: CampaignEvent = { type: 'CampaignSendCompleted', data: { campaignId, sendId: 's1', delivered: 2, failed: 0, skipped: 1, at } };
    spec.given([created, frozen(3), started]).when({ type: 'CompleteSend', campaignId, sendId: 's1', delivered: 2, failed: 0, skipped: 1, at }).then([completed]);
    spec.given([created, frozen(3), started, completed]).when({ type: 'CompleteSend', campaignId, sendId: 's1', delivered: 2, failed: 0, skipped: 1, at }).then([]);
    spec.given([created, frozen(3), started, completed]).when({ ...start, sendId: 's2' }).thenThrows('campaign.already_sent');
    // An archived campaign's running send still completes.
    spec.given([created, frozen(3), started, { type: 'CampaignArchived', data: { campaignId } }]).when({ type: 'CompleteSend', campaignId, sendId: 's1', delivered: 3, failed: 0, skipped: 0, at }).then([{ type: 'CampaignSendCompleted', data: { campaignId, sendId: 's1', delivered: 3, failed: 0, skipped: 0, at } }]);
  });
});

describe("a member's mail: the outbox", () => {
  const spec = specFor(memberMailDecider);
  const ids = { campaignId: 'c1', memberId: 'm1' };
  const startMail = { type: 'StartMail' as const, ...ids, sendId: 's1', messageId: '<s1.m1@example.com>', email: 'a@example.com', templateId: 't1', locale: 'zh-CN' as const, at };
  const sending: CampaignMemberEvent = { type: 'CampaignMailSending', data: { ...ids, sendId: 's1', messageId: '<s1.m1@example.com>', email: 'a@example.com', templateId: 't1', locale: 'zh-CN', at } };
  const delivered: CampaignMemberEvent = { type: 'CampaignMailDelivered', data: { ...ids, sendId: 's1', messageId: '<s1.m1@example.com>', response: '250 OK', at } };
  const open = { type: 'RecordOpen' as const, ...ids, at, method: 'GET' as const, userAgent: 'Mozilla', addressClass: 'public' as const };

  it('records the start before the SMTP transaction and the outcome after it, each once', () => {
    spec.given([]).when(startMail).then([sending]);
    // A start already recorded (a crash inside the transaction): nothing new; the mail is handed over again with its Message-ID.
    spec.given([sending]).when({ ...startMail, messageId: '<other@example.com>' }).then([]);
    spec.given([sending]).when({ type: 'RecordDelivery', ...ids, sendId: 's1', response: '250 OK', at }).then([delivered]);
    spec.given([sending, delivered]).when({ type: 'RecordDelivery', ...ids, sendId: 's1', response: '250 OK', at }).then([]);
    spec.given([sending, delivered]).when(startMail).then([]);
    spec.given([sending]).when({ type: 'RecordFailure', ...ids, sendId: 's1', reason: '550 no such user', at }).then([{ type: 'CampaignMailFailed', data: { ...ids, sendId: 's1', messageId: '<s1.m1@example.com>', reason: '550 no such user', at } }]);
    spec.given([]).when({ type: 'SkipMail', ...ids, sendId: 's1', reason: 'unsubscribed', at }).then([{ type: 'CampaignMailSkipped', data: { ...ids, sendId: 's1', reason: 'unsubscribed', at } }]);
    spec.given([sending]).when({ type: 'SkipMail', ...ids, sendId: 's1', reason: 'unsubscribed', at }).then([]);
  });

  it('keeps every open and click raw, but only for a mail that went out', () => {
    spec.given([]).when(open).thenThrows('campaign_member.not_mailed');
    spec.given([sending, delivered]).when(open).then([{ type: 'CampaignMailOpened', data: { ...ids, at, method: 'GET', userAgent: 'Mozilla', addressClass: 'public' } }]);
    spec.given([sending, delivered]).when({ ...open, type: 'RecordClick', method: 'HEAD', url: 'https://x.example/' }).then([{ type: 'CampaignMailClicked', data: { ...ids, at, method: 'HEAD', userAgent: 'Mozilla', addressClass: 'public', url: 'https://x.example/' } }]);
  });

  it('keeps a bounce for a mail that went out: a hard one once (it ends the mail), soft ones as they come', () => {
    const bounce = { type: 'RecordBounce' as const, ...ids, kind: 'hard' as const, status: '5.1.1', diagnostic: '550 unknown', at };
    const hard: CampaignMemberEvent = { type: 'CampaignMailBounced', data: { ...ids, kind: 'hard', status: '5.1.1', diagnostic: '550 unknown', at } };
    spec.given([]).when(bounce).thenThrows('campaign_member.not_mailed');
    spec.given([sending, delivered]).when(bounce).then([hard]);
    spec.given([sending, delivered, hard]).when(bounce).then([]);
    spec.given([sending, delivered, hard]).when({ ...bounce, kind: 'soft', status: '4.2.2' }).then([{ type: 'CampaignMailBounced', data: { ...ids, kind: 'soft', status: '4.2.2', diagnostic: '550 unknown', at } }]);
  });

  it('one member per address, whatever its case', () => {
    expect(memberIdFor(' Buyer@Example.com ')).toBe(memberIdFor('buyer@example.com'));
    expect(memberIdFor('a@example.com')).not.toBe(memberIdFor('b@example.com'));
  });
});

describe('the consent ledger', () => {
  const spec = specFor(consentDecider);
  const fact = { email: 'a@example.com', channel: 'email' as const, source: 'link' as const, evidence: { campaignId: 'c1' }, at };
  const withdrawn: ConsentEvent = { type: 'ConsentWithdrawn', data: fact };
  it('records an opt-out or opt-in when it changes the word on its channel', () => {
    spec.given([]).when({ type: 'WithdrawConsent', fact }).then([withdrawn]);
    spec.given([withdrawn]).when({ type: 'WithdrawConsent', fact }).then([]);
    spec.given([withdrawn]).when({ type: 'GiveConsent', fact: { ...fact, source: 'form' } }).then([{ type: 'ConsentGiven', data: { ...fact, source: 'form' } }]);
    spec.given([withdrawn]).when({ type: 'WithdrawConsent', fact: { ...fact, channel: 'sms' } }).then([{ type: 'ConsentWithdrawn', data: { ...fact, channel: 'sms' } }]);
  });
  it('suppresses an address that opted out or bounced for good, a bounce recorded once', () => {
    const bounce = { email: 'a@example.com', campaignId: 'c1', memberId: 'm1', status: '5.1.1', at };
    const bounced: ConsentEvent = { type: 'AddressBounced', data: bounce };
    spec.given([]).when({ type: 'RecordHardBounce', bounce }).then([bounced]);
    spec.given([bounced]).when({ type: 'RecordHardBounce', bounce }).then([]);
    expect(suppressionOf(fold(consentDecider, []))).toBeUndefined();
    expect(suppressionOf(fold(consentDecider, [bounced]))).toBe('bounced');
    expect(suppressionOf(fold(consentDecider, [withdrawn, bounced]))).toBe('unsubscribed');
  });
});

describe('rendering a template', () => {
  const template = {
    subject: { 'zh-CN': '{{contact.name}}，新品到了', en: '{{contact.name}}, new arrivals' },
    html: { 'zh-CN': '<p>{{contact.name}} 您好，{{customer.custom.tier}} 客户</p><a href="https://shop.example.com/a?x=1&amp;y=2">看看</a>', en: '<p>Dear {{contact.name}}</p>' },
  };
  const links = { click: (url: string) => `https://crm.example.com/c/${encodeURIComponent(url)}`, openPixel: 'https://crm.example.com/o/1', unsubscribe: 'https://crm.example.com/u/1' };

  it('fills merge fields (escaped in the HTML, not in the subject), tracks links, adds the pixel, and generates the text part', () => {
    const mail = renderMail(template, 'zh-CN', { contact: { name: '<张三>' }, customer: { custom: { tier: 'VIP' } } }, links);
    expect(mail.subject).toBe('<张三>，新品到了');
    expect(mail.html).toContain('&lt;张三&gt; 您好，VIP 客户');
    expect(mail.html).toContain(`href="https://crm.example.com/c/${encodeURIComponent('https://shop.example.com/a?x=1&y=2')}"`);
    expect(mail.html).toMatch(/<img src="https:\/\/crm\.example\.com\/o\/1"[^>]*>$/);
    expect(mail.text).toContain('<张三> 您好，VIP 客户');
    expect(mail.text).toContain('https://crm.example.com/c/');
    expect(mail.text).not.toContain('/o/1');
  });

  it('speaks English to a member who reads it when the template has English, Chinese otherwise', () => {
    expect(localeFor(template, 'en')).toBe('en');
    expect(localeFor({ ...template, html: { 'zh-CN': template.html['zh-CN'] } }, 'en')).toBe('zh-CN');
    expect(renderMail(template, 'en', { contact: { name: 'Ann' } }).subject).toBe('Ann, new arrivals');
  });

  it('names each part that does not compile', () => {
    expect(templateProblems(template)).toEqual([]);
    expect(templateProblems({ subject: { 'zh-CN': '{{#if x}}' }, html: { 'zh-CN': '<p>{{a}}</p>', en: '{{/each}}' } }).map((p) => p.path)).toEqual(['subject.zh-CN', 'html.en']);
  });
});

describe('delivery status notifications (RFC 3464)', () => {
  it('reads a Postfix hard bounce: the recipient, action, status, diagnostic and the returned message\'s Message-ID (not the report\'s own)', () => {
    const report = parseDeliveryStatus(dsnFixture('hard-bounce', { recipient: 'Gone@Example.com', messageId: '<c.x.y@example.com>' }))!;
    expect(report.messageId).toBe('<c.x.y@example.com>');
    expect(report.recipients).toEqual([{ recipient: 'gone@example.com', action: 'failed', status: '5.1.1', diagnostic: 'smtp; 550 5.1.1 <Gone@Example.com>: Recipient address rejected: User unknown in virtual mailbox table' }]);
    expect(isHardBounce(report.recipients[0]!)).toBe(true);
  });
  it('reads a delay with the whole returned message attached as a soft bounce, and no report in plain mail', () => {
    const report = parseDeliveryStatus(dsnFixture('soft-bounce', { recipient: 'full@example.com', messageId: '<c.a.b@example.com>' }))!;
    expect(report).toMatchObject({ messageId: '<c.a.b@example.com>', recipients: [{ recipient: 'full@example.com', action: 'delayed', status: '4.2.2' }] });
    expect(isSoftBounce(report.recipients[0]!)).toBe(true);
    expect(isHardBounce(report.recipients[0]!)).toBe(false);
    expect(parseDeliveryStatus('Subject: hello\n\nJust a mail')).toBeUndefined();
  });
});

describe('automation rules', () => {
  const rule = { key: 'web_lead', name: '网站线索', enabled: true, when: { eventType: 'LeadCreated', conditions: { 'fields.source': 'web' } }, afterMinutes: 0, do: { action: 'create_task' as const, subject: '回电', dueInHours: 4 }, activeFrom: '2027-05-10T00:00:00.000Z' };
  const lead = (source: string, at = '2027-05-10T01:00:00.000Z') => ({ type: 'LeadCreated', data: { leadId: 'l1', ownerId: 'o1', fields: { company: 'X', person: 'Y', source, email: 'y@example.com' } }, metadata: { at } });
  it('match their event type and every condition, from when they took effect, while enabled', () => {
    expect(ruleMatches(rule, lead('web'))).toBe(true);
    expect(ruleMatches(rule, lead('fair'))).toBe(false);
    expect(ruleMatches(rule, lead('web', '2027-05-09T23:59:59.999Z'))).toBe(false);
    expect(ruleMatches({ ...rule, enabled: false }, lead('web'))).toBe(false);
    expect(ruleMatches({ ...rule, when: { ...rule.when, eventType: 'LeadChanged' } }, lead('web'))).toBe(false);
    expect(aboutOf(lead('web').data)).toEqual({ leadId: 'l1', ownerId: 'o1', email: 'y@example.com' });
  });
  it('keep their start when saved again; a new rule starts now; keys are unique', () => {
    const { activeFrom: _activeFrom, ...given } = rule;
    expect(withStarts([given, { ...given, key: 'other' }], [rule], '2027-06-01T00:00:00.000Z').map((r) => r.activeFrom)).toEqual(['2027-05-10T00:00:00.000Z', '2027-06-01T00:00:00.000Z']);
    expect(AutomationRules.safeParse([given, given]).success).toBe(false);
  });
});
