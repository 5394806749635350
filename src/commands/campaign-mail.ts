import { isIP } from 'node:net';
import { campaignDecider, type AudienceFilter, type CampaignSend, type CampaignState } from '../domain/campaign/index.ts';
import { abGroups, type AbGroup, type AbTestRequest } from '../domain/campaign/ab-test.ts';
import {
  campaignAudienceStream,
  type CampaignMember,
  CampaignMembersListed,
  campaignMemberStream,
  consentDecider,
  consentStream,
  type ConsentState,
  frozenMembers,
  suppressionOf,
  MEMBERS_PER_EVENT,
  normalizeMobile,
  memberMailDecider,
  type MemberMailState,
  type CampaignAudienceEvent,
} from '../domain/campaign/members.ts';
import { compileMail, compileSmsParams, localeFor, type MailLocale, renderMail, type TrackingLinks } from '../domain/campaign/render.ts';
import type { SmsSender } from '../infra/sms/port.ts';
import type { EmailTemplateFields } from '../domain/campaign/template.ts';
import type { SmsTemplateFields } from '../domain/campaign/sms-template.ts';
import { catalogCommands, catalogRecordAt } from './catalog.ts';
import { DomainError } from '../domain/shared/errors.ts';
import { type DeliveryStatusReport, isHardBounce, isSoftBounce } from '../domain/campaign/dsn.ts';
import { recordStream, specOf } from '../domain/customization/resources.ts';
import { seededIds } from '../infra/ids.ts';
import { stableUuid } from '../domain/shared/stable-id.ts';
import type { ServerKeys } from '../infra/keys.ts';
import type { Logger } from '../infra/logger.ts';
import { type Mailer, mailDomain } from '../infra/mail/port.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { ERASED } from '../domain/shared/personal-data.ts';
import { contactOfMember } from '../domain/campaign/personal.ts';
import { execute, factEvent, load, onceFactEvent } from './pipeline.ts';

/** What mailing needs besides the event store: the mail port, the keys that seal its links, where the links point. */
export interface MailDeps extends CommandDeps {
  mailer: Mailer;
  keys: ServerKeys;
  /** The service's public URL: the mails' links start with it. */
  publicUrl: string;
  /** The sender (CRM_MAIL_FROM): its domain is the Message-IDs'. */
  mailFrom: string;
  /** The SMS port (an SMS campaign's test send). */
  sms?: SmsSender;
}

// ── Email templates ───────────────────────────────────────────────────────────────────────────────────────────

const emailTemplates = catalogCommands<EmailTemplateFields>('email-templates', 'EmailTemplate', 'templateId');
export const createEmailTemplate = emailTemplates.create;
export const changeEmailTemplate = emailTemplates.change;
export const archiveEmailTemplate = emailTemplates.archive;
export const restoreEmailTemplate = emailTemplates.restore;
/** SMS templates: the same commands, on their own record type. */
export const smsTemplates = catalogCommands<SmsTemplateFields>('sms-templates', 'SmsTemplate', 'templateId');

/** A template as it was at `revision` (default: now): what a send renders, however the template changed since. */
export const templateAt = (deps: CommandDeps, templateId: string, revision?: number) => catalogRecordAt<EmailTemplateFields>(deps, 'email-templates', 'email_template', templateId, revision);
/** An SMS template as it was at `revision` (default: now). */
export const smsTemplateAt = (deps: CommandDeps, templateId: string, revision?: number) => catalogRecordAt<SmsTemplateFields>(deps, 'sms-templates', 'sms_template', templateId, revision);

// ── Audience ─────────────────────────────────────────────────────────────────────────────────────────────────────

const campaignStream = (campaignId: string) => recordStream(specOf('campaigns'), campaignId);

export async function campaignState(deps: CommandDeps, campaignId: string): Promise<Extract<CampaignState, { status: 'active' | 'archived' }>> {
  const { state } = await load(deps, campaignDecider, campaignStream(campaignId));
  if (state.status === 'none') throw new DomainError('campaign.not_found', `Campaign ${campaignId} does not exist`, { campaignId });
  return state;
}

