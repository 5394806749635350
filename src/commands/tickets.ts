import { ticketCategory, ticketDecider, ticketNumberCategory, builtInTicketTypeLabels, type TicketCommand, type TicketFields, type TicketState, type OpenTicket } from '../domain/ticket/index.ts';
import { CALENDAR_SETTING_KEY } from '../domain/service/calendar.ts';
import { DEFAULT_SLA, SLA_SETTING_KEY, type SlaContext, SlaPolicies } from '../domain/service/sla.ts';
import { COMPANY_SETTING_KEY } from '../domain/company/index.ts';
import { customerDecider, customerStream } from '../domain/customer/index.ts';
import { contactDecider, contactStream } from '../domain/contact/index.ts';
import { orderDecider, orderStream } from '../domain/order/index.ts';
import { scheduleCategory, settingsCategory } from '../domain/categories.ts';
import { DomainError } from '../domain/shared/errors.ts';
import { recordStream, specOf } from '../domain/customization/resources.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { Doc, ReadStore } from '../infra/readstore/port.ts';
import { authorize } from './authorization.ts';
import { companySettings, companyToday } from './company.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { getEmployee, systemActor } from './employees.ts';
import { invalidField } from './errors.ts';
import { kindsAsData } from './kinds.ts';
import { type NumberSeries, withdrawUnlessWritten, writeNumbered } from './numbering.ts';
import { departmentExists, roleIdByKey } from './org.ts';
import { notify } from './notifications.ts';
import { seededIds } from '../infra/ids.ts';
import { ORG } from '../projections/org.ts';
import { load } from './pipeline.ts';
import { RecordHandler, type RecordRules } from './record-handler.ts';
import { ensurePublicLink, readPublicLink } from './public-links.ts';
import type { ServerKeys } from '../infra/keys.ts';
import type { Mailer } from '../infra/mail/port.ts';
import { readSetting, writeSetting } from './settings.ts';
import { businessCalendar } from './business-time.ts';
import { completedRun, completeRun, type TimerSpec } from './timers.ts';

export const ticketRules: RecordRules<TicketCommand, TicketState> = { resource: 'tickets' };
const tickets = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => new RecordHandler(ticketRules, deps, actor, meta);

/** Ticket types: the built-in ones and those an administrator adds (`/api/v1/settings/ticket-types`). */
export const ticketTypes = kindsAsData({ settingKey: 'ticket-types', list: 'types', builtIn: builtInTicketTypeLabels, what: 'ticket type', schemaId: 'TicketTypeSettings' });

// ---- SLA settings: the policies and the business calendar, each a versioned company setting ----

/** A setting's version: 0 while the default is in force, then one more per change. */
const versionOf = (revision: bigint) => Number(revision) + 1;

export async function slaPolicies(deps: CommandDeps): Promise<{ value: SlaPolicies; revision: bigint }> {
  const { value, revision } = await readSetting<SlaPolicies>(deps, SLA_SETTING_KEY);
  return { value: value ?? DEFAULT_SLA, revision };
}
export const putSlaPolicies = (deps: CommandDeps, value: SlaPolicies, actor: Actor, meta: RequestMeta) => writeSetting(deps, SLA_SETTING_KEY, SlaPolicies.parse(value), actor, meta);

/** The policies, calendar and time zone in force, with the versions every SLA figure records. */
export async function slaContext(deps: CommandDeps): Promise<SlaContext> {
  const [policies, calendar, company] = await Promise.all([slaPolicies(deps), businessCalendar(deps), companySettings(deps)]);
  return { policies: policies.value, policyVersion: versionOf(policies.revision), calendar: calendar.value, calendarVersion: versionOf(calendar.revision), timeZone: company.settings.timeZone };
}

// ---- Numbers: SR-<year>-<6 digits>, unique and gap-free within a year, like orders ----

