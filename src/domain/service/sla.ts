import { z } from 'zod';
import { addBusinessMs, type BusinessCalendar, type BusinessTime, businessMsBetween, businessSpans } from './calendar.ts';

export const TicketPriority = z.enum(['low', 'normal', 'high', 'urgent']);
export type TicketPriority = z.infer<typeof TicketPriority>;

const Hours = z.number().positive().max(10_000).multipleOf(0.01);

/** One target: for a priority (and, when named, a customer level), first response and resolution in business hours. */
export const SlaTarget = z
  .object({
    priority: TicketPriority,
    customerLevel: z.string().trim().min(1).max(50).optional().describe("A customer's level (the customer field `level`); absent: any level"),
    firstResponseHours: Hours.describe('First response within this many business hours'),
    resolutionHours: Hours.describe('Resolution within this many business hours'),
  })
  .strict()
  .refine((target) => target.firstResponseHours <= target.resolutionHours, { message: 'A first response comes no later than the resolution', path: ['firstResponseHours'] });
export type SlaTarget = z.infer<typeof SlaTarget>;

/**
 * The SLA policies (服务级别): targets per priority and customer level, and the share of a target at which a
 * ticket is at risk (a warning). Each priority has a target for any level; a level's own target overrides it.
 */
export const SlaPolicies = z
  .object({
    warnAt: z.number().gt(0).lt(1).multipleOf(0.01).describe('The share of a target after which a ticket is at risk (SlaWarning); 0.8 by default'),
    targets: z.array(SlaTarget).min(1).max(200),
  })
  .strict()
  .superRefine((policies, context) => {
    const seen = new Set<string>();
    for (const [i, target] of policies.targets.entries()) {
      const key = `${target.priority}\u0000${target.customerLevel ?? ''}`;
      if (seen.has(key)) context.addIssue({ code: 'custom', path: ['targets', i], message: `A second target for ${target.priority}${target.customerLevel ? ` and level ${target.customerLevel}` : ''}` });
      seen.add(key);
    }
    for (const priority of TicketPriority.options)
      if (!policies.targets.some((target) => target.priority === priority && target.customerLevel === undefined)) context.addIssue({ code: 'custom', path: ['targets'], message: `No target for priority ${priority} at any customer level` });
  })
  .meta({ id: 'SlaPolicies' });
export type SlaPolicies = z.infer<typeof SlaPolicies>;

export const DEFAULT_SLA: SlaPolicies = {
  warnAt: 0.8,
  targets: [
    { priority: 'urgent', firstResponseHours: 1, resolutionHours: 4 },
    { priority: 'high', firstResponseHours: 2, resolutionHours: 8 },
    { priority: 'normal', firstResponseHours: 4, resolutionHours: 24 },
    { priority: 'low', firstResponseHours: 8, resolutionHours: 40 },
  ],
};
export const SLA_SETTING_KEY = 'sla-policies';

/** The target for a ticket: its priority and customer level's own, else its priority's for any level. */
export function targetFor(policies: SlaPolicies, priority: TicketPriority, customerLevel: string | null): SlaTarget {
  const own = customerLevel === null ? undefined : policies.targets.find((target) => target.priority === priority && target.customerLevel === customerLevel);
  return own ?? policies.targets.find((target) => target.priority === priority && target.customerLevel === undefined)!;
}

/** Everything a ticket's clocks are computed with: the policies and calendar in force (with their versions) and the zone. */
export interface SlaContext {
  policies: SlaPolicies;
  policyVersion: number;
  calendar: BusinessCalendar;
  calendarVersion: number;
  timeZone: string;
}

/** What happened to a ticket that its clocks follow, in order. */
export type ClockMark = { at: string; kind: 'opened' | 'responded' | 'paused' | 'resumed' | 'resolved' | 'reopened' };

export const SlaClockName = z.enum(['first_response', 'resolution']);
export type SlaClockName = z.infer<typeof SlaClockName>;
export const SLA_CLOCKS = SlaClockName.options;

/** One clock at an instant. */
export interface ClockReading {
  clock: SlaClockName;
  targetMs: number;
  /** Business time it has run. */
  elapsedMs: number;
  running: boolean;
  /** Stopped for good (responded; resolved): its outcome is known. */
  stopped: boolean;
  paused: boolean;
  /** When it reaches its target if it keeps running from its last start (null while paused or stopped before it). */
  dueAt: string | null;
  /** When it passes the warning share (null likewise, or when it passed it while stopped). */
  warnAt: string | null;
  remainingMs: number;
}

type Interval = { from: number; to: number | null };

/** The spans a clock runs: from opening, less pauses, until it stops (first response: responded or resolved; resolution: resolved, again after a reopen). */
export function runningIntervals(marks: readonly ClockMark[], clock: SlaClockName): { intervals: Interval[]; paused: boolean; stopped: boolean } {
  const intervals: Interval[] = [];
  let started = false;
  let paused = false;
  let stopped = false;
  let since: number | null = null;
  const stop = (at: number) => {
    if (since !== null) intervals.push({ from: since, to: Math.max(at, since) });
    since = null;
  };
  for (const mark of marks) {
    const at = Date.parse(mark.at);
    switch (mark.kind) {
      case 'opened':
        started = true;
        since = at;
        break;
      case 'paused':
        if (since !== null) stop(at);
        paused = true;
        break;
      case 'resumed':
        paused = false;
        if (started && !stopped && since === null) since = at;
        break;
      case 'responded':
        if (clock === 'first_response' && !stopped) {
          stop(at);
          stopped = true;
        }
        break;
      case 'resolved':
        if (!stopped) stop(at);
        stopped = true;
        paused = false;
        break;
      case 'reopened':
        // The resolution clock goes on from where it stopped; a first response once given stays given.
        if (clock === 'resolution' && stopped) {
          stopped = false;
          since = at;
        }
        break;
    }
  }
  if (since !== null) intervals.push({ from: since, to: null });
  return { intervals, paused: paused && !stopped, stopped };
}

