import { aboutOf, type AutomationAction, type StoredAutomationRule, automationCategory, AutomationDone, AutomationMailSending, AutomationScheduled, automationStream, ruleMatches } from '../domain/campaign/automation.ts';
import { localeFor, renderMail } from '../domain/campaign/render.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import { WrongExpectedRevisionError } from '../infra/eventstore/port.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { addCampaignMembers, suppressed, templateAt } from './campaign-mail.ts';
import { type CampaignMember, isBookkeeping, localeOf, memberIdFor } from '../domain/campaign/members.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { systemActor } from './employees.ts';
import { onceFactEvent } from './pipeline.ts';
import { settingWithDefault } from './settings.ts';
import { createTaskOnce } from './tasks.ts';
import { memberContactId } from '../domain/campaign/personal.ts';
import { ERASED } from '../domain/shared/personal-data.ts';
import type { DueItem, TimerPorts, TimerSpec } from './timers.ts';

/** What fires rules: a published event, or a fact the service raises itself (a contact's birthday). */
export type AutomationTrigger = Pick<RecordedEvent, 'id' | 'type' | 'streamId' | 'data'> & { metadata: { at: string } };

/** The automation rules (data; none until an administrator writes some). */
export const automationSettings = settingWithDefault<StoredAutomationRule[]>('marketing-automation', []);

const MINUTE_MS = 60_000;

/**
 * What the marketing consumer does with a published event: for each enabled rule it matches, records that the
 * rule fires for it, due after the rule's delay. The record is the first event of a stream named by rule and event,
 * appended only if that stream does not exist: however often the event is delivered (a redelivery, a consumer group
 * read again from the start, a second instance), a rule fires once for it. Answers how many rules it scheduled.
 */
export async function scheduleAutomations(deps: CommandDeps, rules: readonly StoredAutomationRule[], event: AutomationTrigger, meta: RequestMeta): Promise<number> {
  let scheduled = 0;
  for (const rule of rules) {
    if (!ruleMatches(rule, event)) continue;
    const stream = automationStream(rule.key, event.id);
    const dueAt = new Date(Date.parse(event.metadata.at) + rule.afterMinutes * MINUTE_MS).toISOString();
    const data = { ruleKey: rule.key, eventId: event.id, eventType: event.type, streamId: event.streamId, about: aboutOf(event.data), dueAt, do: rule.do };
    try {
      await deps.eventStore.append(stream, [onceFactEvent(deps, meta, systemActor.userId, stream, { type: 'AutomationScheduled', data: AutomationScheduled.parse(data) })], 'no_stream');
      scheduled += 1;
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
    }
  }
  return scheduled;
}

type Doc = Record<string, unknown> & { _id: string };

/** Someone an action reaches: their address and name, the record they come from, and its merge values. */
type Person = Omit<CampaignMember, 'memberId'>;
/** A record's fields as merge values (no bookkeeping). */
const mergeValues = (doc: Doc | undefined): Record<string, unknown> => Object.fromEntries(Object.entries(doc ?? {}).filter(([key]) => !isBookkeeping(key)));
const ownerOf = (doc: Doc | undefined) => ({ ownerId: (doc?.ownerId as string | undefined) ?? null, departmentPath: (doc?.departmentPath as string | undefined) ?? null });

