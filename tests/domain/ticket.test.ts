import { describe, expect, it } from 'vitest';
import { DEFAULT_CALENDAR } from '../../src/domain/service/calendar.ts';
import { DEFAULT_SLA, type SlaContext } from '../../src/domain/service/sla.ts';
import { formatTicketNumber, type TicketCommand, type TicketEvent, type TicketFields, ticketDecider } from '../../src/domain/ticket/index.ts';
import { slaView } from '../../src/domain/ticket/resource.ts';
import { fold } from '../../src/domain/shared/decider.ts';
import { specFor } from '../support/spec.ts';

const spec = specFor(ticketDecider);
const ticketId = 't-1';
const me = 'u-engineer';
const sla: SlaContext = { policies: DEFAULT_SLA, policyVersion: 0, calendar: DEFAULT_CALENDAR, calendarVersion: 0, timeZone: 'Asia/Shanghai' };
const fields: TicketFields = { type: 'repair', channel: 'phone', priority: 'high', customerId: 'c-1', subject: '水泵异响', description: '运行时有异响' };
// Tuesday 2026-12-01 09:00 Shanghai (01:00Z); business hours 01:00–10:00Z.
const T = (hhmm: string, day = '01') => `2026-12-${day}T${hhmm}:00.000Z`;
const stamp = (at: string, context: SlaContext = sla) => ({ at, by: me, sla: context });

const decideAll = (events: TicketEvent[], command: TicketCommand) => ticketDecider.decide(command, fold(ticketDecider, events));
/** Runs commands one after another, each on the events so far: the history they make. */
function history(...commands: TicketCommand[]): TicketEvent[] {
  const events: TicketEvent[] = [];
  for (const command of commands) events.push(...decideAll(events, command));
  return events;
}
const openCommand = (extra: Partial<Extract<TicketCommand, { type: 'OpenTicket' }>> = {}): TicketCommand => ({ type: 'OpenTicket', ticketId, number: 'SR-2026-000001', assigneeId: null, queueId: 'd-service', customerLevel: null, fields, ...stamp(T('01:00')), ...extra });
const types = (events: TicketEvent[]) => events.map((e) => e.type);
const survey = { surveyId: 's-1', expiresAt: '2026-12-31T00:00:00.000Z' };