/**
 * Freezes a campaign's member list: the members (found by the caller's filters, in their data scope, less the
 * exclusions and the suppression list) are written to the campaign's audience stream in parts, then the campaign
 * records the list it will send to. A crash in between leaves parts no campaign names.
 */
export async function freezeAudience(
  deps: CommandDeps,
  campaignId: string,
  input: { filter: AudienceFilter; exclude: AudienceFilter[]; excludeEmails: number; members: CampaignMember[]; excluded: number },
  actor: Actor,
  meta: RequestMeta,
) {
  const state = await campaignState(deps, campaignId);
  if (state.send) throw new DomainError('campaign.already_sent', 'The audience of a campaign that has been sent stays as it was sent; create another campaign', { campaignId, sendId: state.send.sendId });
  const audienceId = meta.ids.newId();
  const parts: CampaignAudienceEvent[] = [];
  for (let i = 0; i < input.members.length || i === 0; i += MEMBERS_PER_EVENT)
    parts.push({ type: 'CampaignMembersListed', data: CampaignMembersListed.parse({ campaignId, audienceId, part: parts.length, members: input.members.slice(i, i + MEMBERS_PER_EVENT) }) });
  const stream = campaignAudienceStream(campaignId);
  await deps.eventStore.append(stream, parts.map((part) => factEvent(deps, meta, actor.userId, part)), 'any');
  const at = deps.clock.now().toISOString();
  return execute(deps, campaignDecider, campaignStream(campaignId), { type: 'FreezeAudience', campaignId, audienceId, filter: input.filter, exclude: input.exclude, excludeEmails: input.excludeEmails, count: input.members.length, excluded: input.excluded, by: actor.userId, at }, actor, meta);
}

/** The members of the campaign's frozen list (empty before one is frozen). */
export async function campaignMembers(deps: CommandDeps, campaignId: string, audienceId: string | undefined): Promise<CampaignMember[]> {
  if (!audienceId) return [];
  const events = await deps.eventStore.readStream(campaignAudienceStream(campaignId));
  return frozenMembers(events as unknown as CampaignAudienceEvent[], audienceId);
}

/**
 * Adds people to a campaign's member list (an automation's add_to_campaign): those not on it yet and not suppressed
 * join the list frozen last (or start one), as a part of their own, and the campaign counts them. A campaign sent
 * already is refused. Retried with the same request, it writes nothing twice: the part's event id comes from the
 * request, and the people its own earlier attempt listed are still counted as added.
 */
export async function addCampaignMembers(deps: CommandDeps, campaignId: string, people: readonly CampaignMember[], actor: Actor, meta: RequestMeta): Promise<{ added: CampaignMember[] }> {
  const state = await campaignState(deps, campaignId);
  if (state.send) throw new DomainError('campaign.already_sent', 'The member list of a campaign that has been sent stays as it was sent', { campaignId, sendId: state.send.sendId });
  const audienceId = state.audience?.audienceId ?? stableUuid(`campaign-audience:${campaignId}:${meta.requestId}`);
  const stream = campaignAudienceStream(campaignId);
  const parts = ((await deps.eventStore.readStream(stream)) as unknown as (CampaignAudienceEvent & { metadata: { requestId: string } })[]).filter((event) => event.data.audienceId === audienceId);
  const listedBefore = new Set(parts.filter((part) => part.metadata.requestId !== meta.requestId).flatMap((part) => part.data.members.map((member) => member.memberId)));
  const added: CampaignMember[] = [];
  for (const person of people) if (!listedBefore.has(person.memberId) && !added.some((a) => a.memberId === person.memberId) && !(await suppressed(deps, person.email))) added.push(person);
  if (added.length === 0) return { added };
  const part = CampaignMembersListed.parse({ campaignId, audienceId, part: parts.length, members: added });
  await deps.eventStore.append(stream, [onceFactEvent(deps, meta, actor.userId, stream, { type: 'CampaignMembersListed', data: part })], 'any');
  await execute(deps, campaignDecider, campaignStream(campaignId), { type: 'AddMembers', campaignId, audienceId, added: added.length, by: actor.userId, at: deps.clock.now().toISOString() }, actor, meta);
  return { added };
}

