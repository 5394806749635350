import { z } from 'zod';
import { authorize } from '../../commands/authorization.ts';
import type { Actor } from '../../commands/context.ts';
import { systemActor } from '../../commands/employees.ts';
import {
  campaignState,
  archiveEmailTemplate,
  changeEmailTemplate,
  createEmailTemplate,
  freezeAudience,
  type MailDeps,
  openTrackingToken,
  recordConsent,
  recordDeliveryStatus,
  recordEngagement,
  restoreEmailTemplate,
  startSend,
  templateAt,
  testSend,
  unsubscribeMember,
} from '../../commands/campaign-mail.ts';
import { AudienceFilter, CAMPAIGN_TYPES, type CampaignState } from '../../domain/campaign/index.ts';
import { EngagementRule } from '../../domain/campaign/engagement.ts';
import { AbTestRequest } from '../../domain/campaign/ab-test.ts';
import { AutomationRules, withStarts } from '../../domain/campaign/automation.ts';
import { automationSettings } from '../../commands/automation.ts';
import { Money } from '../../domain/shared/money.ts';
import { campaignEngagementSettings, recordCampaignCost } from '../../commands/campaigns.ts';
import { CAMPAIGN_RESULTS } from '../../projections/campaign-results.ts';
import { campaignReportRows, economics } from '../../projections/campaign-report.ts';
import { monthly } from '../../projections/counters.ts';
import { EXPENSES_BY } from '../../projections/expenses.ts';
import { companyView } from '../../projections/company.ts';
import { notFound } from '../history.ts';
import { reportRoute } from '../report-routes.ts';
import { settingRoutes } from '../setting-routes.ts';
import { CONSENT_SOURCES, consentStream, isMobile, normalizeMobile } from '../../domain/campaign/members.ts';
import { templateProblems } from '../../domain/campaign/render.ts';
import { parseDeliveryStatus } from '../../domain/campaign/dsn.ts';
import { bearerToken, DSN_PATH, sameSecret } from '../middleware.ts';
import { EmailTemplateFields, type EmailTemplateState } from '../../domain/campaign/template.ts';
import { resourceSpecs } from '../../domain/customization/resources.ts';
import { readFilter, withinScope } from '../../access/scope.ts';
import { CAMPAIGN_MEMBERS, MEMBER_STATUSES } from '../../projections/campaign-members.ts';
import { buildAudience } from '../audience.ts';
import { isHidden } from '../field-security.ts';
import { fieldColumns } from '../csv.ts';
import { HttpProblem } from '../problem.ts';
import { recordAction, recordCommandRoute, recordInScope, recordRoutes } from '../records.ts';
import { commonErrors, conflictError, notFoundError, recordWriteErrors } from '../responses.ts';
import { type AnyRoute, defineRoute, EmptyBody, Id, IdParams, type RouteServices } from '../route.ts';
import { publicUrl } from './public-links.ts';

const campaignTags = [resourceSpecs.campaigns.tag];
const Mobile = z.string().trim().max(20).refine(isMobile, 'A mobile number: 11 digits in mainland China (+86 optional), or E.164');
const publicTags = ['Public links 对外链接'];
const TrackingToken = z.string().regex(/^[A-Za-z0-9_-]{40,4000}$/, 'Expected a link token');
const TokenParams = z.object({ token: TrackingToken });
const Email = z.email().max(320);

/** What mailing takes from the services. */
export const mailDeps = (services: RouteServices): MailDeps => ({ ...services.deps, mailer: services.mailer, sms: services.sms, keys: services.keys, publicUrl: publicUrl(services), mailFrom: services.config.CRM_MAIL_FROM });

/** A template that does not compile is refused with the part and Handlebars' message. */
function assertCompiles(fields: Partial<EmailTemplateFields>): void {
  const problems = templateProblems({ subject: fields.subject ?? { 'zh-CN': '' }, html: fields.html ?? { 'zh-CN': '' }, ...(fields.text ? { text: fields.text } : {}) });
  if (problems.length) throw new HttpProblem(400, 'validation', 'Invalid request', `${problems.length} part${problems.length === 1 ? '' : 's'} of the template do not compile`, { errors: problems });
}

