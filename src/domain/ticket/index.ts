import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';
import { CustomValues } from '../customization/values.ts';
import { DomainError } from '../shared/errors.ts';
import { ChangeSet, diffFields, withChanges } from '../shared/normalize.ts';
import { type ClockMark, isBreached, readClock, SLA_CLOCKS, SlaClockName, type SlaContext, targetFor, TicketPriority } from '../service/sla.ts';
import { formatNumber } from '../shared/document-number.ts';

/** The types every company has; an administrator adds others as data (`/api/v1/settings/ticket-types`). */
export const BUILT_IN_TICKET_TYPES = ['consultation', 'complaint', 'repair', 'return', 'other'] as const;
export const builtInTicketTypeLabels: Record<(typeof BUILT_IN_TICKET_TYPES)[number], { 'zh-CN': string; en: string }> = {
  consultation: { 'zh-CN': '咨询', en: 'Consultation' },
  complaint: { 'zh-CN': '投诉', en: 'Complaint' },
  repair: { 'zh-CN': '维修/上门服务', en: 'Repair / on-site service' },
  return: { 'zh-CN': '退换货', en: 'Return' },
  other: { 'zh-CN': '其他', en: 'Other' },
};

export const TicketChannel = z.enum(['phone', 'email', 'web', 'visit']);
export { TicketPriority };

/** A service ticket (服务工单): what a customer asked for or complained about, and who handles it. */
export const TicketFields = z.object({
  type: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a type is a key of lower-case letters, digits and _').describe('consultation, complaint, repair, return, other, or a type an administrator added'),
  channel: TicketChannel,
  priority: TicketPriority,
  customerId: z.string().min(1).max(100),
  contactId: z.string().min(1).max(100).optional(),
  productId: z.string().min(1).max(100).optional(),
  orderId: z.string().min(1).max(100).optional(),
  subject: z.string().trim().min(1).max(200),
  description: z.string().trim().min(1).max(8000),
  custom: CustomValues.optional(),
});
export type TicketFields = z.infer<typeof TicketFields>;

export const TicketStatus = z.enum(['new', 'assigned', 'in_progress', 'waiting', 'resolved', 'closed']);
export type TicketStatus = z.infer<typeof TicketStatus>;
export const WorkKind = z.enum(['remote', 'on_site', 'travel']);

const At = z.string().describe('When it happened (ISO 8601 UTC)');
const ClockTargets = z.object({
  state: z.enum(['running', 'paused', 'stopped']),
  dueAt: z.string().nullable(),
  warnAt: z.string().nullable(),
  remainingMs: z.number().int().min(0),
  /** Its warning and breach as recorded by then (the timer plans only what is still to come). */
  warned: z.boolean(),
  breached: z.boolean(),
});

export const TicketOpened = z.object({
  ticketId: z.string(),
  number: z.string(),
  createdBy: z.string(),
  assigneeId: z.string().nullable(),
  queueId: z.string().nullable(),
  /** The customer's level when the ticket was opened: its SLA target follows it. */
  customerLevel: z.string().nullable(),
  fields: TicketFields,
  at: At,
});
export const TicketNumberWithdrawn = z.object({ ticketId: z.string(), number: z.string() });
export const TicketChanged = z.object({ ticketId: z.string(), changes: ChangeSet });
export const TicketAssigned = z.object({ ticketId: z.string(), fromAssigneeId: z.string().nullable(), fromQueueId: z.string().nullable(), assigneeId: z.string().nullable(), queueId: z.string().nullable(), by: z.string() });
export const TicketStarted = z.object({ ticketId: z.string(), by: z.string(), at: At });
export const TicketWaiting = z.object({ ticketId: z.string(), by: z.string(), note: z.string().optional(), at: At });
export const TicketNoteAdded = z.object({ ticketId: z.string(), noteId: z.string(), by: z.string(), text: z.string(), visibility: z.enum(['internal', 'customer']), at: At });
export const TicketResolved = z.object({ ticketId: z.string(), by: z.string(), resolution: z.string(), at: At });
export const TicketClosed = z.object({
  ticketId: z.string(),
  by: z.string(),
  at: At,
  /** The satisfaction survey issued on closing: its public link and until when it may be answered. */
  survey: z.object({ surveyId: z.string(), expiresAt: z.string() }),
});
export const SurveyAnswered = z.object({ ticketId: z.string(), surveyId: z.string(), score: z.number().int().min(1).max(5), comment: z.string().optional(), at: At });
export const TicketReopened = z.object({ ticketId: z.string(), by: z.string(), reason: z.string(), count: z.number().int().min(1), at: At });
export const WorkLogged = z.object({ ticketId: z.string(), entryId: z.string(), employeeId: z.string(), minutes: z.number().int().min(1).max(1440), kind: WorkKind, on: z.iso.date(), note: z.string().optional() });
export const SlaTargetsSet = z.object({
  ticketId: z.string(),
  policyVersion: z.number().int(),
  calendarVersion: z.number().int(),
  timeZone: z.string(),
  target: z.object({ firstResponseHours: z.number(), resolutionHours: z.number(), warnAt: z.number() }),
  firstResponse: ClockTargets,
  resolution: ClockTargets,
  at: At,
});
export const SlaWarning = z.object({ ticketId: z.string(), clock: SlaClockName, warnAt: z.string(), dueAt: z.string().nullable(), at: At });
export const SlaBreached = z.object({ ticketId: z.string(), clock: SlaClockName, dueAt: z.string(), at: At });