// ── Consent and suppression ───────────────────────────────────────────────────────────────────────────────────────

export const consentOf = async (deps: CommandDeps, email: string): Promise<ConsentState> => (await load(deps, consentDecider, consentStream(email))).state;

/** Why an address may not be mailed (its last word was an opt-out, or it bounced for good), if so: read from its ledger, not a read model that may lag. */
export const suppression = async (deps: CommandDeps, email: string): Promise<'unsubscribed' | 'bounced' | undefined> => suppressionOf(await consentOf(deps, email));
export const suppressed = async (deps: CommandDeps, email: string): Promise<boolean> => (await suppression(deps, email)) !== undefined;

/** Records an opt-in or opt-out of an address, or of a mobile number (`mobile`, its ledger keyed by the number). */
export async function recordConsent(deps: CommandDeps, input: { email: string; mobile?: string; given: boolean; channel: 'email' | 'sms'; source: 'form' | 'link' | 'import' | 'user'; evidence: Record<string, unknown> }, actor: Actor, meta: RequestMeta) {
  const mobile = input.mobile ? normalizeMobile(input.mobile) : undefined;
  const fact = { email: mobile ? '' : input.email.trim().toLowerCase(), ...(mobile ? { mobile } : {}), channel: input.channel, source: input.source, evidence: input.evidence, at: deps.clock.now().toISOString() };
  return execute(deps, consentDecider, consentStream(mobile ?? input.email), { type: input.given ? 'GiveConsent' : 'WithdrawConsent', fact }, actor, meta);
}

// ── Tracking links ────────────────────────────────────────────────────────────────────────────────────────────────

/** What a mail's links are for; each is sealed for its own route, so one cannot be used on another. */
export type TrackingKind = 'mail-open' | 'mail-click' | 'unsubscribe';
interface TrackedMember {
  c: string;
  m: string;
  u?: string;
  /** An automation's mail (no campaign member): the address and the automation. */
  e?: string;
  a?: string;
}
export const trackingPaths: Record<TrackingKind, string> = { 'mail-open': '/api/v1/public/t/open', 'mail-click': '/api/v1/public/t/click', unsubscribe: '/api/v1/public/unsubscribe' };

const sealLink = (deps: Pick<MailDeps, 'keys' | 'publicUrl'>, kind: TrackingKind, payload: TrackedMember) =>
  `${deps.publicUrl.replace(/\/+$/, '')}${trackingPaths[kind]}/${deps.keys.seal('public-link', kind, JSON.stringify(payload))}`;

/** A member's links, sealed (encrypted and authenticated) with the server's public-link key: tamper-proof. */
export const memberLinks = (deps: Pick<MailDeps, 'keys' | 'publicUrl'>, campaignId: string, memberId: string): TrackingLinks => ({
  click: (url) => sealLink(deps, 'mail-click', { c: campaignId, m: memberId, u: url }),
  openPixel: sealLink(deps, 'mail-open', { c: campaignId, m: memberId }),
  unsubscribe: sealLink(deps, 'unsubscribe', { c: campaignId, m: memberId }),
});

/** The unsubscribe link of an address an automation mails (the marketing mails it sends carry one, as a campaign's do). */
export const automationUnsubscribeLink = (deps: Pick<MailDeps, 'keys' | 'publicUrl'>, email: string, automationKey: string): string => sealLink(deps, 'unsubscribe', { c: '', m: '', e: email.trim().toLowerCase(), a: automationKey });

/** Whom a token names: a campaign's member, or an address an automation mailed; an altered, forged or foreign token answers 404 like an unknown one. */
export function openTrackingToken(keys: ServerKeys, kind: TrackingKind, token: string): { campaignId: string; memberId: string; url?: string; email?: string; automation?: string } {
  const plain = keys.open('public-link', kind, token);
  if (!plain) throw new DomainError('public_link.not_found', 'This link is not valid');
  const { c, m, u, e, a } = JSON.parse(plain) as TrackedMember;
  return { campaignId: c, memberId: m, ...(u ? { url: u } : {}), ...(e && a ? { email: e, automation: a } : {}) };
}