const TemplateView = EmailTemplateFields.extend({ id: z.string(), revision: z.number().int(), status: z.enum(['active', 'archived']), createdAt: z.string(), updatedAt: z.string() }).meta({ id: 'EmailTemplate' });
const TemplateInput = EmailTemplateFields.strict().meta({
  id: 'EmailTemplateInput',
  examples: [
    {
      name: '春季新品推广',
      subject: { 'zh-CN': '{{contact.name}}，春季新品上市', en: '{{contact.name}}, our spring range is here' },
      html: { 'zh-CN': '<p>{{contact.name}} 您好：</p><p>{{customer.name}} 的老朋友，请看 <a href="https://example.com/spring">春季新品</a>。</p><p><a href="{{unsubscribeUrl}}">退订</a></p>', en: '<p>Dear {{contact.name}},</p><p>See <a href="https://example.com/spring">our spring range</a>.</p><p><a href="{{unsubscribeUrl}}">Unsubscribe</a></p>' },
    },
  ],
});

const MemberView = z
  .object({
    memberId: z.string(),
    email: z.string().optional().describe('Absent when hidden for your role (empty for a member of an SMS campaign)'),
    mobile: z.string().optional().describe('A member of an SMS campaign: the number; absent when hidden for your role'),
    name: z.string().optional().describe('Absent when hidden for your role'),
    resource: z.enum(['contacts', 'customers', 'leads']).describe('The list the member came from'),
    recordId: z.string(),
    ownerId: z.string().nullable(),
    status: z.enum(MEMBER_STATUSES),
    messageId: z.string().optional(),
    sentAt: z.string().optional(),
    deliveredAt: z.string().optional(),
    failure: z.string().optional(),
    firstOpenedAt: z.string().optional(),
    firstClickedAt: z.string().optional(),
    opens: z.number().int(),
    clicks: z.number().int(),
    unsubscribedAt: z.string().optional(),
    bouncedAt: z.string().optional(),
    respondedAt: z.string().optional().describe('When a lead was created for the address after a person clicked'),
  })
  .meta({ id: 'CampaignMember' });

const ONE_PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** A small page in both languages (the unsubscribe confirmation and its answer). */
const page = (title: string, body: string) =>
  `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title></head><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.6">${body}</body></html>`;
