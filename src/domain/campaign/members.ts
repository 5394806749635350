import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';
import { DomainError } from '../shared/errors.ts';
import { stableUuid } from '../shared/stable-id.ts';

/** Where an audience's people come from: a list's records (a contact, a customer's contacts, a lead). */
export const AUDIENCE_RESOURCES = ['contacts', 'customers', 'leads'] as const;
export type AudienceResource = (typeof AUDIENCE_RESOURCES)[number];

/**
 * One person of a campaign's frozen audience: who (the record they came from), where the mail goes, in which
 * language, and the merge values as they were when the list was frozen (a resumed send renders the same mail).
 */
export const CampaignMember = z.object({
  memberId: z.string(),
  resource: z.enum(AUDIENCE_RESOURCES),
  recordId: z.string(),
  /** The address a mail goes to (empty for a member of an SMS campaign). */
  email: z.string(),
  /** The mobile number a text message goes to (members of an SMS campaign). */
  mobile: z.string().optional(),
  name: z.string(),
  locale: z.enum(['zh-CN', 'en']),
  ownerId: z.string().nullable(),
  /** The owner's department path when the list was frozen (who may see the member in the list). */
  departmentPath: z.string().nullable(),
  merge: z.record(z.string(), z.record(z.string(), z.unknown())),
});
export type CampaignMember = z.infer<typeof CampaignMember>;

/** A member's id in its campaign: from the address, so one address is one member however many records carry it. */
export const memberIdFor = (email: string): string => stableUuid(`campaign-member:${email.trim().toLowerCase()}`);
/** A read-model document's bookkeeping (never a merge value): `_…` fields, the owner's department path, the revision, collaborators. */
export const isBookkeeping = (field: string): boolean => /^_|^(departmentPath|revision|collaborators)$/.test(field);
/** English for a record whose `language` (standard or custom) says so; Chinese otherwise. */
export const localeOf = (doc: Record<string, unknown>): 'zh-CN' | 'en' => {
  const language = doc.language ?? (doc.custom as Record<string, unknown> | undefined)?.language;
  return typeof language === 'string' && /^en\b/i.test(language) ? 'en' : 'zh-CN';
};
/** A member's id in an SMS campaign: from the number, so one number is one member. */
export const smsMemberIdFor = (mobile: string): string => stableUuid(`campaign-member-sms:${normalizeMobile(mobile)}`);
/** A mainland mobile number without its country code and separators (`+86 139-0000-0000` → `13900000000`); another country's in E.164. */
export const normalizeMobile = (mobile: string): string => {
  const digits = mobile.replace(/[\s()-]/g, '');
  return /^(\+?86)1[3-9]\d{9}$/.test(digits) ? digits.replace(/^\+?86/, '') : digits;
};
/** Whether a number can take a text message: a mainland mobile number, or E.164. */
export const isMobile = (mobile: string): boolean => /^1[3-9]\d{9}$|^\+[1-9]\d{7,14}$/.test(normalizeMobile(mobile));
/** An address as the consent ledger keys it (its stream id does not show the address). */
export const addressKey = (email: string): string => stableUuid(`consent:${email.trim().toLowerCase()}`);

// ── The frozen member list: stream campaignAudience-<campaignId> ───────────────────────────────────────────────

/** One part of a frozen list (a long list is written in parts, all in one append). */
export const CampaignMembersListed = z.object({ campaignId: z.string(), audienceId: z.string(), part: z.number().int().min(0), members: z.array(CampaignMember) });
export const campaignAudienceEventSchemas = { CampaignMembersListed };
export type CampaignAudienceEvent = EventsOf<typeof campaignAudienceEventSchemas>;
export const campaignAudienceCategory = 'campaignAudience';
export const campaignAudienceStream = (campaignId: string) => `${campaignAudienceCategory}-${campaignId}`;
export const MEMBERS_PER_EVENT = 500;

/** The members of the latest frozen list (`audienceId`), in the order they were listed. */
export function frozenMembers(events: readonly CampaignAudienceEvent[], audienceId: string): CampaignMember[] {
  return events.filter((event) => event.data.audienceId === audienceId).flatMap((event) => event.data.members);
}

// ── One member's mail: stream campaignMember-<campaignId>.<memberId> ──────────────────────────────────────────

/** Why a member was not mailed. */
export const SKIP_REASONS = ['unsubscribed', 'bounced', 'erased'] as const;