/** The kind of address a request came from (the address itself is not kept). */
export function addressClass(ip: string | undefined): 'loopback' | 'private' | 'public' | 'unknown' {
  if (!ip) return 'unknown';
  const address = ip.replace(/^::ffff:/, '');
  const family = isIP(address);
  if (family === 0) return 'unknown';
  if (address === '::1' || address.startsWith('127.')) return 'loopback';
  if (family === 4) return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.)/.test(address) ? 'private' : 'public';
  return /^(f[cd]|fe[89ab])/i.test(address) ? 'private' : 'public';
}

export interface EngagementRequest {
  method: 'GET' | 'HEAD' | 'POST';
  userAgent: string;
  ip: string | undefined;
}

/** Records an open or a click, raw, on the member's stream (whether it looks automated is decided by the rates). */
export async function recordEngagement(deps: CommandDeps, kind: 'open' | 'click', member: { campaignId: string; memberId: string; url?: string }, request: EngagementRequest, actor: Actor, meta: RequestMeta) {
  const { campaignId, memberId } = member;
  const at = deps.clock.now().toISOString();
  return execute(deps, memberMailDecider, campaignMemberStream(campaignId, memberId), { type: kind === 'open' ? 'RecordOpen' : 'RecordClick', campaignId, memberId, at, method: request.method, userAgent: request.userAgent, addressClass: addressClass(request.ip), ...(member.url ? { url: member.url } : {}) }, actor, meta);
}

/** The address a member was mailed at (from their mail's record), for an unsubscribe through their link. */
export async function mailedAddress(deps: CommandDeps, campaignId: string, memberId: string): Promise<string> {
  const events = await deps.eventStore.readStream(campaignMemberStream(campaignId, memberId));
  const email = (events.find((event) => event.type === 'CampaignMailSending')?.data as { email: string } | undefined)?.email;
  // An erased person's address is gone: there is nothing left to unsubscribe.
  if (email === undefined || email === ERASED) throw new DomainError('public_link.not_found', 'This link is not valid');
  return email;
}

/**
 * Unsubscribes the address a member's link was mailed to: an opt-out in the consent ledger, with the campaign,
 * member and how it was made as evidence. A second one changes nothing.
 */
export async function unsubscribeMember(deps: CommandDeps, member: { campaignId: string; memberId: string; email?: string; automation?: string }, request: EngagementRequest & { oneClick: boolean }, actor: Actor, meta: RequestMeta) {
  const email = member.email ?? (await mailedAddress(deps, member.campaignId, member.memberId));
  const source = member.automation ? { automation: member.automation } : { campaignId: member.campaignId, memberId: member.memberId };
  const evidence = { ...source, via: request.oneClick ? 'List-Unsubscribe-Post' : 'unsubscribe page', userAgent: request.userAgent.slice(0, 500), addressClass: addressClass(request.ip) };
  const result = await recordConsent(deps, { email, given: false, channel: 'email', source: 'link', evidence }, actor, meta);
  return { ...result, email };
}

// ── Sending ──────────────────────────────────────────────────────────────────────────────────────────────────────

/** A campaign mail's Message-ID names its campaign and member, so a bounce report about it finds them. */
const messageIdFor = (deps: MailDeps, campaignId: string, memberId: string) => `<c.${campaignId}.${memberId}@${mailDomain(deps.mailFrom)}>`;
const MESSAGE_ID = /^<c\.([0-9a-f-]{36})\.([0-9a-f-]{36})@[^>]+>$/i;
/** The campaign and member a campaign mail's Message-ID names. */
export const memberOfMessageId = (messageId: string): { campaignId: string; memberId: string } | undefined => {
  const match = MESSAGE_ID.exec(messageId.trim());
  return match ? { campaignId: match[1]!, memberId: match[2]! } : undefined;
};
/** Request facts of one step of one member's mail: the same on every attempt, so a step is written once. */
export const stepMeta = (requestId: string, timeMs: number): RequestMeta => ({ correlationId: requestId, requestId, ids: seededIds(requestId, timeMs) });