export const ticketEventSchemas = {
  TicketOpened,
  TicketNumberWithdrawn,
  TicketChanged,
  TicketAssigned,
  TicketStarted,
  TicketWaiting,
  TicketNoteAdded,
  TicketResolved,
  TicketClosed,
  TicketReopened,
  WorkLogged,
  SlaTargetsSet,
  SlaWarning,
  SlaBreached,
  SurveyAnswered,
};
export type TicketEvent = EventsOf<typeof ticketEventSchemas>;
export type SlaTargets = z.infer<typeof SlaTargetsSet>;

export interface TicketNote {
  noteId: string;
  by: string;
  text: string;
  visibility: 'internal' | 'customer';
  at: string;
}

export type OpenTicket = {
  status: TicketStatus;
  ticketId: string;
  number: string;
  createdBy: string;
  /** The engineer it is assigned to (its owner for scope), null while it waits in a queue or for assignment. */
  ownerId: string | null;
  queueId: string | null;
  customerLevel: string | null;
  fields: TicketFields;
  openedAt: string;
  /** What its SLA clocks follow, in order. */
  marks: ClockMark[];
  respondedAt: string | null;
  resolution: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
  reopenCount: number;
  notes: TicketNote[];
  workMinutes: number;
  sla: SlaTargets | null;
  warned: SlaClockName[];
  breached: SlaClockName[];
  /** The last satisfaction survey issued (on closing), and its answer once given. */
  survey: { surveyId: string; expiresAt: string; score?: number; comment?: string; answeredAt?: string } | null;
};
export type TicketState = { status: 'none'; withdrawn?: string[] } | OpenTicket;

type Stamp = { at: string; by: string; sla: SlaContext };
export type TicketCommand =
  | ({ type: 'OpenTicket'; ticketId: string; number: string; assigneeId: string | null; queueId: string | null; customerLevel: string | null; fields: TicketFields } & Stamp)
  | { type: 'WithdrawTicketNumber'; ticketId: string; number: string }
  | ({ type: 'ChangeTicket'; ticketId: string; changes: Record<string, unknown> } & Stamp)
  | ({ type: 'AssignTicket'; ticketId: string; assigneeId: string | null; queueId: string | null } & Stamp)
  | ({ type: 'StartTicket'; ticketId: string } & Stamp)
  | ({ type: 'WaitOnCustomer'; ticketId: string; note?: string } & Stamp)
  | ({ type: 'AddTicketNote'; ticketId: string; noteId: string; text: string; visibility: 'internal' | 'customer' } & Stamp)
  | ({ type: 'ResolveTicket'; ticketId: string; resolution: string } & Stamp)
  | ({ type: 'CloseTicket'; ticketId: string; survey: { surveyId: string; expiresAt: string } } & Stamp)
  | ({ type: 'AnswerSurvey'; ticketId: string; surveyId: string; score: number; comment?: string } & Stamp)
  | ({ type: 'ReopenTicket'; ticketId: string; reason: string } & Stamp)
  | ({ type: 'LogWork'; ticketId: string; entryId: string; employeeId: string; minutes: number; kind: z.infer<typeof WorkKind>; on: string; note?: string } & Stamp)
  | ({ type: 'CheckSla'; ticketId: string } & Stamp);

export const initialState: TicketState = { status: 'none' };