const htmlAnswer = (status: number, html: string) => ({ status, body: html, headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' } });

/** The request facts an engagement keeps: method, agent, address (classified, never stored). */
const engagementRequest = (koa: { method: string; ip: string; get(name: string): string }) => ({
  method: (koa.method === 'HEAD' ? 'HEAD' : koa.method === 'POST' ? 'POST' : 'GET') as 'GET' | 'HEAD' | 'POST',
  userAgent: koa.get('User-Agent'),
  ip: koa.ip,
});
/** Who acts on a public link (the mail's recipient) and on a bounce report (the mail server), as their events record them. */
const recipient: Actor = { ...systemActor, userId: 'recipient', username: 'recipient' };
const mailServer: Actor = { ...systemActor, userId: 'mail-server', username: 'mail-server' };

/** The report rows of the campaigns a filter selects, with the rule in force, in a currency (default the company's). */
async function campaignRows(services: RouteServices, filter: Record<string, unknown>, currency: string | undefined) {
  const campaigns = await services.readStore.collection<{ _id: string; name: string; type: string; startsOn: string; endsOn: string; budget: { amount: number; currency: string } }>('campaigns').find(filter);
  const rule = (await campaignEngagementSettings.read(services.deps)).value;
  return campaignReportRows(services.readStore, campaigns, rule, currency ?? (await companyView(services.readStore)).currency);
}

/**
 * The email-marketing flow: templates (邮件模板), the audience frozen from a list's filters, test sends, the send
 * itself (in the background, resumable), the members and what became of each mail, the public tracking and
 * unsubscribe links, and the consent ledger.
 */
export const campaignMailRoutes: AnyRoute[] = [
  ...recordRoutes<EmailTemplateState>({
    resource: 'email-templates',
    view: TemplateView,
    pageSchemaId: 'EmailTemplatePage',
    columns: fieldColumns('id', 'name', 'status', 'createdAt', 'updatedAt'),
    asOfView: (state) => (state.status === 'none' ? {} : { ...state.fields, status: state.status }),
    create: {
      summary: 'Create an email template: subject and HTML in zh-CN (and en), merge fields in Handlebars syntax ({{contact.name}}, {{customer.name}}, {{contact.custom.<key>}}, {{unsubscribeUrl}})',
      description: 'A template that does not compile is refused (400, naming the part). The plain-text part is generated from the HTML unless `text` is given.',
      body: TemplateInput,
      run: async ({ body, actor, services, meta }) => {
        assertCompiles(body as EmailTemplateFields);
        return createEmailTemplate(services.deps, body as EmailTemplateFields, actor, meta);
      },
    },
    patch: {
      summary: 'Change an email template (a send renders the template as it was when the send started)',
      fields: EmailTemplateFields,
      schemaId: 'EmailTemplatePatch',
      run: ({ params, body, actor, services, meta }) => {
        assertCompiles(body as Partial<EmailTemplateFields>);
        return changeEmailTemplate(services.deps, params.id, body, actor, meta);
      },
    },
    actions: [
      recordAction({ action: 'archive', summary: 'Archive an email template', body: EmptyBody, permission: 'delete', done: 'Archived', run: ({ params, actor, services, meta }) => archiveEmailTemplate(services.deps, params.id, actor, meta) }),
      recordAction({ action: 'restore', summary: 'Restore an archived email template', body: EmptyBody, permission: 'delete', done: 'Restored', run: ({ params, actor, services, meta }) => restoreEmailTemplate(services.deps, params.id, actor, meta) }),
    ],
  }),
  recordCommandRoute<CampaignState, { filter: AudienceFilter; exclude: AudienceFilter[]; excludeEmails: string[]; excludeMobiles: string[] }>(
    { resource: 'campaigns' },
    {
      action: 'audience',
      summary: "Choose the audience (选择客户名单): a list's filter over contacts, customers (their contacts) or leads, in your data scope, frozen into the member list now",
      description:
        '`filter.query` takes what the list route takes (its filters, `q`, `custom.<key>`, a saved `view`). Exclusion filters and addresses, the suppression list (opted out) and records without an address are left out (`excluded`). One member per address: an email address, or for an SMS campaign a mobile number (a contact\'s `mobile`, a lead\'s `mobile` or `phone`; `excludeMobiles` leaves numbers out). Frozen again until the campaign is sent (then 409 campaign.already_sent).',
      body: z
        .object({
          filter: AudienceFilter,
          exclude: z.array(AudienceFilter).max(10).default([]).describe('Lists whose people are left out'),
          excludeEmails: z.array(Email).max(10_000).default([]).describe('Addresses left out'),
          excludeMobiles: z.array(z.string().trim().min(5).max(20)).max(10_000).default([]).describe('Mobile numbers left out (an SMS campaign)'),
        })
        .strict(),
      writes: ['audience'],
      bodyNamesFields: false,
      done: 'Frozen',
      answer: { audienceId: z.string(), count: z.number().int().describe('Members'), excluded: z.number().int().describe('Found but left out') },
      run: async ({ params, body, actor, services, meta }) => {
        // An SMS campaign's members are mobile numbers; any other's, email addresses.
        const sms = (await campaignState(services.deps, params.id)).fields.type === 'sms';
        const { members, excluded } = await buildAudience(services, actor, { ...body, excludeEmails: sms ? body.excludeMobiles : body.excludeEmails, channel: sms ? 'sms' : 'email' });
        const result = await freezeAudience(services.deps, params.id, { filter: body.filter, exclude: body.exclude, excludeEmails: (sms ? body.excludeMobiles : body.excludeEmails).length, members, excluded }, actor, meta);
        const audience = result.state.status === 'none' ? undefined : result.state.audience;
        return { ...result, audienceId: audience?.audienceId, count: members.length, excluded };
      },
    },
  ),
  defineRoute({
    method: 'get',
    path: '/api/v1/campaigns/:id/members',
    summary: "A campaign's members (the frozen list) and what became of each one's mail: targeted → sent → delivered → opened → clicked, or bounced, unsubscribed, failed",
    description: 'Members whose records are outside your data scope are not listed. Paged by `cursor` (the nextCursor of the previous page).',
    tags: campaignTags,
    permission: ['campaigns', 'view'],
    reads: [CAMPAIGN_MEMBERS, 'campaigns'],
    params: IdParams,
    query: z.object({ status: z.enum(MEMBER_STATUSES).optional(), limit: z.coerce.number().int().min(1).max(500).default(100), cursor: z.string().max(500).regex(/^[A-Za-z0-9_-]+$/).optional() }).strict(),
    responses: { 200: { description: 'A page of members', schema: z.object({ items: z.array(MemberView), nextCursor: z.string().nullable(), total: z.number().int() }) }, ...commonErrors, ...notFoundError },
    async handler({ params, query, actor, services }) {
      const { state } = await recordInScope<CampaignState>(services, actor, 'campaigns', params.id);
      const audienceId = state.status === 'none' ? undefined : state.audience?.audienceId;
      if (!audienceId) return { status: 200, body: { items: [], nextCursor: null, total: 0 } };
      const context = `${actor.userId}\u0000campaign-members\u0000${params.id}`;
      const after = query.cursor === undefined ? undefined : services.keys.open('cursor', context, query.cursor);
      if (query.cursor !== undefined && after === undefined) throw new HttpProblem(400, 'validation', 'Invalid request', 'cursor is not a cursor of this list', { errors: [{ path: 'query.cursor', message: 'Expected the nextCursor of the previous page' }] });
      const filter = withinScope(readFilter(actor), { campaignId: params.id, audienceId, ...(query.status ? { status: query.status } : {}) });
      const members = services.readStore.collection(CAMPAIGN_MEMBERS);
      const docs = await members.find(after ? { $and: [filter, { _id: { $gt: after } }] } : filter, { sort: { _id: 1 }, limit: query.limit + 1 });
      // An address or a name hidden for the caller's role on the member's record stays hidden here too.
      const items = docs.slice(0, query.limit).map(({ _id, _position, audienceId: _a, campaignId: _c, departmentPath: _d, ...member }) => {
        const resource = member.resource === 'leads' ? 'leads' : 'contacts';
        const shown: Record<string, unknown> = { ...member };
        if (isHidden(actor, resource, 'email')) delete shown.email;
        // A lead's number may be its `phone` (the audience took `mobile` or `phone`): hidden if either is.
        if (isHidden(actor, resource, 'mobile') || (resource === 'leads' && isHidden(actor, resource, 'phone'))) delete shown.mobile;
        if (isHidden(actor, resource, resource === 'leads' ? 'person' : 'name')) delete shown.name;
        return shown;
      });
      const nextCursor = docs.length > query.limit ? services.keys.seal('cursor', context, docs[query.limit - 1]!._id) : null;
      return { status: 200, body: { items, nextCursor, total: await members.countDocuments(filter) } };
    },
  }),
  recordCommandRoute<CampaignState, { templateId: string; to: string[] }>(
    { resource: 'campaigns' },
    {
      action: 'test-send',
      summary: 'Send a test (发送测试): the template to chosen addresses, marked [测试 TEST], rendered with the first member (or sample data); an SMS campaign texts its SMS template to chosen mobile numbers',
      body: z.object({ templateId: Id, to: z.array(z.union([Email, Mobile])).min(1).max(20).describe('Email addresses; mobile numbers for an SMS campaign') }).strict(),
      writes: [],
      bodyNamesFields: false,
      done: 'Sent',
      answer: { messageIds: z.array(z.string()).describe('The Message-ID of each mail, in the order of `to`') },
      run: async ({ params, body, actor, services, meta }) => {
        const sms = (await campaignState(services.deps, params.id)).fields.type === 'sms';
        const wrong = body.to.flatMap((to, i) => ((sms ? isMobile(to) : Email.safeParse(to).success) ? [] : [{ path: `to.${i}`, message: sms ? 'An SMS campaign tests on mobile numbers' : 'An email address' }]));
        if (wrong.length) throw new HttpProblem(400, 'validation', 'Invalid request', wrong.map((w) => `${w.path}: ${w.message}`).join('; '), { errors: wrong });
        return testSend(mailDeps(services), params.id, body, actor, meta);
      },
    },
  ),
  defineRoute({
    method: 'post',
    path: '/api/v1/campaigns/:id/send',
    summary: 'Send the campaign (发送邮件): the template to every frozen member, in the background at the configured rate; resumes after a crash without mailing anyone twice',
    description:
      'Answers 202 at once; the campaign\'s `send` shows the progress (and the members list each mail). With `abTest`, the test\'s members are mailed first (each member\'s group is drawn from the send and member, so it never changes); `send.abTest` shows the groups, `decideAt`, and then the decision with each variant\'s numbers; the rest of the audience gets the winner, and the send completes only then. The template is sent as it is now, whatever changes later. Refused without an audience (409 campaign.no_audience) and for a campaign sent already (409 campaign.already_sent); asked again while sending, it resumes a send that stopped. Every mail carries List-Unsubscribe and List-Unsubscribe-Post (RFC 8058), an open pixel and tracked links, all signed per member; suppressed addresses are skipped.',
    tags: campaignTags,
    permission: ['campaigns', 'edit'],
    params: IdParams,
    body: z
      .object({ templateId: Id, abTest: AbTestRequest.optional().describe('An A/B test: `share` of the audience first, half with the template, half with `variantTemplateId`; after `decideAfterHours` the better by `metric` (opens, clicks or leads; a tie keeps the template) goes to the rest') })
      .strict()
      .refine((body) => body.abTest?.variantTemplateId !== body.templateId, { path: ['abTest', 'variantTemplateId'], message: 'An A/B test compares two different templates' }),
    responses: {
      202: {
        description: 'Sending',
        schema: z.object({
          id: z.string(),
          sendId: z.string(),
          status: z.literal('sending'),
          total: z.number().int(),
          abTest: z.object({ groups: z.object({ A: z.number().int(), B: z.number().int(), rest: z.number().int() }), decideAt: z.string() }).optional(),
        }),
      },
      ...recordWriteErrors,
    },
    async handler({ params, body, actor, services, meta }) {
      await recordInScope(services, actor, 'campaigns', params.id);
      const result = await startSend(services.deps, params.id, body.templateId, body.abTest, actor, meta);
      const send = result.state.status === 'none' ? undefined : result.state.send;
      services.backgroundOrWorker(`campaign send ${params.id}`, () => services.campaigns.send(params.id));
      const abTest = send?.abTest ? { abTest: { groups: send.abTest.groups, decideAt: send.abTest.decideAt } } : {};
      return { status: 202, body: { id: params.id, sendId: result.sendId, status: 'sending' as const, total: send?.total ?? 0, ...abTest }, headers: { Location: `/api/v1/campaigns/${params.id}`, 'X-Position': String(result.position) } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/public/t/open/:token',
    auth: false,
    reads: [],
    summary: "A mail's open pixel (a 1×1 GIF): records the open, raw (time, method, agent, address class)",
    description: 'An altered or forged token answers 404. HEAD is recorded too (scanners use it) and left out of the rates.',
    tags: publicTags,
    params: TokenParams,
    responses: { 200: { description: 'The pixel', contentType: 'image/gif' }, ...commonErrors, ...notFoundError },
    async handler({ params, services, meta, koa }) {
      const member = openTrackingToken(services.keys, 'mail-open', params.token);
      await recordEngagement(services.deps, 'open', member, engagementRequest(koa), recipient, meta);
      return { status: 200, body: ONE_PIXEL_GIF, headers: { 'Content-Type': 'image/gif', 'Cache-Control': 'no-store, max-age=0' } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/public/t/click/:token',
    auth: false,
    reads: [],
    summary: "A mail's tracked link: records the click and redirects (302) to the link's address, which the token carries signed",
    description: 'An altered or forged token answers 404 (never a redirect to an address it did not sign).',
    tags: publicTags,
    params: TokenParams,
    responses: { 302: { description: 'To the link' }, ...commonErrors, ...notFoundError },
    async handler({ params, services, meta, koa }) {
      const member = openTrackingToken(services.keys, 'mail-click', params.token);
      await recordEngagement(services.deps, 'click', member, engagementRequest(koa), recipient, meta);
      return { status: 302, body: '', headers: { Location: member.url!, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/public/unsubscribe/:token',
    auth: false,
    reads: [],
    summary: 'The unsubscribe page (退订): asks to confirm, and changes nothing (mail scanners follow links)',
    tags: publicTags,
    params: TokenParams,
    responses: { 200: { description: 'The confirmation page', contentType: 'text/html' }, ...commonErrors, ...notFoundError },
    async handler({ params, services }) {
      openTrackingToken(services.keys, 'unsubscribe', params.token);
      return htmlAnswer(
        200,
        page(
          '退订 Unsubscribe',
          `<h1>退订邮件 / Unsubscribe</h1><p>确认后，您将不再收到我们的营销邮件。</p><p>Confirm, and you will receive no more marketing mail from us.</p><form method="post"><input type="hidden" name="confirm" value="yes"><button type="submit" style="font-size:1rem;padding:.5rem 1rem">确认退订 Unsubscribe</button></form>`,
        ),
      );
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/public/unsubscribe/:token',
    auth: false,
    idempotent: false,
    summary: 'Unsubscribe (the page\'s form, or one-click: `List-Unsubscribe=One-Click`, RFC 8058): an opt-out in the consent ledger; the address is suppressed at once',
    description: 'Takes a form (application/x-www-form-urlencoded) or JSON. A second unsubscribe changes nothing.',
    tags: publicTags,
    params: TokenParams,
    body: z.object({ 'List-Unsubscribe': z.literal('One-Click').optional(), confirm: z.string().max(10).optional() }).strict(),
    responses: { 200: { description: 'Unsubscribed', contentType: 'text/html' }, ...commonErrors, ...notFoundError },
    async handler({ params, body, services, meta, koa }) {
      const member = openTrackingToken(services.keys, 'unsubscribe', params.token);
      await unsubscribeMember(services.deps, member, { ...engagementRequest(koa), oneClick: body['List-Unsubscribe'] === 'One-Click' }, recipient, meta);
      return htmlAnswer(200, page('已退订 Unsubscribed', '<h1>已退订 / Unsubscribed</h1><p>您已退订，不会再收到我们的营销邮件。</p><p>You are unsubscribed and will receive no more marketing mail from us.</p>'));
    },
  }),
  recordCommandRoute<CampaignState, { amount: { amount: number; currency: string }; description: string; on: string }>(
    { resource: 'campaigns' },
    {
      action: 'costs',
      summary: 'Record a cost of the campaign (a booth, an advertisement, a mailing service); expense claims that name the campaign count by themselves',
      body: z.object({ amount: Money, description: z.string().trim().min(1).max(500), on: z.iso.date() }).strict(),
      writes: ['costs'],
      bodyNamesFields: false,
      done: 'Recorded',
      answer: { costId: z.string() },
      run: ({ params, body, actor, services, meta }) => recordCampaignCost(services.deps, params.id, body, actor, meta),
    },
  ),
  defineRoute({
    method: 'get',
    path: '/api/v1/reports/campaigns/:id',
    summary: 'What a campaign brought and cost (营销效果): sent, delivered, opened, clicked, unsubscribed, bounced, leads, opportunities, won revenue, cost, cost per lead, ROI',
    description:
      'From pre-aggregated counters. Opens and clicks are people\'s: HEAD requests, known scanners\' agents and those sooner after delivery than the rule\'s threshold (settings: campaign-engagement) are left out (`automated`); changing the threshold recomputes the rates from the raw events at once. Leads and opportunities are first touch (their `campaignId`); `orders` and `orderRevenue` the orders from quotes of those opportunities; `lastTouch` follows the member who clicked: leads created for the address after a person clicked, the opportunities they were converted into, their won amount and orders; won revenue is the won opportunities citing it; cost is the costs entered on it plus expense claims naming it (approved or paid). Amounts in one currency (default the company\'s); others are listed apart.',
    tags: campaignTags,
    permission: ['campaigns', 'view'],
    reads: [CAMPAIGN_RESULTS, 'campaigns', monthly(EXPENSES_BY.campaign)],
    params: IdParams,
    query: z.object({ currency: z.string().regex(/^[A-Z]{3}$/).optional() }).strict(),
    responses: { 200: { description: 'The campaign\'s results' }, ...commonErrors, ...notFoundError },
    async handler({ params, query, actor, services }) {
      await recordInScope(services, actor, 'campaigns', params.id);
      const [row] = await campaignRows(services, { _id: params.id }, query.currency);
      if (!row) throw notFound('campaign', params.id);
      return { status: 200, body: row };
    },
  }),
  reportRoute({
    name: 'campaigns',
    summary: 'Campaigns compared (营销活动对比): each campaign running in [from, to) with its results, cost and ROI',
    answer: 'A row per campaign (as GET /api/v1/reports/campaigns/{id} answers it), the best ROI first (campaigns without a cost last), and the totals',
    reads: [CAMPAIGN_RESULTS, 'campaigns', monthly(EXPENSES_BY.campaign)],
    query: z
      .object({ from: z.iso.date().describe('First day, inclusive'), to: z.iso.date().describe('Last day, exclusive'), type: z.enum(CAMPAIGN_TYPES).optional(), currency: z.string().regex(/^[A-Z]{3}$/).optional() })
      .strict()
      .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['from'] }),
    table: (answer) => (answer as { items: Record<string, unknown>[] }).items,
    async compute(query, actor, services) {
      authorize(actor, 'campaigns', 'view');
      const items = await campaignRows(services, { startsOn: { $lt: query.to }, endsOn: { $gte: query.from }, ...(query.type ? { type: query.type } : {}) }, query.currency);
      items.sort((a, b) => (b.roi ?? -Infinity) - (a.roi ?? -Infinity) || b.leads - a.leads);
      const sum = (pick: (row: (typeof items)[number]) => number) => items.reduce((total, row) => total + pick(row), 0);
      const currency = items[0]?.cost.currency ?? (await companyView(services.readStore)).currency;
      const cost = sum((row) => row.cost.amount);
      const won = sum((row) => row.wonRevenue.amount);
      const leads = sum((row) => row.leads);
      return {
        from: query.from,
        to: query.to,
        currency,
        items,
        totals: { sent: sum((r) => r.sent), delivered: sum((r) => r.delivered), opened: sum((r) => r.opened), clicked: sum((r) => r.clicked), leads, opportunities: sum((r) => r.opportunities), orders: sum((r) => r.orders), ...economics(won, cost, leads, currency) },
      };
    },
  }),
  ...settingRoutes({
    path: '/api/v1/settings/campaign-engagement',
    tags: campaignTags,
    schema: EngagementRule,
    read: { summary: 'The rule that tells people\'s opens and clicks from scanners\': sooner than `minSecondsAfterDelivery` after delivery looks automated (HEAD requests and known scanners\' agents always do)', done: 'The rule' },
    write: { summary: 'Change the rule: the campaign reports\' rates are recomputed from the raw opens and clicks at once', done: 'Changed' },
    load: (deps) => campaignEngagementSettings.read(deps),
    save: ({ body, actor, services, meta }) => campaignEngagementSettings.write(services.deps, body, actor, meta),
  }),
  ...settingRoutes({
    path: '/api/v1/settings/marketing-automation',
    tags: campaignTags,
    schema: AutomationRules,
    read: { summary: 'The marketing automation rules: when an event of a type matching conditions is published (or a contact\'s birthday comes: ContactBirthday), after a delay, send a template, add to a campaign or create a task (the marketing consumer runs them, once per rule and event)', done: 'The rules' },
    write: { summary: 'Replace the automation rules (each template a send_template names, and each campaign an add_to_campaign names, must exist: 404 email_template.not_found, campaign.not_found). A new rule applies to events recorded from now on (`activeFrom`); a rule kept by its key keeps its start', done: 'Changed' },
    load: (deps) => automationSettings.read(deps),
    async save({ body, actor, services, meta }) {
      for (const rule of body) {
        if (rule.do.action === 'send_template') await templateAt(services.deps, rule.do.templateId);
        if (rule.do.action === 'add_to_campaign') await campaignState(services.deps, rule.do.campaignId);
      }
      const previous = (await automationSettings.read(services.deps)).value;
      return automationSettings.write(services.deps, withStarts(body, previous, services.clock.now().toISOString()), actor, meta);
    },
  }),
  defineRoute({
    method: 'post',
    path: DSN_PATH,
    auth: false,
    idempotent: false,
    summary: 'A bounce: a delivery status notification (RFC 3464) from the mail server or its bounce processor, with the integration token (CRM_MAIL_DSN_TOKEN), not a user\'s',
    description:
      'Send the report as it arrived (Content-Type multipart/report or message/*), or its text (text/plain), with `Authorization: Bearer <CRM_MAIL_DSN_TOKEN>`. A permanent failure (Action failed, Status 5.x.x) of a campaign mail is a hard bounce: the member shows `bounced` and the address is suppressed; a transient one (4.x.x) is kept as a soft bounce. A report about no campaign mail is accepted and matches nothing. Unset token: 404.',
    tags: campaignTags,
    // The token is checked before the body (a caller without it learns nothing from a 400); the body is then the report's text.
    body: z.unknown().describe('The report, raw: multipart/report, message/*, or text/plain'),
    responses: { 200: { description: 'Recorded', schema: z.object({ matched: z.boolean(), campaignId: z.string().optional(), memberId: z.string().optional(), recorded: z.array(z.object({ recipient: z.string(), kind: z.enum(['hard', 'soft']), status: z.string() })) }) }, ...commonErrors, ...notFoundError },
    async handler({ body, services, meta, koa }) {
      const token = services.config.CRM_MAIL_DSN_TOKEN;
      if (!token) throw new HttpProblem(404, 'not_found', 'Not found', 'Bounce reports are not taken here: set CRM_MAIL_DSN_TOKEN to take them');
      if (!sameSecret(bearerToken(koa) ?? '', token)) throw new HttpProblem(401, 'unauthorized', 'Not authenticated', 'Send Authorization: Bearer <CRM_MAIL_DSN_TOKEN>', {}, { 'WWW-Authenticate': 'Bearer' });
      const report = typeof body === 'string' ? parseDeliveryStatus(body) : undefined;
      if (!report) throw new HttpProblem(400, 'validation', 'Invalid request', 'The body holds no delivery status (no Final-Recipient field)', { errors: [{ path: 'body', message: 'Expected a delivery status notification (RFC 3464)' }] });
      const result = await recordDeliveryStatus(services.deps, report, mailServer, meta);
      return { status: 200, body: result };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/consents',
    summary: 'Record an opt-in or opt-out (同意/撤回) with its source and evidence: the consent ledger the company proves consent with (PIPL)',
    description: 'An opt-out suppresses the address at once (no campaign mails it); an opt-in lifts that. Recording what the address said already adds nothing.',
    tags: campaignTags,
    permission: ['campaigns', 'edit'],
    body: z
      .object({
        email: Email.optional(),
        mobile: Mobile.optional().describe('A mobile number instead of an address (its SMS consent)'),
        channel: z.enum(['email', 'sms']).optional().describe('Default: email for an address, sms for a number'),
        given: z.boolean().describe('true: opt-in; false: opt-out'),
        source: z.enum(CONSENT_SOURCES),
        evidence: z.record(z.string().max(100), z.union([z.string().max(2000), z.number(), z.boolean()])).refine((value) => Object.keys(value).length <= 20, 'At most 20 entries').describe('What shows it: a form\'s URL and answer, an import\'s file, a note'),
      })
      .strict()
      .refine((body) => (body.email === undefined) !== (body.mobile === undefined), { path: ['email'], message: 'Give an email address or a mobile number' }),
    responses: { 200: { description: 'Recorded', schema: z.object({ email: z.string().optional(), mobile: z.string().optional(), consent: z.enum(['given', 'withdrawn']), changed: z.boolean() }) }, ...commonErrors, ...conflictError },
    async handler({ body, actor, services, meta }) {
      const channel = body.channel ?? (body.mobile ? 'sms' : 'email');
      const result = await recordConsent(services.deps, { email: body.email ?? '', ...(body.mobile ? { mobile: body.mobile } : {}), given: body.given, channel, source: body.source, evidence: { ...body.evidence, by: actor.userId } }, actor, meta);
      const who = body.mobile ? { mobile: normalizeMobile(body.mobile) } : { email: body.email!.toLowerCase() };
      return { status: 200, body: { ...who, consent: body.given ? ('given' as const) : ('withdrawn' as const), changed: result.changed }, headers: { 'X-Position': String(result.position) } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/consents',
    summary: "An address's consent ledger: every opt-in and opt-out, with when, where from and the evidence",
    tags: campaignTags,
    permission: ['campaigns', 'view'],
    reads: [],
    query: z
      .object({ email: Email.optional(), mobile: Mobile.optional() })
      .strict()
      .refine((query) => (query.email === undefined) !== (query.mobile === undefined), { path: ['email'], message: 'Give an email address or a mobile number' }),
    responses: { 200: { description: 'The ledger', schema: z.object({ email: z.string().optional(), mobile: z.string().optional(), emailConsent: z.enum(['given', 'withdrawn', 'unknown']), smsConsent: z.enum(['given', 'withdrawn', 'unknown']), entries: z.array(z.object({ type: z.string(), channel: z.string(), source: z.string(), evidence: z.record(z.string(), z.unknown()), at: z.string(), by: z.string() })) }) }, ...commonErrors },
    async handler({ query, actor, services }) {
      authorize(actor, 'campaigns', 'view');
      const address = query.mobile ? normalizeMobile(query.mobile) : query.email!;
      const events = await services.deps.eventStore.readStream(consentStream(address));
      const entries = events.map((event) => {
        const data = event.data as { channel: string; source: string; evidence: Record<string, unknown>; at: string };
        return { type: event.type === 'ConsentGiven' ? 'opt_in' : 'opt_out', channel: data.channel, source: data.source, evidence: data.evidence, at: data.at, by: event.metadata.actor };
      });
      const word = (channel: string) => {
        const last = entries.filter((entry) => entry.channel === channel).at(-1);
        return last ? (last.type === 'opt_in' ? ('given' as const) : ('withdrawn' as const)) : ('unknown' as const);
      };
      const who = query.mobile ? { mobile: address } : { email: address.toLowerCase() };
      return { status: 200, body: { ...who, emailConsent: word('email'), smsConsent: word('sms'), entries } };
    },
  }),
];