/** Recorded before the SMTP transaction, with the Message-ID the mail goes out with (a resumed send reuses it). */
/** `contactId`: the contact the member came from, whose key seals the address (absent for a lead, and in mail of earlier versions). */
export const CampaignMailSending = z.object({ campaignId: z.string(), memberId: z.string(), sendId: z.string(), messageId: z.string(), email: z.string(), templateId: z.string(), locale: z.enum(['zh-CN', 'en']), at: z.string(), contactId: z.string().optional() });
/** The SMTP server accepted the message (250): "delivered". */
export const CampaignMailDelivered = z.object({ campaignId: z.string(), memberId: z.string(), sendId: z.string(), messageId: z.string(), response: z.string().max(500), at: z.string() });
/** The server refused it, or it could not be handed over after the retries. */
export const CampaignMailFailed = z.object({ campaignId: z.string(), memberId: z.string(), sendId: z.string(), messageId: z.string(), reason: z.string().max(1000), at: z.string() });
/** Not mailed: the address is on the suppression list. */
export const CampaignMailSkipped = z.object({ campaignId: z.string(), memberId: z.string(), sendId: z.string(), reason: z.enum(SKIP_REASONS), at: z.string() });
/** An open or a click, raw: when, how (GET or HEAD), by which agent, from which kind of address. */
const Engagement = {
  campaignId: z.string(),
  memberId: z.string(),
  at: z.string(),
  method: z.enum(['GET', 'HEAD', 'POST']),
  userAgent: z.string().max(500),
  addressClass: z.enum(['loopback', 'private', 'public', 'unknown']),
};
export const CampaignMailOpened = z.object(Engagement);
export const CampaignMailClicked = z.object({ ...Engagement, url: z.string().max(2000) });
/** A delivery status notification about the mail: `hard` (5.x.x, failed) suppresses the address, `soft` (4.x.x) is kept. */
export const CampaignMailBounced = z.object({ campaignId: z.string(), memberId: z.string(), kind: z.enum(['hard', 'soft']), status: z.string().max(20), diagnostic: z.string().max(1000).optional(), at: z.string() });

/** A text message about to be handed to the SMS gateway, with our request id (a retry after a crash sends it again under it: the gateway drops the repeat). */
export const CampaignSmsSending = z.object({ campaignId: z.string(), memberId: z.string(), sendId: z.string(), requestId: z.string(), mobile: z.string(), templateId: z.string(), at: z.string(), contactId: z.string().optional() });
/** The gateway took the message (its id, for its delivery receipts): "delivered", as far as the service can know. */
export const CampaignSmsAccepted = z.object({ campaignId: z.string(), memberId: z.string(), sendId: z.string(), messageId: z.string().max(200), response: z.string().max(500), at: z.string() });
/** The gateway refused it (a bad number, a template not approved), or it could not be handed over after the retries. */
export const CampaignSmsFailed = z.object({ campaignId: z.string(), memberId: z.string(), sendId: z.string(), reason: z.string().max(1000), at: z.string() });

export const campaignMemberEventSchemas = { CampaignSmsSending, CampaignSmsAccepted, CampaignSmsFailed, CampaignMailSending, CampaignMailDelivered, CampaignMailFailed, CampaignMailSkipped, CampaignMailOpened, CampaignMailClicked, CampaignMailBounced };
export type CampaignMemberEvent = EventsOf<typeof campaignMemberEventSchemas>;
export const campaignMemberCategory = 'campaignMember';
export const campaignMemberStream = (campaignId: string, memberId: string) => `${campaignMemberCategory}-${campaignId}.${memberId}`;

export type MemberMailState =
  | { status: 'targeted' }
  | { status: 'sending'; sendId: string; messageId: string }
  | { status: 'delivered' | 'failed' | 'bounced'; sendId: string; messageId: string }
  | { status: 'skipped'; sendId: string; reason: (typeof SKIP_REASONS)[number] };

export type MemberMailCommand =
  | { type: 'StartMail'; campaignId: string; memberId: string; sendId: string; messageId: string; email: string; templateId: string; locale: 'zh-CN' | 'en'; at: string; contactId?: string }
  | { type: 'StartSms'; campaignId: string; memberId: string; sendId: string; requestId: string; mobile: string; templateId: string; at: string; contactId?: string }
  | { type: 'RecordSmsAccepted'; campaignId: string; memberId: string; sendId: string; messageId: string; response: string; at: string }
  | { type: 'RecordDelivery'; campaignId: string; memberId: string; sendId: string; response: string; at: string }
  | { type: 'RecordFailure'; campaignId: string; memberId: string; sendId: string; reason: string; at: string; sms?: boolean }
  | { type: 'SkipMail'; campaignId: string; memberId: string; sendId: string; reason: (typeof SKIP_REASONS)[number]; at: string }
  | { type: 'RecordBounce'; campaignId: string; memberId: string; kind: 'hard' | 'soft'; status: string; diagnostic?: string; at: string }
  | { type: 'RecordOpen' | 'RecordClick'; campaignId: string; memberId: string; at: string; method: 'GET' | 'HEAD' | 'POST'; userAgent: string; addressClass: 'loopback' | 'private' | 'public' | 'unknown'; url?: string };