const mark = (state: OpenTicket, ...marks: ClockMark[]): ClockMark[] => [...state.marks, ...marks];
/** The first response: the first start, wait, customer-visible reply or resolution. */
const responded = (state: OpenTicket, at: string): Pick<OpenTicket, 'respondedAt' | 'marks'> =>
  state.respondedAt ? { respondedAt: state.respondedAt, marks: state.marks } : { respondedAt: at, marks: mark(state, { at, kind: 'responded' }) };

export function evolve(state: TicketState, event: TicketEvent): TicketState {
  if (event.type === 'TicketOpened') {
    const { ticketId, number, createdBy, assigneeId, queueId, customerLevel, fields, at } = event.data;
    return {
      status: assigneeId || queueId ? 'assigned' : 'new',
      ticketId,
      number,
      createdBy,
      ownerId: assigneeId,
      queueId,
      customerLevel,
      fields,
      openedAt: at,
      marks: [{ at, kind: 'opened' }],
      respondedAt: null,
      resolution: null,
      resolvedAt: null,
      closedAt: null,
      reopenCount: 0,
      notes: [],
      workMinutes: 0,
      sla: null,
      warned: [],
      breached: [],
      survey: null,
    };
  }
  if (state.status === 'none') return event.type === 'TicketNumberWithdrawn' ? { status: 'none', withdrawn: [...(state.withdrawn ?? []), event.data.number] } : state;
  switch (event.type) {
    case 'TicketNumberWithdrawn':
      return state;
    case 'TicketChanged':
      return withChanges(state, event.data.changes);
    case 'TicketAssigned':
      return { ...state, ownerId: event.data.assigneeId, queueId: event.data.queueId, status: state.status === 'new' ? 'assigned' : state.status };
    case 'TicketStarted': {
      const first = responded(state, event.data.at);
      return { ...state, ...first, status: 'in_progress', marks: state.status === 'waiting' ? [...first.marks, { at: event.data.at, kind: 'resumed' }] : first.marks };
    }
    case 'TicketWaiting': {
      const first = responded(state, event.data.at);
      return { ...state, ...first, status: 'waiting', marks: [...first.marks, { at: event.data.at, kind: 'paused' }] };
    }
    case 'TicketNoteAdded': {
      const note = { noteId: event.data.noteId, by: event.data.by, text: event.data.text, visibility: event.data.visibility, at: event.data.at };
      return { ...state, ...(event.data.visibility === 'customer' ? responded(state, event.data.at) : {}), notes: [...state.notes, note] };
    }
    case 'TicketResolved': {
      const first = responded(state, event.data.at);
      return { ...state, ...first, status: 'resolved', resolution: event.data.resolution, resolvedAt: event.data.at, marks: [...first.marks, { at: event.data.at, kind: 'resolved' }] };
    }
    case 'TicketClosed':
      return { ...state, status: 'closed', closedAt: event.data.at, survey: event.data.survey };
    case 'SurveyAnswered':
      return state.survey?.surveyId === event.data.surveyId ? { ...state, survey: { ...state.survey, score: event.data.score, ...(event.data.comment ? { comment: event.data.comment } : {}), answeredAt: event.data.at } } : state;
    case 'TicketReopened':
      return { ...state, status: 'assigned', reopenCount: event.data.count, resolution: null, resolvedAt: null, closedAt: null, marks: mark(state, { at: event.data.at, kind: 'reopened' }) };
    case 'WorkLogged':
      return { ...state, workMinutes: state.workMinutes + event.data.minutes };
    case 'SlaTargetsSet':
      return { ...state, sla: event.data };
    case 'SlaWarning':
      return state.warned.includes(event.data.clock) ? state : { ...state, warned: [...state.warned, event.data.clock] };
    case 'SlaBreached':
      return state.breached.includes(event.data.clock) ? state : { ...state, breached: [...state.breached, event.data.clock] };
  }
}

const REQUIRED = ['type', 'channel', 'priority', 'customerId', 'subject', 'description'] as const;
const ACTIVE: readonly TicketStatus[] = ['new', 'assigned', 'in_progress', 'waiting'];

const refuse = (state: OpenTicket, action: string, allowed: readonly TicketStatus[]) =>
  new DomainError('ticket.invalid_status', `A ${state.status} ticket cannot be ${action} (only ${allowed.join(', ')})`, { ticketId: state.ticketId, ticketStatus: state.status, allowed });

function requireStatus(state: OpenTicket, action: string, allowed: readonly TicketStatus[]): void {
  if (!allowed.includes(state.status)) throw refuse(state, action, allowed);
}