/** The people an action reaches for the record an event is about: the contact, the lead, or the customer's contacts (those with an address). */
async function recipients(store: ReadStore, about: Record<string, string>): Promise<{ to: Person[]; contact?: Doc; customer?: Doc; ownerId?: string; customerId?: string }> {
  const find = (collection: string, id: string | undefined) => (id ? store.collection<Doc>(collection).findOne({ _id: id }) : Promise.resolve(null));
  const record = (await find('orders', about.orderId)) ?? (await find('opportunities', about.opportunityId)) ?? (await find('leads', about.leadId));
  const customerId = about.customerId ?? (record?.customerId as string | undefined);
  const customer = (await find('customers', customerId)) ?? undefined;
  const ownerId = about.ownerId ?? (record?.ownerId as string | undefined) ?? (customer?.ownerId as string | undefined);
  const contact = (await find('contacts', about.contactId)) ?? undefined;
  const base = { ...(customer ? { customer } : {}), ...(ownerId ? { ownerId } : {}), ...(customerId ? { customerId } : {}) };
  const customerMerge = { customer: mergeValues(customer) };
  if (contact?.email) return { ...base, contact, to: [{ email: String(contact.email), name: String(contact.name), resource: 'contacts', recordId: contact._id, ...ownerOf(contact), locale: localeOf(contact), merge: { contact: mergeValues(contact), ...customerMerge } }] };
  const leadEmail = about.email ?? (record?.email as string | undefined);
  if (leadEmail) {
    const name = String(record?.person ?? '');
    const [resource, recordId] = about.leadId ? (['leads', about.leadId] as const) : about.contactId ? (['contacts', about.contactId] as const) : (['customers', customerId ?? ''] as const);
    return { ...base, to: [{ email: leadEmail, name, resource, recordId, ...ownerOf(record ?? customer), locale: localeOf(record ?? {}), merge: { contact: { name, email: leadEmail }, ...(record?.person ? { lead: mergeValues(record) } : {}), customer: customer ? mergeValues(customer) : { name: record?.company } } }] };
  }
  const contacts = (customer?.contacts as { name: string; email?: string }[] | undefined) ?? [];
  return {
    ...base,
    to: contacts.filter((c) => c.email).map((c) => ({ email: c.email!, name: c.name, resource: 'customers' as const, recordId: customerId!, ...ownerOf(customer), locale: localeOf(customer ?? {}), merge: { contact: { ...c }, ...customerMerge } })),
  };
}