export function evolveMember(state: MemberMailState, event: CampaignMemberEvent): MemberMailState {
  switch (event.type) {
    case 'CampaignMailSending':
      return { status: 'sending', sendId: event.data.sendId, messageId: event.data.messageId };
    case 'CampaignMailDelivered':
      return { status: 'delivered', sendId: event.data.sendId, messageId: event.data.messageId };
    case 'CampaignMailFailed':
      return { status: 'failed', sendId: event.data.sendId, messageId: event.data.messageId };
    case 'CampaignMailSkipped':
      return { status: 'skipped', sendId: event.data.sendId, reason: event.data.reason };
    case 'CampaignSmsSending':
      return { status: 'sending', sendId: event.data.sendId, messageId: event.data.requestId };
    case 'CampaignSmsAccepted':
      return { status: 'delivered', sendId: event.data.sendId, messageId: event.data.messageId };
    case 'CampaignSmsFailed':
      return state.status === 'sending' ? { status: 'failed', sendId: event.data.sendId, messageId: state.messageId } : state;
    case 'CampaignMailBounced':
      return event.data.kind === 'hard' && (state.status === 'delivered' || state.status === 'sending') ? { status: 'bounced', sendId: state.sendId, messageId: state.messageId } : state;
    default:
      return state;
  }
}

/**
 * A member's mail goes out once: `StartMail` is recorded before the SMTP transaction and the outcome after it. A
 * start already recorded for the same send (a crash in between: the outcome is unknown) decides nothing, and the
 * sender hands the mail over again with the same Message-ID. Opens and clicks are kept whatever they look like
 * (the rates decide later which look automated), but only for a mail that went out.
 */
export function decideMember(command: MemberMailCommand, state: MemberMailState): CampaignMemberEvent[] {
  const { campaignId, memberId } = command;
  switch (command.type) {
    case 'StartMail': {
      if (state.status !== 'targeted') return [];
      const { sendId, messageId, email, templateId, locale, at, contactId } = command;
      return [{ type: 'CampaignMailSending', data: { campaignId, memberId, sendId, messageId, email, templateId, locale, at, ...(contactId ? { contactId } : {}) } }];
    }
    case 'StartSms': {
      if (state.status !== 'targeted') return [];
      const { sendId, requestId, mobile, templateId, at, contactId } = command;
      return [{ type: 'CampaignSmsSending', data: { campaignId, memberId, sendId, requestId, mobile, templateId, at, ...(contactId ? { contactId } : {}) } }];
    }
    case 'RecordSmsAccepted': {
      if (state.status !== 'sending' || state.sendId !== command.sendId) return [];
      const { sendId, messageId, response, at } = command;
      return [{ type: 'CampaignSmsAccepted', data: { campaignId, memberId, sendId, messageId: messageId.slice(0, 200), response: response.slice(0, 500), at } }];
    }
    case 'RecordDelivery':
    case 'RecordFailure': {
      if (state.status !== 'sending' || state.sendId !== command.sendId) return [];
      const { sendId, at } = command;
      // A text message's failure (its start named our request id, not a Message-ID).
      if (command.type === 'RecordFailure' && command.sms) return [{ type: 'CampaignSmsFailed', data: { campaignId, memberId, sendId, reason: command.reason.slice(0, 1000), at } }];
      return command.type === 'RecordDelivery'
        ? [{ type: 'CampaignMailDelivered', data: { campaignId, memberId, sendId, messageId: state.messageId, response: command.response.slice(0, 500), at } }]
        : [{ type: 'CampaignMailFailed', data: { campaignId, memberId, sendId, messageId: state.messageId, reason: command.reason.slice(0, 1000), at } }];
    }
    case 'SkipMail':
      return state.status === 'targeted' ? [{ type: 'CampaignMailSkipped', data: { campaignId, memberId, sendId: command.sendId, reason: command.reason, at: command.at } }] : [];
    case 'RecordBounce': {
      if (state.status !== 'delivered' && state.status !== 'sending' && state.status !== 'bounced') throw new DomainError('campaign_member.not_mailed', 'No mail went out to this member', { campaignId, memberId });
      if (state.status === 'bounced' && command.kind === 'hard') return [];
      const { kind, status, diagnostic, at } = command;
      return [{ type: 'CampaignMailBounced', data: { campaignId, memberId, kind, status, ...(diagnostic ? { diagnostic: diagnostic.slice(0, 1000) } : {}), at } }];
    }
    case 'RecordOpen':
    case 'RecordClick': {
      if (state.status !== 'delivered' && state.status !== 'sending') throw new DomainError('campaign_member.not_mailed', 'No mail went out to this member', { campaignId, memberId });
      const { at, method, userAgent, addressClass } = command;
      const raw = { campaignId, memberId, at, method, userAgent: userAgent.slice(0, 500), addressClass };
      return command.type === 'RecordOpen' ? [{ type: 'CampaignMailOpened', data: raw }] : [{ type: 'CampaignMailClicked', data: { ...raw, url: (command.url ?? '').slice(0, 2000) } }];
    }
  }
}