/** A clock read at `now` (an instant at or after its last mark). */
export function readClock(marks: readonly ClockMark[], clock: SlaClockName, targetHours: number, warnShare: number, time: BusinessTime, now: number): ClockReading {
  const targetMs = Math.round(targetHours * 3_600_000);
  const warnMs = Math.round(targetMs * warnShare);
  const { intervals, paused, stopped } = runningIntervals(marks, clock);
  let elapsed = 0;
  let dueAt: number | null = null;
  let warnAt: number | null = null;
  for (const interval of intervals) {
    const before = elapsed;
    const open = interval.to === null;
    const end = interval.to ?? Math.max(now, interval.from);
    elapsed += businessMsBetween(time, interval.from, end);
    // The instants it crosses its warning and its target, within this span or (still running) later.
    if (warnAt === null && before < warnMs && (open || elapsed >= warnMs)) warnAt = addBusinessMs(time, interval.from, warnMs - before);
    if (dueAt === null && before < targetMs && (open || elapsed >= targetMs)) dueAt = addBusinessMs(time, interval.from, targetMs - before);
  }
  const running = intervals.length > 0 && intervals[intervals.length - 1]!.to === null;
  return {
    clock,
    targetMs,
    elapsedMs: elapsed,
    running,
    stopped,
    paused,
    dueAt: dueAt === null ? null : new Date(dueAt).toISOString(),
    warnAt: warnAt === null ? null : new Date(warnAt).toISOString(),
    remainingMs: Math.max(0, targetMs - elapsed),
  };
}

export const SlaState = z.enum(['on_track', 'at_risk', 'breached', 'met', 'paused']);
export type SlaState = z.infer<typeof SlaState>;

/** Whether a clock has passed its target: a stopped clock by more than it (stopped at the due instant is met), a live one by reaching it. */
export const isBreached = (reading: ClockReading): boolean => (reading.stopped ? reading.elapsedMs > reading.targetMs : reading.elapsedMs >= reading.targetMs);

/** The state a ticket's clocks add up to at an instant. */
export function slaState(readings: readonly ClockReading[], warnShare: number): SlaState {
  if (readings.some(isBreached)) return 'breached';
  if (readings.every((reading) => reading.stopped)) return 'met';
  if (readings.some((reading) => reading.paused)) return 'paused';
  return readings.some((reading) => !reading.stopped && reading.elapsedMs >= Math.round(reading.targetMs * warnShare)) ? 'at_risk' : 'on_track';
}

/** One stretch of a ticket's life as its clocks saw it (what GET /tickets/:id/sla lists). */
export interface ClockSegment {
  from: string;
  to: string;
  kind: 'running' | 'paused' | 'outside_hours' | 'stopped';
}

/**
 * The resolution clock's life from opening to `now`, cut where it starts, pauses, stops, and where business
 * hours begin and end: the explanation of every SLA figure. At most `limit` segments (the latest kept).
 */
export function clockSegments(marks: readonly ClockMark[], time: BusinessTime, now: number, limit = 500): ClockSegment[] {
  const opened = marks.find((mark) => mark.kind === 'opened');
  if (!opened) return [];
  const { intervals } = runningIntervals(marks, 'resolution');
  const segments: ClockSegment[] = [];
  const push = (from: number, to: number, kind: ClockSegment['kind']) => {
    if (to <= from) return;
    const last = segments[segments.length - 1];
    if (last && last.kind === kind && last.to === new Date(from).toISOString()) last.to = new Date(to).toISOString();
    else segments.push({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), kind });
  };
  // Between running spans the clock was paused (waiting for the customer) or stopped (resolved).
  const pauses = pauseSpans(marks);
  let cursor = Date.parse(opened.at);
  for (const interval of intervals) {
    const end = interval.to ?? Math.max(now, interval.from);
    gap(cursor, interval.from, pauses, push);
    let at = interval.from;
    for (const span of businessSpans(time, interval.from, end)) {
      push(at, span.from, 'outside_hours');
      push(span.from, span.to, 'running');
      at = span.to;
    }
    push(at, end, 'outside_hours');
    cursor = end;
  }
  gap(cursor, now, pauses, push);
  return segments.slice(-limit);
}

function pauseSpans(marks: readonly ClockMark[]): Interval[] {
  const spans: Interval[] = [];
  let since: number | null = null;
  for (const mark of marks) {
    if (mark.kind === 'paused' && since === null) since = Date.parse(mark.at);
    if ((mark.kind === 'resumed' || mark.kind === 'resolved') && since !== null) {
      spans.push({ from: since, to: Date.parse(mark.at) });
      since = null;
    }
  }
  if (since !== null) spans.push({ from: since, to: null });
  return spans;
}

function gap(from: number, to: number, pauses: readonly Interval[], push: (from: number, to: number, kind: ClockSegment['kind']) => void): void {
  let at = from;
  for (const pause of pauses) {
    const start = Math.max(pause.from, from);
    const end = Math.min(pause.to ?? to, to);
    if (start >= end) continue;
    push(at, start, 'stopped');
    push(start, end, 'paused');
    at = end;
  }
  push(at, to, 'stopped');
}