export const ticketNumbers: NumberSeries = {
  category: ticketNumberCategory,
  prefix: 'SR',
  assigned: 'TicketNumberAssigned',
  idField: 'ticketId',
  singular: 'ticket',
  withdrawnCode: 'ticket.number_withdrawn',
  withdraw: (deps, ticketId, number, actor, meta) =>
    withdrawUnlessWritten('ticket', () => tickets(deps, actor, meta).run(ticketId, { type: 'WithdrawTicketNumber', ticketId, number }, { ...meta, requestId: `${meta.requestId}:withdraw:${ticketId}`, ifMatch: undefined })),
};

// ---- Commands ----

/** Where a ticket goes: an engineer, or a service queue (a department whose members see it). */
export type Assignment = { assigneeId: string } | { departmentId: string };

async function assignmentOf(deps: CommandDeps, assignment: Assignment | undefined): Promise<{ assigneeId: string | null; queueId: string | null }> {
  if (!assignment) return { assigneeId: null, queueId: null };
  if ('assigneeId' in assignment) {
    const employee = await getEmployee(deps, assignment.assigneeId);
    if (!employee) throw new DomainError('employee.not_found', `Employee ${assignment.assigneeId} does not exist`, { errors: [{ path: 'assigneeId', message: 'No employee with this id' }] });
    if (employee.status === 'disabled') throw invalidField('assigneeId', 'This employee is disabled and cannot take tickets', assignment.assigneeId);
    // The engineer's department is the queue the ticket stays visible to.
    return { assigneeId: assignment.assigneeId, queueId: employee.fields.departmentId ?? null };
  }
  if (!(await departmentExists(deps, assignment.departmentId))) throw new DomainError('department.not_found', `Department ${assignment.departmentId} does not exist`, { errors: [{ path: 'departmentId', message: 'No department with this id' }] });
  return { assigneeId: null, queueId: assignment.departmentId };
}

/** The contact and order a ticket names belong to its customer. */
async function assertBelongs(deps: CommandDeps, fields: { customerId?: unknown; contactId?: unknown; orderId?: unknown }, customerId: string): Promise<void> {
  if (typeof fields.contactId === 'string') {
    const { state } = await load(deps, contactDecider, contactStream(fields.contactId));
    if (state.status !== 'none' && state.customerId !== customerId) throw invalidField('contactId', "This contact is not one of the ticket's customer's", fields.contactId);
  }
  if (typeof fields.orderId === 'string') {
    const { state } = await load(deps, orderDecider, orderStream(fields.orderId));
    if (state.status !== 'none' && state.customerId !== customerId) throw invalidField('orderId', "This order is not one of the ticket's customer's", fields.orderId);
  }
}

/** Opens a ticket for a customer, numbered SR-<year>-<6 digits>; with `assign`, straight to an engineer or a queue. */
export async function openTicket(deps: CommandDeps, input: TicketFields & { assigneeId?: string; departmentId?: string }, actor: Actor, meta: RequestMeta) {
  const { assigneeId, departmentId, ...fields } = input;
  if (assigneeId && departmentId) throw invalidField('departmentId', 'Give an assignee or a department (a queue), not both', departmentId);
  const assignment = assigneeId ? { assigneeId } : departmentId ? { departmentId } : undefined;
  if (assignment && !(assigneeId === actor.userId)) authorize(actor, 'tickets', 'assign');
  const to = await assignmentOf(deps, assignment);
  await ticketTypes.assertOffered(deps, 'type', fields.type);
  const { state: customer } = await load(deps, customerDecider, customerStream(fields.customerId));
  if (customer.status === 'none') throw new DomainError('customer.not_found', `customerId: customer ${fields.customerId} does not exist`, { errors: [{ path: 'customerId', message: 'No customer with this id' }] });
  await assertBelongs(deps, fields, fields.customerId);
  const customerLevel = (customer.fields as { level?: string }).level ?? null;
  const sla = await slaContext(deps);
  const at = deps.clock.now().toISOString();
  const handler = tickets(deps, actor, meta);
  const result = await handler.createWith(fields, (ticketId, all, unit) =>
    writeNumbered(ticketNumbers, unit.deps, ticketId, actor, meta, (number) =>
      unit.run(ticketId, { type: 'OpenTicket', ticketId, number, ...to, customerLevel, fields: all as TicketFields, at, by: actor.userId, sla }),
    ),
  );
  return { ...result, ticketId: result.id };
}