export const memberMailDecider = { initialState: { status: 'targeted' } as MemberMailState, evolve: evolveMember, decide: decideMember };

// ── Consent, per address: stream consent-<addressKey> ──────────────────────────────────────────────────────────

/** Where an opt-in or opt-out came from, so the company can show it (PIPL): a form, a mail's link, an import, a user. */
export const CONSENT_SOURCES = ['form', 'link', 'import', 'user'] as const;
export const ConsentFact = z.object({
  /** The address the word is about (empty for a mobile number's). */
  email: z.string(),
  /** The mobile number the word is about (its SMS consent). */
  mobile: z.string().optional(),
  channel: z.enum(['email', 'sms']),
  source: z.enum(CONSENT_SOURCES),
  /** What shows it: the form's URL and answer, the campaign and member of the link, the import's file, the user's note. */
  evidence: z.record(z.string(), z.unknown()),
  at: z.string(),
});
export const ConsentGiven = ConsentFact;
export const ConsentWithdrawn = ConsentFact;
/** A hard bounce: the address does not exist (any more); it is suppressed like an opt-out, with the report as evidence. */
export const AddressBounced = z.object({ email: z.string(), campaignId: z.string(), memberId: z.string(), status: z.string().max(20), diagnostic: z.string().max(1000).optional(), at: z.string() });
export const consentEventSchemas = { ConsentGiven, ConsentWithdrawn, AddressBounced };
export type ConsentEvent = EventsOf<typeof consentEventSchemas>;
export const consentCategory = 'consent';
export const consentStream = (email: string) => `${consentCategory}-${addressKey(email)}`;


export type ConsentState = { email: 'given' | 'withdrawn' | 'unknown'; sms: 'given' | 'withdrawn' | 'unknown'; bounced: boolean };
export type ConsentCommand = { type: 'GiveConsent' | 'WithdrawConsent'; fact: z.infer<typeof ConsentFact> } | { type: 'RecordHardBounce'; bounce: z.infer<typeof AddressBounced> };

export const evolveConsent = (state: ConsentState, event: ConsentEvent): ConsentState =>
  event.type === 'AddressBounced' ? { ...state, bounced: true } : { ...state, [event.data.channel]: event.type === 'ConsentGiven' ? 'given' : 'withdrawn' };

/** Whether no campaign may mail the address: opted out, or it bounced for good. */
export const suppressionOf = (state: ConsentState): 'unsubscribed' | 'bounced' | undefined => (state.email === 'withdrawn' ? 'unsubscribed' : state.bounced ? 'bounced' : undefined);
/** Whether no campaign may text the number: its last word on SMS was an opt-out. */
export const smsSuppressionOf = (state: ConsentState): 'unsubscribed' | undefined => (state.sms === 'withdrawn' ? 'unsubscribed' : undefined);

/** An opt-in or opt-out is recorded when it changes the address's word on the channel (a second unsubscribe adds nothing); a hard bounce once. */
export function decideConsent(command: ConsentCommand, state: ConsentState): ConsentEvent[] {
  if (command.type === 'RecordHardBounce') return state.bounced ? [] : [{ type: 'AddressBounced', data: command.bounce }];
  const wanted = command.type === 'GiveConsent' ? 'given' : 'withdrawn';
  if (state[command.fact.channel] === wanted) return [];
  return [{ type: command.type === 'GiveConsent' ? 'ConsentGiven' : 'ConsentWithdrawn', data: command.fact }];
}

export const consentDecider = { initialState: { email: 'unknown', sms: 'unknown', bounced: false } as ConsentState, evolve: evolveConsent, decide: decideConsent };