/** The headers of a marketing mail: one-click unsubscribe (RFC 8058) and the campaign it belongs to. */
const marketingHeaders = (links: TrackingLinks, campaignId: string) => ({
  'List-Unsubscribe': `<${links.unsubscribe}>`,
  'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  'X-CRM-Campaign': campaignId,
});

/** What a test renders when the campaign has no member yet. */
const SAMPLE_MERGE = { contact: { name: '张三 (示例 sample)' }, customer: { name: '示例客户 Sample Co.' } };

/** Mails a template to chosen addresses, marked as a test (links work but record nothing), and records who tested what. */
export async function testSend(deps: MailDeps, campaignId: string, input: { templateId: string; to: string[] }, actor: Actor, meta: RequestMeta) {
  const campaign = await campaignState(deps, campaignId);
  if (campaign.fields.type === 'sms') return testSms(deps, campaign, input, actor, meta);
  const { fields } = await templateAt(deps, input.templateId);
  const sample = (await campaignMembers(deps, campaignId, campaign.audience?.audienceId))[0];
  const locale = localeFor(fields, sample?.locale);
  const merge = sample?.merge ?? SAMPLE_MERGE;
  const rendered = renderMail(fields, locale, { ...merge, campaign: { name: campaign.fields.name }, unsubscribeUrl: `${deps.publicUrl.replace(/\/+$/, '')}/api/v1/public/unsubscribe/test` });
  const messageIds: string[] = [];
  for (const to of input.to) {
    const sent = await deps.mailer.send({ to: [to], subject: `[测试 TEST] ${rendered.subject}`, html: rendered.html, text: rendered.text, headers: { 'X-CRM-Campaign': campaignId, 'X-CRM-Test': 'true' } });
    messageIds.push(sent.messageId);
  }
  const at = deps.clock.now().toISOString();
  const result = await execute(deps, campaignDecider, campaignStream(campaignId), { type: 'RecordTestSend', campaignId, templateId: input.templateId, to: input.to, messageIds, by: actor.userId, at }, actor, meta);
  return { ...result, messageIds };
}

/** Texts an SMS template to chosen numbers (its parameters filled from the first member, or sample data), and records who tested what. */
async function testSms(deps: MailDeps, campaign: Extract<CampaignState, { status: 'active' | 'archived' }>, input: { templateId: string; to: string[] }, actor: Actor, meta: RequestMeta) {
  if (!deps.sms) throw new Error('No SMS port');
  const { fields } = await smsTemplateAt(deps, input.templateId);
  const sample = (await campaignMembers(deps, campaign.campaignId, campaign.audience?.audienceId))[0];
  const params = compileSmsParams(fields.params)({ ...(sample?.merge ?? SAMPLE_MERGE), campaign: { name: campaign.fields.name } });
  const messageIds: string[] = [];
  for (const [i, to] of input.to.entries()) {
    const sent = await deps.sms.send({ to: normalizeMobile(to), templateCode: fields.templateCode, params, ...(fields.signName ? { signName: fields.signName } : {}), requestId: `sms-test-${meta.requestId}-${i}` });
    messageIds.push(sent.messageId);
  }
  const result = await execute(deps, campaignDecider, campaignStream(campaign.campaignId), { type: 'RecordTestSend', campaignId: campaign.campaignId, templateId: input.templateId, to: input.to.map(normalizeMobile), messageIds, by: actor.userId, at: deps.clock.now().toISOString() }, actor, meta);
  return { ...result, messageIds };
}

/**
 * Starts the send of a template to the frozen member list (sending itself is `runSend`'s, in the background). With an
 * A/B test, the test's members get the template or the variant first; the rest wait for the decision.
 */