type TicketStamp = { at: string; by: string; sla: SlaContext };

/** What every ticket command carries: now, who, and the SLA settings in force (read once unless given). */
async function ticketStamp(deps: CommandDeps, actor: Actor, sla?: SlaContext): Promise<TicketStamp> {
  return { at: deps.clock.now().toISOString(), by: actor.userId, sla: sla ?? (await slaContext(deps)) };
}

const ticketStream = (ticketId: string) => recordStream(specOf('tickets'), ticketId);

/** Runs a command on a ticket with the time and the SLA settings in force. */
async function onTicket(deps: CommandDeps, ticketId: string, actor: Actor, meta: RequestMeta, command: (stamp: TicketStamp) => TicketCommand) {
  return tickets(deps, actor, meta).run(ticketId, command(await ticketStamp(deps, actor)));
}

export async function changeTicket(deps: CommandDeps, ticketId: string, changes: Record<string, unknown>, actor: Actor, meta: RequestMeta) {
  const handler = tickets(deps, actor, meta);
  const { state } = await handler.load(ticketId);
  if (state.status !== 'none') {
    await ticketTypes.assertOffered(deps, 'type', changes.type, state.fields.type);
    await assertBelongs(deps, changes, state.fields.customerId);
  }
  if ('customerId' in changes && state.status !== 'none' && changes.customerId !== state.fields.customerId) throw invalidField('customerId', 'A ticket stays with its customer; open a new one', changes.customerId);
  const stamp = await ticketStamp(deps, actor);
  return handler.change(ticketId, changes, (plain) => ({ type: 'ChangeTicket', ticketId, changes: plain, ...stamp }));
}

export async function assignTicket(deps: CommandDeps, ticketId: string, assignment: Assignment, actor: Actor, meta: RequestMeta) {
  const to = await assignmentOf(deps, assignment);
  return onTicket(deps, ticketId, actor, meta, (stamp) => ({ type: 'AssignTicket', ticketId, ...to, ...stamp }));
}

export const startTicket = (deps: CommandDeps, ticketId: string, actor: Actor, meta: RequestMeta) => onTicket(deps, ticketId, actor, meta, (stamp) => ({ type: 'StartTicket', ticketId, ...stamp }));
export const waitOnCustomer = (deps: CommandDeps, ticketId: string, note: string | undefined, actor: Actor, meta: RequestMeta) =>
  onTicket(deps, ticketId, actor, meta, (stamp) => ({ type: 'WaitOnCustomer', ticketId, ...(note ? { note } : {}), ...stamp }));
export const resolveTicket = (deps: CommandDeps, ticketId: string, resolution: string, actor: Actor, meta: RequestMeta) => onTicket(deps, ticketId, actor, meta, (stamp) => ({ type: 'ResolveTicket', ticketId, resolution, ...stamp }));
export const reopenTicket = (deps: CommandDeps, ticketId: string, reason: string, actor: Actor, meta: RequestMeta) => onTicket(deps, ticketId, actor, meta, (stamp) => ({ type: 'ReopenTicket', ticketId, reason, ...stamp }));

export async function addTicketNote(deps: CommandDeps, ticketId: string, input: { text: string; visibility: 'internal' | 'customer' }, actor: Actor, meta: RequestMeta) {
  const noteId = meta.ids.newId();
  return { ...(await onTicket(deps, ticketId, actor, meta, (stamp) => ({ type: 'AddTicketNote', ticketId, noteId, ...input, ...stamp }))), noteId };
}

export async function logTicketWork(deps: CommandDeps, ticketId: string, input: { minutes: number; kind: 'remote' | 'on_site' | 'travel'; on?: string; note?: string }, actor: Actor, meta: RequestMeta) {
  const entryId = meta.ids.newId();
  const day = input.on ?? (await companyToday(deps));
  const command = (stamp: TicketStamp): TicketCommand => ({ type: 'LogWork', ticketId, entryId, employeeId: actor.userId, minutes: input.minutes, kind: input.kind, on: day, ...(input.note ? { note: input.note } : {}), ...stamp });
  return { ...(await onTicket(deps, ticketId, actor, meta, command)), entryId };
}