export function decide(command: TicketCommand, state: TicketState): TicketEvent[] {
  const { ticketId } = command;
  if (command.type === 'WithdrawTicketNumber') {
    if (state.status !== 'none') throw new DomainError('ticket.already_exists', `Ticket ${ticketId} already exists`, { ticketId });
    return [{ type: 'TicketNumberWithdrawn', data: { ticketId, number: command.number } }];
  }
  if (command.type === 'OpenTicket') {
    if (state.status !== 'none') throw new DomainError('ticket.already_exists', `Ticket ${ticketId} already exists`, { ticketId });
    if (state.withdrawn?.includes(command.number)) throw new DomainError('ticket.number_withdrawn', `Ticket number ${command.number} went to another ticket; take a new one`, { number: command.number });
    const { number, assigneeId, queueId, customerLevel, fields, at, by } = command;
    return withSla([{ type: 'TicketOpened', data: { ticketId, number, createdBy: by, assigneeId, queueId, customerLevel, fields, at } }], state, command);
  }
  if (state.status === 'none') throw new DomainError('ticket.not_found', `Ticket ${ticketId} does not exist`, { ticketId });
  return withSla(decideOn(command, state), state, command);
}

function decideOn(command: Exclude<TicketCommand, { type: 'OpenTicket' | 'WithdrawTicketNumber' }>, state: OpenTicket): TicketEvent[] {
  const { ticketId, at, by } = command;
  switch (command.type) {
    case 'ChangeTicket': {
      if (state.status === 'closed') throw refuse(state, 'changed', ['new', 'assigned', 'in_progress', 'waiting', 'resolved']);
      for (const field of REQUIRED) if (command.changes[field] === null) throw new DomainError('ticket.field_required', `${field} cannot be cleared`, { field });
      const changes = diffFields(state.fields, command.changes);
      return Object.keys(changes).length ? [{ type: 'TicketChanged', data: { ticketId, changes } }] : [];
    }
    case 'AssignTicket':
      requireStatus(state, 'assigned', ACTIVE);
      if (command.assigneeId === state.ownerId && command.queueId === state.queueId) return [];
      return [{ type: 'TicketAssigned', data: { ticketId, fromAssigneeId: state.ownerId, fromQueueId: state.queueId, assigneeId: command.assigneeId, queueId: command.queueId, by } }];
    case 'StartTicket':
      if (state.status === 'in_progress') return [];
      requireStatus(state, 'started', ['new', 'assigned', 'waiting']);
      return [
        // Nobody's yet (new, or waiting in a queue): whoever starts it takes it.
        ...(state.ownerId === null ? [{ type: 'TicketAssigned' as const, data: { ticketId, fromAssigneeId: null, fromQueueId: state.queueId, assigneeId: by, queueId: state.queueId, by } }] : []),
        { type: 'TicketStarted', data: { ticketId, by, at } },
      ];
    case 'WaitOnCustomer':
      if (state.status === 'waiting') return [];
      requireStatus(state, 'put to wait for the customer', ['assigned', 'in_progress']);
      return [{ type: 'TicketWaiting', data: { ticketId, by, ...(command.note ? { note: command.note } : {}), at } }];
    case 'AddTicketNote':
      if (state.status === 'closed') throw refuse(state, 'commented on', ['new', 'assigned', 'in_progress', 'waiting', 'resolved']);
      return [{ type: 'TicketNoteAdded', data: { ticketId, noteId: command.noteId, by, text: command.text, visibility: command.visibility, at } }];
    case 'ResolveTicket':
      if (state.status === 'resolved') return [];
      requireStatus(state, 'resolved', ACTIVE);
      return [{ type: 'TicketResolved', data: { ticketId, by, resolution: command.resolution, at } }];
    case 'CloseTicket':
      if (state.status === 'closed') return [];
      requireStatus(state, 'closed', ['resolved']);
      return [{ type: 'TicketClosed', data: { ticketId, by, at, survey: command.survey } }];
    case 'AnswerSurvey': {
      // The survey must be the ticket's latest (a reopened and closed again ticket has a new one), open and unanswered.
      const survey = state.survey;
      if (!survey || survey.surveyId !== command.surveyId) throw new DomainError('survey.superseded', 'This survey was replaced by a newer one', { ticketId });
      if (survey.answeredAt) throw new DomainError('survey.already_answered', 'This survey was answered already; thank you', { ticketId });
      if (at >= survey.expiresAt) throw new DomainError('survey.expired', `This survey could be answered until ${survey.expiresAt}`, { ticketId, expiresAt: survey.expiresAt });
      return [{ type: 'SurveyAnswered', data: { ticketId, surveyId: command.surveyId, score: command.score, ...(command.comment ? { comment: command.comment } : {}), at } }];
    }
    case 'ReopenTicket':
      requireStatus(state, 'reopened', ['resolved', 'closed']);
      return [{ type: 'TicketReopened', data: { ticketId, by, reason: command.reason, count: state.reopenCount + 1, at } }];
    case 'LogWork':
      if (state.status === 'new') throw refuse(state, 'worked on', ['assigned', 'in_progress', 'waiting', 'resolved', 'closed']);
      return [{ type: 'WorkLogged', data: { ticketId, entryId: command.entryId, employeeId: command.employeeId, minutes: command.minutes, kind: command.kind, on: command.on, ...(command.note ? { note: command.note } : {}) } }];
    case 'CheckSla':
      return [];
  }
}