export async function startSend(deps: CommandDeps, campaignId: string, templateId: string, abTest: AbTestRequest | undefined, actor: Actor, meta: RequestMeta) {
  const sms = (await campaignState(deps, campaignId)).fields.type === 'sms';
  // An SMS campaign sends an SMS template; any other an email template (the decider refuses a kind that sends nothing).
  const { revision } = sms ? await smsTemplateAt(deps, templateId) : await templateAt(deps, templateId);
  // (An SMS campaign's test is refused by the decider, with no variant to read.)
  const variant = abTest && !sms ? await templateAt(deps, abTest.variantTemplateId) : undefined;
  const sendId = meta.ids.newId();
  const now = deps.clock.now();
  const at = now.toISOString();
  const test = abTest ? { ...abTest, variantTemplateRevision: variant?.revision ?? 0, decideAt: new Date(now.getTime() + abTest.decideAfterHours * 3_600_000).toISOString() } : undefined;
  const result = await execute(deps, campaignDecider, campaignStream(campaignId), { type: 'StartSend', campaignId, sendId, templateId, templateRevision: revision, ...(test ? { abTest: test } : {}), by: actor.userId, at }, actor, meta);
  const send = result.state.status === 'none' ? undefined : result.state.send;
  return { ...result, sendId: send?.sendId ?? sendId };
}

export interface SendSettings {
  /** The most mails handed over a second. */
  ratePerSecond: number;
  /** Mails in flight at once. */
  concurrency: number;
  /** Attempts per mail when the server cannot be reached or answers 4xx (then the send stops, to be resumed). */
  attempts?: number;
  /** Stops the run between mails (a shutdown); what is left is sent when it resumes. */
  stopping?: () => boolean;
}

export type MemberOutcome = 'delivered' | 'failed' | 'skipped';

/** A transient SMTP failure (no connection, 4xx): worth another attempt, never a member's failure. */
const transient = (error: unknown) => {
  const code = (error as { responseCode?: number }).responseCode;
  return code === undefined || (code >= 400 && code < 500);
};

/** Hands out send slots at most `perSecond` a second, to any number of workers. */
export function pacer(perSecond: number): () => Promise<void> {
  const gap = 1000 / perSecond;
  let next = performance.now();
  return async () => {
    const now = performance.now();
    const slot = Math.max(now, next);
    next = slot + gap;
    if (slot > now) await new Promise((resolve) => setTimeout(resolve, slot - now));
  };
}

/**
 * Sends a campaign's mail to every frozen member who has not had it: the outbox is the members' streams. For each
 * member, `CampaignMailSending` (with the Message-ID) is recorded before the SMTP transaction and the outcome after
 * it; a member with an outcome is passed over, so a run resumed after a crash mails nobody twice. A member whose
 * start is recorded without an outcome (the crash fell inside the transaction) is handed over again with the same
 * Message-ID. Suppressed addresses are skipped. When every member has an outcome, the campaign records the totals.
 * A mail server that cannot be reached stops the run (it is resumed on the next start or request).
 */