// ---- Satisfaction surveys: issued on closing, answered once through a public link ----

export const SURVEY_PURPOSE = 'survey';
export const SURVEY_PATH = '/api/v1/public/surveys';
export const SURVEY_VALID_DAYS = 30;
type LinkDeps = CommandDeps & { keys: ServerKeys; publicUrl: string };

/**
 * Closes a resolved ticket and issues its satisfaction survey: the survey's link id and expiry are decided with
 * the close (in TicketClosed), then the public link is issued (again on a retry, which finds it) and its URL
 * answered. A ticket closed already answers its survey's URL again.
 */
export async function closeTicket(deps: LinkDeps, ticketId: string, actor: Actor, meta: RequestMeta) {
  const survey = { surveyId: meta.ids.newId(), expiresAt: new Date(deps.clock.now().getTime() + SURVEY_VALID_DAYS * 86_400_000).toISOString() };
  const result = await onTicket(deps, ticketId, actor, meta, (stamp) => ({ type: 'CloseTicket', ticketId, survey, ...stamp }));
  const state = result.state as OpenTicket;
  const issued = state.survey!;
  const link = await ensurePublicLink(deps, { linkId: issued.surveyId, purpose: SURVEY_PURPOSE, path: SURVEY_PATH, subjectId: ticketId, expiresAt: issued.expiresAt }, actor, { ...meta, requestId: `${meta.requestId}:survey` });
  return { ...result, surveyUrl: link.url, surveyExpiresAt: issued.expiresAt, state };
}

/** The survey a token opens: the ticket's latest, with what a customer may see (its number and subject). */
export async function openSurvey(deps: CommandDeps & { keys: ServerKeys }, token: string): Promise<{ surveyId: string; ticket: OpenTicket }> {
  const { linkId, subjectId } = await readPublicLink(deps, SURVEY_PURPOSE, token);
  const { state } = await load(deps, ticketDecider, ticketStream(subjectId));
  if (state.status === 'none') throw new DomainError('public_link.not_found', 'This link is not valid (it may have expired or been withdrawn); ask the sender for a new one');
  if (state.survey?.surveyId !== linkId) throw new DomainError('survey.superseded', 'This survey was replaced by a newer one; use the latest link you received', {});
  return { surveyId: linkId, ticket: state };
}

/** Answers a survey once (1–5 and a comment), before it expires. The customer has no account: the link is the key. Answers the ticket's number with the append. */
export async function answerSurvey(deps: CommandDeps & { keys: ServerKeys }, token: string, answer: { score: number; comment?: string }, meta: RequestMeta) {
  const { surveyId, ticket } = await openSurvey(deps, token);
  const customer: Actor = { ...systemActor, userId: 'customer', username: 'customer' };
  const result = await onTicket(deps, ticket.ticketId, customer, meta, (stamp) => ({ type: 'AnswerSurvey', ticketId: ticket.ticketId, surveyId, score: answer.score, ...(answer.comment ? { comment: answer.comment } : {}), ...stamp }));
  return { ...result, ticketNumber: ticket.number };
}

/** Mails the survey link to the ticket's contact, when it names one with an address; false when there is nobody to mail. */
export async function mailSurvey(deps: CommandDeps, mailer: Mailer, ticket: OpenTicket, surveyUrl: string): Promise<boolean> {
  if (!ticket.fields.contactId) return false;
  const { state: contact } = await load(deps, contactDecider, contactStream(ticket.fields.contactId));
  const email = contact.status === 'none' ? undefined : (contact.fields as { email?: string }).email;
  if (!email) return false;
  await mailer.send({
    to: [email],
    subject: `服务满意度调查 How did we do? ${ticket.number}`,
    text: [`您的服务工单 ${ticket.number}「${ticket.fields.subject}」已关闭。请为本次服务打分（1–5 分）：`, surveyUrl, '', `Your service request ${ticket.number} "${ticket.fields.subject}" is closed. Please rate our service (1–5):`, surveyUrl].join('\n'),
  });
  return true;
}

// ---- Complaints: the customer's owner and the service managers hear of each one ----