async function perform(deps: CommandDeps, item: DueItem, meta: RequestMeta, ports: TimerPorts, stream: string, events: readonly RecordedEvent[]): Promise<{ outcome: 'sent' | 'task_created' | 'added' | 'skipped'; detail: string }> {
  const scheduled = AutomationScheduled.parse(events[0]!.data);
  const action: AutomationAction = scheduled.do;
  const target = await recipients(ports.readStore, scheduled.about);
  if (action.action === 'add_to_campaign') {
    if (target.to.length === 0) return { outcome: 'skipped', detail: 'No one with an address to add' };
    try {
      const { added } = await addCampaignMembers(deps, action.campaignId, target.to.map((person) => ({ ...person, memberId: memberIdFor(person.email) })), systemActor, meta);
      return added.length ? { outcome: 'added', detail: `Added ${added.map((person) => person.email).join(', ')} to campaign ${action.campaignId}` } : { outcome: 'skipped', detail: 'Already members, or opted out' };
    } catch (error) {
      // A campaign sent, archived or deleted since the rule was written: the firing is done, with the reason.
      if (error instanceof DomainError) return { outcome: 'skipped', detail: error.message };
      throw error;
    }
  }
  if (action.action === 'create_task') {
    if (!target.ownerId) return { outcome: 'skipped', detail: 'The record has no owner to give the task to' };
    const taskId = meta.ids.newId();
    const dueAt = new Date(deps.clock.now().getTime() + action.dueInHours * 3_600_000).toISOString();
    const owner: Actor = { ...systemActor, userId: target.ownerId };
    await createTaskOnce(deps, owner, meta, { type: 'CreateTask', taskId, ownerId: target.ownerId, createdBy: systemActor.userId, fields: { subject: action.subject, dueAt, priority: 'normal', ...(target.customerId ? { customerId: target.customerId } : {}), ...(scheduled.about.contactId ? { contactId: scheduled.about.contactId } : {}) } });
    return { outcome: 'task_created', detail: `Task ${taskId} for ${target.ownerId}` };
  }
  // A mail: to the addresses that may be mailed, once (a start recorded before a crash is handed over again with its Message-ID).
  const started = events.find((event) => event.type === 'AutomationMailSending');
  // A start recorded before a crash names its addresses; one erased since is not mailed.
  const allowed = started ? AutomationMailSending.parse(started.data).to.filter((email) => email !== ERASED) : (await Promise.all(target.to.map(async (r) => ((await suppressed(deps, r.email)) ? undefined : r.email)))).filter((email): email is string => email !== undefined);
  if (allowed.length === 0) return { outcome: 'skipped', detail: target.to.length ? 'Every address opted out or bounced' : 'No address to mail' };
  const { fields: template } = await templateAt(deps, action.templateId);
  const messageId = started ? AutomationMailSending.parse(started.data).messageId : `<a.${item.key}@automation.crm>`;
  const contactIds = allowed.map((email) => memberContactId(target.to.find((p) => p.email.toLowerCase() === email.toLowerCase())) ?? null);
  if (!started) await deps.eventStore.append(stream, [onceFactEvent(deps, { ...meta, requestId: `${meta.requestId}:sending` }, systemActor.userId, stream, { type: 'AutomationMailSending', data: { to: allowed, messageId, at: deps.clock.now().toISOString(), contactIds } })], events.at(-1)!.revision);
  // One mail per address (nobody sees another's address), each with its own unsubscribe link and one-click header.
  const accepted: string[] = [];
  for (const [i, email] of allowed.entries()) {
    const person = target.to.find((p) => p.email.toLowerCase() === email.toLowerCase());
    const unsubscribe = ports.unsubscribeLink?.(email, item.key);
    const merge = { contact: target.contact ?? person?.merge.contact ?? { name: person?.name ?? '' }, customer: target.customer ?? {}, ...(unsubscribe ? { unsubscribeUrl: unsubscribe } : {}) };
    const mail = renderMail(template, localeFor(template, person?.locale), merge);
    const headers = { 'X-CRM-Automation': scheduled.ruleKey, ...(unsubscribe ? { 'List-Unsubscribe': `<${unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : {}) };
    const sent = await ports.mailer.send({ to: [email], subject: mail.subject, html: mail.html, text: mail.text, messageId: i === 0 ? messageId : messageId.replace('@', `.${i}@`), headers });
    accepted.push(...sent.accepted);
  }
  // The count, not the addresses: the addresses are personal data, kept sealed in the sending record.
  return { outcome: 'sent', detail: `To ${accepted.length || allowed.length} address${(accepted.length || allowed.length) === 1 ? '' : 'es'}` };
}

/**
 * The automations' timer: an `AutomationScheduled` is due at its time; firing does the action once and records
 * `AutomationDone` (which cancels it). Delays survive restarts, as every timer's do; the firing's request id makes a
 * second attempt write nothing twice.
 */
export const automationTimer: TimerSpec = {
  name: 'marketing-automation',
  categories: [automationCategory],
  plan(event) {
    const key = event.streamId.slice(automationCategory.length + 1);
    if (event.type === 'AutomationScheduled') return { schedule: [{ key, dueAt: AutomationScheduled.parse(event.data).dueAt }] };
    if (event.type === 'AutomationDone') return { cancel: [key] };
    return undefined;
  },
  async fire(deps, item, meta, ports) {
    const stream = `${automationCategory}-${item.key}`;
    const events = await deps.eventStore.readStream(stream);
    if (events.length === 0 || events.some((event) => event.type === 'AutomationDone')) return;
    const done = await perform(deps, item, meta, ports, stream, events);
    const latest = (await deps.eventStore.readStream(stream)).at(-1)!.revision;
    await deps.eventStore.append(stream, [onceFactEvent(deps, { ...meta, requestId: `${meta.requestId}:done` }, systemActor.userId, stream, { type: 'AutomationDone', data: AutomationDone.parse({ ...done, at: deps.clock.now().toISOString() }) })], latest);
  },
};