export async function runSend(deps: MailDeps & { logger: Logger }, campaignId: string, settings: SendSettings, actor: Actor): Promise<Record<MemberOutcome, number> | undefined> {
  const campaign = await campaignState(deps, campaignId);
  const send = campaign.send;
  if (!send || send.status === 'completed') return undefined;
  const everyone = await campaignMembers(deps, campaignId, send.audienceId);
  const plan = await sendPlan(deps, send, everyone);
  const members = everyone.filter((member) => plan.templateOf(member.memberId));
  const pace = pacer(settings.ratePerSecond);
  const attempts = settings.attempts ?? 3;
  const startedMs = Date.parse(send.startedAt);
  const compiled = new Map<string, ReturnType<typeof compileMail>>();
  const render = (templateId: string, locale: MailLocale) => compiled.get(`${templateId}:${locale}`) ?? compiled.set(`${templateId}:${locale}`, compileMail(plan.templates.get(templateId)!, locale)).get(`${templateId}:${locale}`)!;

  const sendOne = async (member: CampaignMember): Promise<MemberOutcome> => {
    const templateId = plan.templateOf(member.memberId)!;
    const template = plan.templates.get(templateId)!;
    const stream = campaignMemberStream(campaignId, member.memberId);
    const step = (name: string) => stepMeta(`campaign-send:${send.sendId}:${member.memberId}:${name}`, startedMs);
    const at = () => deps.clock.now().toISOString();
    // One read of the address's ledger and one command: a suppressed address is skipped, any other started (both
    // decide nothing for a member whose mail has an outcome, or is in doubt).
    // A member whose personal data was erased since the list was frozen is not mailed.
    const reason = member.email === ERASED ? 'erased' : await suppression(deps, member.email);
    const optedOut = reason !== undefined;
    const { state } = await execute(
      deps,
      memberMailDecider,
      stream,
      optedOut
        ? { type: 'SkipMail', campaignId, memberId: member.memberId, sendId: send.sendId, reason, at: at() }
        : { type: 'StartMail', campaignId, memberId: member.memberId, sendId: send.sendId, messageId: messageIdFor(deps, campaignId, member.memberId), email: member.email, templateId, locale: localeFor(template, member.locale), at: at(), ...contactOfMember(member) },
      actor,
      step(optedOut ? 'skip' : 'start'),
    );
    const done = outcomeOf(state);
    if (done) return done;
    if (optedOut) {
      // In doubt from an earlier run, and opted out since: not handed over again.
      await execute(deps, memberMailDecider, stream, { type: 'RecordFailure', campaignId, memberId: member.memberId, sendId: send.sendId, reason: 'Opted out before the mail could be handed over again', at: at() }, actor, step('result'));
      return 'failed';
    }
    const messageId = messageIdFor(deps, campaignId, member.memberId);
    const links = memberLinks(deps, campaignId, member.memberId);
    const rendered = render(templateId, localeFor(template, member.locale))({ ...member.merge, campaign: { name: campaign.fields.name } }, links);
    let outcome: { delivered: true; response: string } | { delivered: false; reason: string } | undefined;
    for (let attempt = 1; !outcome; attempt++) {
      await pace();
      try {
        const sent = await deps.mailer.send({ to: [member.email], subject: rendered.subject, html: rendered.html, text: rendered.text, messageId, headers: marketingHeaders(links, campaignId) });
        outcome = sent.rejected.length ? { delivered: false, reason: `Refused: ${sent.rejected.join(', ')}${sent.response ? ` (${sent.response})` : ''}` } : { delivered: true, response: sent.response ?? '250 accepted' };
      } catch (error) {
        if (!transient(error)) outcome = { delivered: false, reason: (error as Error).message };
        else if (attempt >= attempts) throw error;
        else await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
      }
    }
    await execute(deps, memberMailDecider, stream, outcome.delivered ? { type: 'RecordDelivery', campaignId, memberId: member.memberId, sendId: send.sendId, response: outcome.response, at: at() } : { type: 'RecordFailure', campaignId, memberId: member.memberId, sendId: send.sendId, reason: outcome.reason, at: at() }, actor, step('result'));
    return outcome.delivered ? 'delivered' : 'failed';
  };

  const counted = await sendToMembers(members, settings, sendOne);
  if (!counted) return undefined;
  if (send.abTest && !send.abTest.decided) {
    deps.logger.info('A/B test mailed; the rest of the audience waits for the decision', { campaignId, sendId: send.sendId, decideAt: send.abTest.decideAt, ...counted });
    return counted;
  }
  return completeSend(deps, campaignId, send, counted, actor);
}

/** Runs `sendOne` for every member, `concurrency` at a time; answers the outcomes, or undefined when stopped between members. */
export async function sendToMembers(members: readonly CampaignMember[], settings: SendSettings, sendOne: (member: CampaignMember) => Promise<MemberOutcome>): Promise<Record<MemberOutcome, number> | undefined> {
  const counts: Record<MemberOutcome, number> = { delivered: 0, failed: 0, skipped: 0 };
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (next < members.length) {
      if (settings.stopping?.()) {
        stopped = true;
        return;
      }
      const member = members[next++]!;
      counts[await sendOne(member)] += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(settings.concurrency, members.length)) }, worker));
  return stopped ? undefined : counts;
}