/**
 * Every command also reads the SLA clocks at its time, with the policies and calendar in force: when the targets
 * it finds differ from the last recorded (the ticket paused, resumed, was resolved or reopened, changed priority,
 * or the policies or calendar changed), it records them (`SlaTargetsSet`, which the SLA timer plans from); a
 * warning or breach due by then and not yet recorded is recorded once (a breach found when a clock stops late too).
 */
function withSla(events: TicketEvent[], before: TicketState, command: Exclude<TicketCommand, { type: 'WithdrawTicketNumber' }>): TicketEvent[] {
  const after = events.reduce(evolve, before);
  if (after.status === 'none') return events;
  const { at, sla } = command;
  const target = targetFor(sla.policies, after.fields.priority, after.customerLevel);
  const now = Date.parse(at);
  const time = { calendar: sla.calendar, timeZone: sla.timeZone };
  const readings = SLA_CLOCKS.map((clock) => readClock(after.marks, clock, clock === 'first_response' ? target.firstResponseHours : target.resolutionHours, sla.policies.warnAt, time, now));
  const out = [...events];
  const warned = new Set(after.warned);
  const breached = new Set(after.breached);
  // What is due by now and not yet recorded: the warning, then the breach (recorded before the targets, which say so).
  for (const reading of readings) {
    const { clock } = reading;
    if (!warned.has(clock) && !reading.stopped && reading.warnAt !== null && reading.warnAt <= at) {
      out.push({ type: 'SlaWarning', data: { ticketId: after.ticketId, clock, warnAt: reading.warnAt, dueAt: reading.dueAt, at } });
      warned.add(clock);
    }
    if (!breached.has(clock) && isBreached(reading) && reading.dueAt !== null) {
      out.push({ type: 'SlaBreached', data: { ticketId: after.ticketId, clock, dueAt: reading.dueAt, at } });
      breached.add(clock);
    }
  }
  const targets = (reading: (typeof readings)[number]) => ({
    state: reading.stopped ? ('stopped' as const) : reading.paused ? ('paused' as const) : ('running' as const),
    dueAt: reading.dueAt,
    warnAt: reading.warnAt,
    remainingMs: reading.remainingMs,
    warned: warned.has(reading.clock),
    breached: breached.has(reading.clock),
  });
  const set: SlaTargets = {
    ticketId: after.ticketId,
    policyVersion: sla.policyVersion,
    calendarVersion: sla.calendarVersion,
    timeZone: sla.timeZone,
    target: { firstResponseHours: target.firstResponseHours, resolutionHours: target.resolutionHours, warnAt: sla.policies.warnAt },
    firstResponse: targets(readings[0]!),
    resolution: targets(readings[1]!),
    at,
  };
  if (!sameTargets(after.sla, set)) out.push({ type: 'SlaTargetsSet', data: set });
  return out;
}

/** Targets compare equal when nothing a reader or the timer uses differs (the remaining time of a running clock always does). */
function sameTargets(a: SlaTargets | null, b: SlaTargets): boolean {
  if (!a) return false;
  const clock = (c: SlaTargets['firstResponse']) => [c.state, c.dueAt, c.warnAt, c.state === 'running' ? 0 : c.remainingMs];
  return JSON.stringify([a.policyVersion, a.calendarVersion, a.timeZone, a.target, clock(a.firstResponse), clock(a.resolution)]) === JSON.stringify([b.policyVersion, b.calendarVersion, b.timeZone, b.target, clock(b.firstResponse), clock(b.resolution)]);
}

export const ticketDecider = { initialState, evolve, decide };
export const ticketCategory = 'ticket';
export const ticketNumberCategory = 'ticketnumber';
export const formatTicketNumber = (year: number, sequence: number) => formatNumber('SR', year, sequence);
