import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';

const Key = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a lowercase key: letters, digits and _');

/** What a rule does for the record its event is about. */
export const AutomationAction = z.discriminatedUnion('action', [
  z.object({ action: z.literal('send_template'), templateId: z.uuid().describe("An email template, sent to the record's contacts (or the lead) who may be mailed") }).strict(),
  z.object({ action: z.literal('create_task'), subject: z.string().trim().min(1).max(200), dueInHours: z.number().int().min(0).max(2160).default(24) }).strict().describe("A task for the record's owner"),
  z.object({ action: z.literal('add_to_campaign'), campaignId: z.uuid().describe("A campaign not sent yet: the record's people who may be mailed join its member list") }).strict(),
]);
export type AutomationAction = z.infer<typeof AutomationAction>;

/**
 * A marketing automation rule (data: settings `marketing-automation`): when an event of a type whose data matches the
 * conditions (dotted paths, equality) is published, after a delay, do an action — e.g. a new contact gets the welcome
 * mail a day later; a completed order triggers the thank-you mail.
 */
export const AutomationRule = z
  .object({
    key: Key,
    name: z.string().trim().min(1).max(200),
    enabled: z.boolean().default(true),
    when: z
      .object({
        eventType: z.string().regex(/^[A-Z][A-Za-z]{2,60}$/, 'An event type, e.g. ContactAdded'),
        conditions: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_.]{0,100}$/), z.union([z.string().max(200), z.number(), z.boolean()])).default({}).describe('Dotted paths into the event data, each equal to its value'),
      })
      .strict(),
    afterMinutes: z.number().int().min(0).max(525_600).default(0),
    do: AutomationAction,
  })
  .strict();
export type AutomationRule = z.infer<typeof AutomationRule>;

export const AutomationRules = z
  .array(AutomationRule.extend({ activeFrom: z.string().optional().describe('When the rule took effect (set by the service; events recorded before it never fire it)') }))
  .max(50)
  .superRefine((rules, context) => {
    const seen = new Set<string>();
    for (const [i, rule] of rules.entries()) {
      if (seen.has(rule.key)) context.addIssue({ code: 'custom', path: [i, 'key'], message: `Rule ${rule.key} appears twice` });
      seen.add(rule.key);
    }
  });

/** A rule as kept: with the instant it took effect (events recorded before it never fire it: a new rule does not reach into the past). */
export type StoredAutomationRule = AutomationRule & { activeFrom: string };

/** The rules to keep when `given` replaces `previous` at `now`: a rule already there keeps its start, a new one starts now. */
export const withStarts = (given: readonly AutomationRule[], previous: readonly StoredAutomationRule[], now: string): StoredAutomationRule[] =>
  given.map((rule) => ({ ...rule, activeFrom: previous.find((p) => p.key === rule.key && p.when.eventType === rule.when.eventType)?.activeFrom ?? now }));

const valueAt = (data: unknown, path: string): unknown => path.split('.').reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), data);

/** Whether a rule fires for an event: enabled, of its type, recorded since the rule took effect, every condition equal. */
export const ruleMatches = (rule: StoredAutomationRule, event: { type: string; data: unknown; metadata: { at: string } }): boolean =>
  rule.enabled && rule.when.eventType === event.type && event.metadata.at >= rule.activeFrom && Object.entries(rule.when.conditions).every(([path, expected]) => valueAt(event.data, path) === expected);

// ── One firing of a rule for one event: stream automation-<ruleKey>.<eventId> ────────────────────────────────────

/** The rule matched an event: what to do, and when (the stream exists once per rule and event: it never fires twice). */
export const AutomationScheduled = z.object({
  ruleKey: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  streamId: z.string(),
  /** The ids in the event that say what it is about (customerId, contactId, orderId, leadId, opportunityId, ownerId). */
  about: z.record(z.string(), z.string()),
  dueAt: z.string(),
  do: AutomationAction,
});
/** A mail is about to be handed over (with its Message-ID, which a retry after a crash reuses). */
export const AutomationMailSending = z.object({
  to: z.array(z.string()),
  messageId: z.string(),
  at: z.string(),
  /** For each address, the contact it belongs to (its key seals the address), or null (a lead's); absent in mail of earlier versions. */
  contactIds: z.array(z.string().nullable()).optional(),
});
export const AutomationDone = z.object({ outcome: z.enum(['sent', 'task_created', 'added', 'skipped']), detail: z.string().max(500), at: z.string() });
export const automationEventSchemas = { AutomationScheduled, AutomationMailSending, AutomationDone };
export type AutomationEvent = EventsOf<typeof automationEventSchemas>;
export const automationCategory = 'automation';
export const automationStream = (ruleKey: string, eventId: string) => `${automationCategory}-${ruleKey}.${eventId}`;

/** The ids an event's data names (top level): what the action is resolved from when it fires. */
export function aboutOf(data: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ['customerId', 'contactId', 'leadId', 'opportunityId', 'orderId', 'ownerId'])
    if (typeof (data as Record<string, unknown>)?.[key] === 'string') out[key] = (data as Record<string, string>)[key]!;
  const email = valueAt(data, 'fields.email');
  if (typeof email === 'string') out.email = email;
  return out;
}