const COMPLAINT_TIMER = 'ticket-complaint';
/** The role template whose holders are "the service manager" a complaint is reported to. */
export const SERVICE_MANAGER_ROLE_KEY = 'service_manager';

/**
 * A complaint (a ticket opened as one, or changed into one) notifies the customer's owner and every active holder
 * of the service manager role, live and by mail to those with an address. Run by the timer mechanism, once per
 * complaint: each notification is idempotent per recipient, mail goes only with a notification written now, and
 * the run records that it is done (RunCompleted).
 */
export const complaintAlerts: TimerSpec = {
  name: COMPLAINT_TIMER,
  categories: [ticketCategory, scheduleCategory],
  plan(event: RecordedEvent) {
    if (event.type === 'RunCompleted') return completedRun(COMPLAINT_TIMER, event);
    const data = event.data as { ticketId: string; fields?: { type?: string }; changes?: { type?: unknown } };
    const complaint = (event.type === 'TicketOpened' && data.fields?.type === 'complaint') || (event.type === 'TicketChanged' && data.changes?.type === 'complaint');
    return complaint ? { schedule: [{ key: data.ticketId, dueAt: event.metadata.at }] } : undefined;
  },
  async fire(deps, item, meta, { readStore, mailer }) {
    const { state } = await load(deps, ticketDecider, ticketStream(item.key));
    if (state.status !== 'none' && state.fields.type === 'complaint') {
      const { state: customer } = await load(deps, customerDecider, customerStream(state.fields.customerId));
      const owner = customer.status === 'none' ? null : customer.ownerId;
      const managers = await serviceManagers(deps, readStore);
      const name = customer.status === 'none' ? state.fields.customerId : customer.fields.name;
      for (const recipientId of new Set([...(owner ? [owner] : []), ...managers])) {
        const own = { ...meta, requestId: `${meta.requestId}:${recipientId}`, ids: seededIds(`${meta.requestId}:${recipientId}`, Date.parse(item.dueAt)) };
        const title = { 'zh-CN': `客户投诉 ${state.number}：${name}`, en: `Complaint ${state.number}: ${name}` };
        const body = { 'zh-CN': `${state.fields.subject}（优先级 ${state.fields.priority}）`, en: `${state.fields.subject} (priority ${state.fields.priority})` };
        const { sent } = await notify(deps, { recipientId, kind: 'ticket.complaint', title, body, subject: { resource: 'tickets', id: state.ticketId } }, systemActor, own);
        const email = sent ? ((await getEmployee(deps, recipientId))?.fields as { email?: string } | undefined)?.email : undefined;
        if (email) await mailer.send({ to: [email], subject: `${title['zh-CN']} / ${title.en}`, text: `${body['zh-CN']}\n${body.en}\n\n${state.fields.description}` });
      }
    }
    await completeRun(deps, COMPLAINT_TIMER, item.key, systemActor, { ...meta, requestId: `${meta.requestId}:done` });
  },
};

/** The active employees holding the service manager role. */
async function serviceManagers(deps: CommandDeps, readStore: ReadStore): Promise<string[]> {
  const roleId = await roleIdByKey(deps, SERVICE_MANAGER_ROLE_KEY);
  if (!roleId) return [];
  const holders = await readStore.collection<Doc & { disabled?: boolean }>(ORG.employees).find({ roleIds: roleId }, { projection: { _id: 1, disabled: 1 } });
  return holders.filter((employee) => !employee.disabled).map((employee) => employee._id);
}

// ---- The SLA process: warnings and breaches on time, targets recomputed when the settings change ----

const SLA_TIMER = 'ticket-sla';
const RECOMPUTED_KEYS = new Set([SLA_SETTING_KEY, CALENDAR_SETTING_KEY, COMPANY_SETTING_KEY]);
type ClockData = { state: string; dueAt: string | null; warnAt: string | null; warned?: boolean; breached?: boolean };
type SlaTargetsData = { ticketId: string; firstResponse: ClockData; resolution: ClockData };
const CLOCK_KEYS = { firstResponse: 'first_response', resolution: 'resolution' } as const;