describe('ticket decider', () => {
  it('opens a ticket once, assigned when it names an engineer or a queue, with its SLA targets recorded', () => {
    const events = decideAll([], openCommand());
    expect(types(events)).toEqual(['TicketOpened', 'SlaTargetsSet']);
    expect(events[1]!.data).toMatchObject({ policyVersion: 0, calendarVersion: 0, timeZone: 'Asia/Shanghai', firstResponse: { state: 'running', dueAt: T('03:00'), warnAt: T('02:36') }, resolution: { state: 'running', dueAt: T('09:00') } });
    expect(fold(ticketDecider, events)).toMatchObject({ status: 'assigned', queueId: 'd-service', ownerId: null });
    expect(fold(ticketDecider, decideAll([], openCommand({ queueId: null })))).toMatchObject({ status: 'new' });
    spec.given(events).when(openCommand()).thenThrows('ticket.already_exists');
    for (const command of [{ type: 'StartTicket', ticketId, ...stamp(T('02:00')) }, { type: 'CheckSla', ticketId, ...stamp(T('02:00')) }] as const) spec.given([]).when(command).thenThrows('ticket.not_found');
    expect(formatTicketNumber(2026, 7)).toBe('SR-2026-000007');
  });

  it('a number withdrawn from a ticket never written cannot be used by it; a written ticket keeps its number', () => {
    const withdrawn: TicketEvent = { type: 'TicketNumberWithdrawn', data: { ticketId, number: 'SR-2026-000001' } };
    spec.given([]).when({ type: 'WithdrawTicketNumber', ticketId, number: 'SR-2026-000001' }).then([withdrawn]);
    spec.given([withdrawn]).when(openCommand()).thenThrows('ticket.number_withdrawn');
    expect(types(decideAll([withdrawn], openCommand({ number: 'SR-2026-000002' })))).toEqual(['TicketOpened', 'SlaTargetsSet']);
    spec.given(history(openCommand())).when({ type: 'WithdrawTicketNumber', ticketId, number: 'SR-2026-000001' }).thenThrows('ticket.already_exists');
  });

  it('starting takes an unassigned ticket and is its first response; waiting pauses the clocks and starting again resumes them', () => {
    const opened = history(openCommand());
    const started = decideAll(opened, { type: 'StartTicket', ticketId, ...stamp(T('01:30')) });
    expect(types(started)).toEqual(['TicketAssigned', 'TicketStarted', 'SlaTargetsSet']);
    expect(started[0]!.data).toEqual({ ticketId, fromAssigneeId: null, fromQueueId: 'd-service', assigneeId: me, queueId: 'd-service', by: me });
    expect(started[2]!.data).toMatchObject({ firstResponse: { state: 'stopped' }, resolution: { state: 'running', dueAt: T('09:00') } });
    const working = [...opened, ...started];
    spec.given(working).when({ type: 'StartTicket', ticketId, ...stamp(T('01:40')) }).thenNothing();
    const waiting = decideAll(working, { type: 'WaitOnCustomer', ticketId, note: '等序列号', ...stamp(T('03:00')) });
    expect(types(waiting)).toEqual(['TicketWaiting', 'SlaTargetsSet']);
    expect(waiting[1]!.data).toMatchObject({ resolution: { state: 'paused', dueAt: null, remainingMs: 6 * 3_600_000 } });
    const paused = [...working, ...waiting];
    spec.given(paused).when({ type: 'WaitOnCustomer', ticketId, ...stamp(T('04:00')) }).thenNothing();
    // A day later the pause has cost nothing: resumed Wednesday 09:00 local, 6 h left: due 15:00 local.
    const resumed = decideAll(paused, { type: 'StartTicket', ticketId, ...stamp(T('01:00', '02')) });
    expect(types(resumed)).toEqual(['TicketStarted', 'SlaTargetsSet']);
    expect(resumed[1]!.data).toMatchObject({ resolution: { state: 'running', dueAt: T('07:00', '02') } });
  });

  it('warns and breaches once each, at their time, whatever asks; a clock that stops late is breached by the command that stops it', () => {
    const opened = history(openCommand({ assigneeId: me }));
    spec.given(opened).when({ type: 'CheckSla', ticketId, ...stamp(T('02:35')) }).thenNothing();
    const warned = decideAll(opened, { type: 'CheckSla', ticketId, ...stamp(T('02:36')) });
    expect(warned).toEqual([{ type: 'SlaWarning', data: { ticketId, clock: 'first_response', warnAt: T('02:36'), dueAt: T('03:00'), at: T('02:36') } }]);
    const after = [...opened, ...warned];
    spec.given(after).when({ type: 'CheckSla', ticketId, ...stamp(T('02:50')) }).thenNothing();
    const breached = decideAll(after, { type: 'CheckSla', ticketId, ...stamp(T('03:00')) });
    expect(breached).toEqual([{ type: 'SlaBreached', data: { ticketId, clock: 'first_response', dueAt: T('03:00'), at: T('03:00') } }]);
    spec.given([...after, ...breached]).when({ type: 'CheckSla', ticketId, ...stamp(T('03:30')) }).thenNothing();
    // Both due at once (nobody asked in time): the warning, then the breach.
    expect(types(decideAll(opened, { type: 'CheckSla', ticketId, ...stamp(T('03:10')) }))).toEqual(['SlaWarning', 'SlaBreached']);
    // The first response given late: the start records the breach it finds.
    const late = decideAll(opened, { type: 'StartTicket', ticketId, ...stamp(T('03:30')) });
    expect(types(late)).toEqual(['TicketStarted', 'SlaBreached', 'SlaTargetsSet']);
    expect(late[2]!.data).toMatchObject({ firstResponse: { state: 'stopped', breached: true, warned: false } });
    expect(slaView(fold(ticketDecider, [...opened, ...late]) as never)).toMatchObject({ state: 'breached', breached: ['first_response'] });
  });

  it('new policies, calendar or priority record new targets; the same ones record nothing', () => {
    const opened = history(openCommand({ assigneeId: me }));
    spec.given(opened).when({ type: 'CheckSla', ticketId, ...stamp(T('01:10')) }).thenNothing();
    const holiday = { ...sla, calendar: { ...DEFAULT_CALENDAR, holidays: [{ date: '2026-12-01' }] }, calendarVersion: 1 };
    const moved = decideAll(opened, { type: 'CheckSla', ticketId, ...stamp(T('01:10'), holiday) });
    expect(types(moved)).toEqual(['SlaTargetsSet']);
    expect(moved[0]!.data).toMatchObject({ calendarVersion: 1, resolution: { dueAt: T('09:00', '02') } });
    const urgent = decideAll(opened, { type: 'ChangeTicket', ticketId, changes: { priority: 'urgent' }, ...stamp(T('01:10')) });
    expect(types(urgent)).toEqual(['TicketChanged', 'SlaTargetsSet']);
    expect(urgent[1]!.data).toMatchObject({ target: { firstResponseHours: 1, resolutionHours: 4 } });
    const levelA = { ...sla, policies: { ...DEFAULT_SLA, targets: [...DEFAULT_SLA.targets, { priority: 'high' as const, customerLevel: 'A', firstResponseHours: 1, resolutionHours: 2 }] }, policyVersion: 1 };
    const forA = decideAll([], openCommand({ customerLevel: 'A', ...stamp(T('01:00'), levelA) }));
    expect(forA[1]!.data).toMatchObject({ policyVersion: 1, target: { resolutionHours: 2 }, resolution: { dueAt: T('03:00') } });
  });

  it('resolves, closes only when resolved, reopens (counted) a resolved or closed ticket; the resolution clock runs on', () => {
    const working = history(openCommand({ assigneeId: me }), { type: 'StartTicket', ticketId, ...stamp(T('01:30')) });
    spec.given(working).when({ type: 'CloseTicket', ticketId, survey, ...stamp(T('02:00')) }).thenThrows('ticket.invalid_status');
    spec.given(working).when({ type: 'ReopenTicket', ticketId, reason: 'x', ...stamp(T('02:00')) }).thenThrows('ticket.invalid_status');
    const resolved = [...working, ...decideAll(working, { type: 'ResolveTicket', ticketId, resolution: '更换轴承', ...stamp(T('03:00')) })];
    expect(fold(ticketDecider, resolved)).toMatchObject({ status: 'resolved', resolution: '更换轴承', resolvedAt: T('03:00') });
    expect(slaView(fold(ticketDecider, resolved) as never)?.state).toBe('met');
    spec.given(resolved).when({ type: 'ResolveTicket', ticketId, resolution: 'again', ...stamp(T('03:10')) }).thenNothing();
    spec.given(resolved).when({ type: 'StartTicket', ticketId, ...stamp(T('03:10')) }).thenThrows('ticket.invalid_status');
    spec.given(resolved).when({ type: 'AssignTicket', ticketId, assigneeId: 'u-2', queueId: null, ...stamp(T('03:10')) }).thenThrows('ticket.invalid_status');
    const closed = [...resolved, ...decideAll(resolved, { type: 'CloseTicket', ticketId, survey, ...stamp(T('04:00')) })];
    spec.given(closed).when({ type: 'CloseTicket', ticketId, survey, ...stamp(T('04:10')) }).thenNothing();
    spec.given(closed).when({ type: 'ChangeTicket', ticketId, changes: { subject: 'x' }, ...stamp(T('04:10')) }).thenThrows('ticket.invalid_status');
    spec.given(closed).when({ type: 'AddTicketNote', ticketId, noteId: 'n', text: 'x', visibility: 'internal', ...stamp(T('04:10')) }).thenThrows('ticket.invalid_status');
    const reopened = decideAll(closed, { type: 'ReopenTicket', ticketId, reason: '复发', ...stamp(T('01:00', '02')) });
    expect(reopened[0]).toEqual({ type: 'TicketReopened', data: { ticketId, by: me, reason: '复发', count: 1, at: T('01:00', '02') } });
    // 2 h used before the resolution; 6 h left from Wednesday 09:00 local.
    expect(reopened[1]).toMatchObject({ type: 'SlaTargetsSet', data: { resolution: { state: 'running', dueAt: T('07:00', '02') } } });
    expect(fold(ticketDecider, [...closed, ...reopened])).toMatchObject({ status: 'assigned', reopenCount: 1, resolution: null, closedAt: null });
  });

  it('assigns to an engineer or a queue (nothing when unchanged); notes, replies and work; changes keep the required fields', () => {
    const opened = history(openCommand());
    spec.given(opened).when({ type: 'AssignTicket', ticketId, assigneeId: null, queueId: 'd-service', ...stamp(T('01:10')) }).thenNothing();
    expect(decideAll(opened, { type: 'AssignTicket', ticketId, assigneeId: 'u-2', queueId: 'd-2', ...stamp(T('01:10')) })[0]).toEqual({ type: 'TicketAssigned', data: { ticketId, fromAssigneeId: null, fromQueueId: 'd-service', assigneeId: 'u-2', queueId: 'd-2', by: me } });
    spec.given(opened).when({ type: 'LogWork', ticketId, entryId: 'w', employeeId: me, minutes: 30, kind: 'remote', on: '2026-12-01', ...stamp(T('01:10')) }).then([{ type: 'WorkLogged', data: { ticketId, entryId: 'w', employeeId: me, minutes: 30, kind: 'remote', on: '2026-12-01' } }]);
    spec.given(history(openCommand({ queueId: null }))).when({ type: 'LogWork', ticketId, entryId: 'w', employeeId: me, minutes: 30, kind: 'remote', on: '2026-12-01', ...stamp(T('01:10')) }).thenThrows('ticket.invalid_status');
    const internal = decideAll(opened, { type: 'AddTicketNote', ticketId, noteId: 'n1', text: '内部', visibility: 'internal', ...stamp(T('01:10')) });
    expect(types(internal)).toEqual(['TicketNoteAdded']);
    const reply = decideAll(opened, { type: 'AddTicketNote', ticketId, noteId: 'n2', text: '已收到', visibility: 'customer', ...stamp(T('01:10')) });
    expect(types(reply)).toEqual(['TicketNoteAdded', 'SlaTargetsSet']);
    expect(fold(ticketDecider, [...opened, ...reply])).toMatchObject({ respondedAt: T('01:10') });
    for (const field of ['type', 'channel', 'priority', 'subject', 'description']) spec.given(opened).when({ type: 'ChangeTicket', ticketId, changes: { [field]: null }, ...stamp(T('01:10')) }).thenThrows('ticket.field_required');
    spec.given(opened).when({ type: 'ChangeTicket', ticketId, changes: { subject: fields.subject }, ...stamp(T('01:10')) }).thenNothing();
    spec.given(opened).when({ type: 'ResolveTicket', ticketId, resolution: 'r', ...stamp(T('01:10')) }).then(decideAll(opened, { type: 'ResolveTicket', ticketId, resolution: 'r', ...stamp(T('01:10')) }));
    expect(slaView(fold(ticketDecider, opened) as never)?.state).toBe('on_track');
    expect(slaView(fold(ticketDecider, [...opened, ...decideAll(opened, { type: 'CheckSla', ticketId, ...stamp(T('02:40')) })]) as never)?.state).toBe('at_risk');
  });

  it('a closed ticket’s survey is answered once, before it expires; a newer survey replaces it', () => {
    const closed = history(openCommand({ assigneeId: me }), { type: 'ResolveTicket', ticketId, resolution: 'r', ...stamp(T('02:00')) }, { type: 'CloseTicket', ticketId, survey, ...stamp(T('03:00')) });
    expect(fold(ticketDecider, closed)).toMatchObject({ status: 'closed', survey });
    const answer = (extra: Partial<Extract<TicketCommand, { type: 'AnswerSurvey' }>> = {}): TicketCommand => ({ type: 'AnswerSurvey', ticketId, surveyId: 's-1', score: 4, comment: '很及时', ...stamp(T('05:00')), ...extra });
    spec.given(closed).when(answer()).then([{ type: 'SurveyAnswered', data: { ticketId, surveyId: 's-1', score: 4, comment: '很及时', at: T('05:00') } }]);
    const answered = [...closed, ...decideAll(closed, answer())];
    expect(fold(ticketDecider, answered)).toMatchObject({ survey: { score: 4, comment: '很及时', answeredAt: T('05:00') } });
    spec.given(answered).when(answer({ score: 1 })).thenThrows('survey.already_answered');
    spec.given(closed).when(answer({ surveyId: 's-0' })).thenThrows('survey.superseded');
    spec.given(closed).when(answer(stamp('2026-12-31T00:00:00.000Z'))).thenThrows('survey.expired');
    spec.given(history(openCommand())).when(answer()).thenThrows('survey.superseded');
    // Reopened and closed again: a new survey; the first can no longer be answered.
    const reclosed = [...closed, ...decideAll(closed, { type: 'ReopenTicket', ticketId, reason: 'x', ...stamp(T('04:00')) })];
    const resolved2 = [...reclosed, ...decideAll(reclosed, { type: 'ResolveTicket', ticketId, resolution: 'r2', ...stamp(T('04:30')) })];
    const closed2 = [...resolved2, ...decideAll(resolved2, { type: 'CloseTicket', ticketId, survey: { surveyId: 's-2', expiresAt: survey.expiresAt }, ...stamp(T('04:40')) })];
    spec.given(closed2).when(answer()).thenThrows('survey.superseded');
  });
});