/** Records a send's totals once every member has an outcome (once: the step's request id is the send's). */
export async function completeSend(deps: CommandDeps & { logger: Logger }, campaignId: string, send: CampaignSend, counts: Record<MemberOutcome, number>, actor: Actor): Promise<Record<MemberOutcome, number>> {
  await execute(deps, campaignDecider, campaignStream(campaignId), { type: 'CompleteSend', campaignId, sendId: send.sendId, ...counts, at: deps.clock.now().toISOString() }, actor, stepMeta(`campaign-send:${send.sendId}:complete`, Date.parse(send.startedAt)));
  deps.logger.info('campaign sent', { campaignId, sendId: send.sendId, ...counts });
  return counts;
}

/**
 * Which template each member gets: the send's; with an A/B test, the template (A) or the variant (B) for the test's
 * members, and for the rest the winner once decided (none before: they wait).
 */
async function sendPlan(deps: CommandDeps, send: CampaignSend, members: readonly CampaignMember[]) {
  const templates = new Map<string, EmailTemplateFields>([[send.templateId, (await templateAt(deps, send.templateId, send.templateRevision)).fields]]);
  const test = send.abTest;
  if (!test) return { templates, templateOf: (_memberId: string): string | undefined => send.templateId };
  templates.set(test.variantTemplateId, (await templateAt(deps, test.variantTemplateId, test.variantTemplateRevision)).fields);
  const groups = abGroups(members.map((member) => member.memberId), send.sendId, test.share);
  // The winner is A's or B's template at the revision the test sent.
  const byGroup: Record<AbGroup, string | undefined> = { A: send.templateId, B: test.variantTemplateId, rest: test.decided?.templateId };
  return { templates, templateOf: (memberId: string) => byGroup[groups.get(memberId) ?? 'rest'] };
}

/** What became of a member's mail, once it is known (a bounce came after the server took the mail: it was delivered). */
export const outcomeOf = (state: MemberMailState): MemberOutcome | undefined =>
  state.status === 'bounced' ? 'delivered' : state.status === 'delivered' || state.status === 'failed' || state.status === 'skipped' ? state.status : undefined;

// ── Bounces ──────────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Records what a delivery status notification says about campaign mails: each recipient that failed for good (5.x.x)
 * is a hard bounce of the member (their mail names campaign and member in its Message-ID, and the recipient must be
 * the address it went to) and suppresses the address; a transient failure or delay (4.x.x) is kept as a soft bounce.
 * Answers what matched; a report about no campaign mail matches nothing.
 */
export async function recordDeliveryStatus(deps: CommandDeps, report: DeliveryStatusReport, actor: Actor, meta: RequestMeta) {
  const member = report.messageId ? memberOfMessageId(report.messageId) : undefined;
  const recorded: { recipient: string; kind: 'hard' | 'soft'; status: string }[] = [];
  if (!member) return { matched: false, recorded };
  const events = await deps.eventStore.readStream(campaignMemberStream(member.campaignId, member.memberId));
  const sending = events.find((event) => event.type === 'CampaignMailSending')?.data as { email: string; messageId: string } | undefined;
  if (!sending || sending.messageId !== report.messageId) return { matched: false, recorded };
  const at = deps.clock.now().toISOString();
  for (const status of report.recipients) {
    const kind = isHardBounce(status) ? 'hard' : isSoftBounce(status) ? 'soft' : undefined;
    if (!kind || status.recipient !== sending.email.toLowerCase()) continue;
    const detail = { status: status.status, ...(status.diagnostic ? { diagnostic: status.diagnostic } : {}) };
    await execute(deps, memberMailDecider, campaignMemberStream(member.campaignId, member.memberId), { type: 'RecordBounce', ...member, kind, ...detail, at }, actor, meta);
    if (kind === 'hard') await execute(deps, consentDecider, consentStream(sending.email), { type: 'RecordHardBounce', bounce: { email: sending.email.toLowerCase(), ...member, ...detail, at } }, actor, meta);
    recorded.push({ recipient: status.recipient, kind, status: status.status });
  }
  return { matched: true, ...member, recorded };
}