/**
 * Each ticket's clocks are planned from the targets it recorded: a running clock's warning and breach not yet
 * recorded are due at their instants; a paused or stopped one's are cancelled; a recorded warning or breach cancels its own. Firing
 * runs CheckSla, which records what is due once (the decider keeps which were recorded; the firing's request id
 * makes a retry write nothing). A change of the policies, the calendar or the time zone schedules a recomputation
 * of every open ticket, done once per change (RunCompleted), and resumed after a restart.
 */
export const ticketSlaTimer: TimerSpec = {
  name: SLA_TIMER,
  categories: [ticketCategory, settingsCategory, scheduleCategory],
  plan(event: RecordedEvent) {
    if (event.type === 'SettingChanged') return RECOMPUTED_KEYS.has((event.data as { key: string }).key) ? { schedule: [{ key: `recompute:${event.position}`, dueAt: event.metadata.at }] } : undefined;
    if (event.type === 'RunCompleted') return completedRun(SLA_TIMER, event);
    if (event.type === 'SlaTargetsSet') {
      const data = event.data as SlaTargetsData;
      const schedule: { key: string; dueAt: string }[] = [];
      const cancel: string[] = [];
      for (const [field, clock] of Object.entries(CLOCK_KEYS) as [keyof typeof CLOCK_KEYS, string][]) {
        const targets = data[field];
        const running = targets.state === 'running';
        for (const [what, at, recorded] of [['warning', targets.warnAt, targets.warned], ['breach', targets.dueAt, targets.breached]] as const) {
          const key = `${data.ticketId}:${clock}:${what}`;
          if (running && at && !recorded) schedule.push({ key, dueAt: at });
          else cancel.push(key);
        }
      }
      return { schedule, cancel };
    }
    if (event.type === 'SlaWarning' || event.type === 'SlaBreached') {
      const data = event.data as { ticketId: string; clock: string };
      return { cancel: [`${data.ticketId}:${data.clock}:${event.type === 'SlaWarning' ? 'warning' : 'breach'}`] };
    }
    return undefined;
  },
  async fire(deps, item, meta, { readStore }) {
    if (item.key.startsWith('recompute:')) {
      await recomputeOpenTickets(deps, readStore, meta);
      await completeRun(deps, SLA_TIMER, item.key, systemActor, { ...meta, requestId: `${meta.requestId}:done` });
      return;
    }
    await checkTicketSla(deps, item.key.slice(0, item.key.indexOf(':')), meta);
  },
};

/** Reads a ticket's clocks now: records the warnings and breaches due by now, and new targets (what the timer fires). */
export const checkTicketSla = (deps: CommandDeps, ticketId: string, meta: RequestMeta) => onTicket(deps, ticketId, systemActor, meta, (stamp) => ({ type: 'CheckSla', ticketId, ...stamp }));

/** The tickets whose clocks may still run. */
export const ACTIVE_TICKET_STATUSES = ['new', 'assigned', 'in_progress', 'waiting'] as const;

/**
 * Reads every open ticket's clocks again with the settings in force (CheckSla records new targets where they
 * moved). Only tickets whose recorded targets used other versions or another time zone are touched, so a run
 * resumed after a crash does only what is left. Answers how many it checked.
 */
export async function recomputeOpenTickets(deps: CommandDeps, readStore: ReadStore, meta: RequestMeta): Promise<number> {
  const sla = await slaContext(deps);
  const stale = await readStore.collection<Doc>('tickets').find(
    { status: { $in: [...ACTIVE_TICKET_STATUSES] }, $or: [{ 'sla.policyVersion': { $ne: sla.policyVersion } }, { 'sla.calendarVersion': { $ne: sla.calendarVersion } }, { 'sla.timeZone': { $ne: sla.timeZone } }] },
    { projection: { _id: 1 } },
  );
  for (const { _id: ticketId } of stale) {
    const stamp = await ticketStamp(deps, systemActor, sla);
    await tickets(deps, systemActor, { ...meta, requestId: `${meta.requestId}:${ticketId}` }).run(ticketId, { type: 'CheckSla', ticketId, ...stamp });
  }
  return stale.length;
}

export type { OpenTicket };
