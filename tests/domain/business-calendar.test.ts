import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addBusinessMs, type BusinessCalendar, BusinessCalendar as CalendarSchema, businessMsBetween, businessSpans, DEFAULT_CALENDAR, isWorkingDate, localInstant, zoneOffsetMs } from '../../src/domain/service/calendar.ts';
import { type ClockMark, clockSegments, isBreached, readClock, runningIntervals, SlaPolicies, slaState, targetFor } from '../../src/domain/service/sla.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const at = (iso: string) => Date.parse(iso);
const shanghai = { calendar: DEFAULT_CALENDAR, timeZone: 'Asia/Shanghai' };

// Calendars in zones with and without daylight saving, with holidays and make-up working days (调休) in the range.
const zones = ['Asia/Shanghai', 'Europe/Berlin', 'America/New_York', 'UTC', 'Asia/Kolkata'];
const day = fc.integer({ min: 0, max: 120 }).map((n) => new Date(Date.UTC(2026, 11, 1) + n * 86_400_000).toISOString().slice(0, 10));
const spans = fc.constantFrom(
  [{ from: '09:00', to: '18:00' }],
  [{ from: '08:30', to: '12:00' }, { from: '13:00', to: '17:30' }],
  [{ from: '00:00', to: '23:59' }],
  [{ from: '02:00', to: '03:30' }],
).map((hours) => hours.map((span) => ({ ...span })));
const calendar: fc.Arbitrary<BusinessCalendar> = fc
  .record({ workingDays: fc.subarray([1, 2, 3, 4, 5, 6, 7], { minLength: 1 }), hours: spans, holidays: fc.uniqueArray(day, { maxLength: 15 }), workingDates: fc.uniqueArray(day, { maxLength: 6 }) })
  .map((c) => ({ ...c, holidays: c.holidays.map((date) => ({ date })), workingDates: c.workingDates.filter((d) => !c.holidays.includes(d)).map((date) => ({ date })) }));
const time = fc.record({ calendar, timeZone: fc.constantFrom(...zones) });
// Instants from December 2026 to April 2027 (across the March daylight-saving changes), to the minute.
const instant = fc.integer({ min: 0, max: 120 * 24 * 60 }).map((m) => Date.UTC(2026, 11, 1) + m * MINUTE);
const ordered = (n: number, within = instant) => fc.array(within, { minLength: n, maxLength: n }).map((xs) => [...xs].sort((a, b) => a - b));
/** Instants within three weeks (December 2026): clocks read over spans this long. */
const nearInstant = fc.integer({ min: 0, max: 21 * 24 * 60 }).map((m) => Date.UTC(2026, 11, 1) + m * MINUTE);

describe('business calendar (工作日历)', () => {
  it('counts working hours only, in the company zone: nights, weekends and holidays are not business time; 调休 days are', () => {
    // Tuesday 2026-12-01, 09:00–18:00 Shanghai is 01:00–10:00 UTC.
    expect(businessMsBetween(shanghai, at('2026-12-01T00:00:00Z'), at('2026-12-02T00:00:00Z'))).toBe(9 * HOUR);
    expect(businessMsBetween(shanghai, at('2026-12-04T09:00:00Z'), at('2026-12-07T02:00:00Z'))).toBe(2 * HOUR);
    const withHoliday = { calendar: { ...DEFAULT_CALENDAR, holidays: [{ date: '2026-12-04' }], workingDates: [{ date: '2026-12-05', name: '调休' }] }, timeZone: 'Asia/Shanghai' };
    expect(isWorkingDate(withHoliday.calendar, '2026-12-04')).toBe(false);
    expect(isWorkingDate(withHoliday.calendar, '2026-12-05')).toBe(true);
    expect(isWorkingDate(withHoliday.calendar, '2026-12-06')).toBe(false);
    expect(businessMsBetween(withHoliday, at('2026-12-03T10:00:00Z'), at('2026-12-07T01:00:00Z'))).toBe(9 * HOUR);
    // 4 business hours from Friday 16:00 local: 2 h Friday, 2 h Monday (11:00 local).
    expect(new Date(addBusinessMs(shanghai, at('2026-12-04T08:00:00Z'), 4 * HOUR)!).toISOString()).toBe('2026-12-07T03:00:00.000Z');
    // From before opening, the time starts at opening; a span's end is where its time runs out.
    expect(new Date(addBusinessMs(shanghai, at('2026-12-01T00:00:00Z'), 9 * HOUR)!).toISOString()).toBe('2026-12-01T10:00:00.000Z');
    expect(addBusinessMs({ calendar: { ...DEFAULT_CALENDAR, workingDays: [1], holidays: [] }, timeZone: 'UTC' }, at('2026-12-01T00:00:00Z'), 0)).toBe(at('2026-12-01T00:00:00Z'));
    // A calendar with no working time at all never comes due.
    expect(addBusinessMs({ calendar: { ...DEFAULT_CALENDAR, workingDays: [] }, timeZone: 'UTC' }, at('2026-12-01T00:00:00Z'), HOUR)).toBeNull();
  });

  it('reads wall times across daylight-saving changes (a skipped hour reads as after the jump)', () => {
    expect(new Date(localInstant('2027-03-28', 9 * 60, 'Europe/Berlin')).toISOString()).toBe('2027-03-28T07:00:00.000Z');
    expect(new Date(localInstant('2027-03-27', 9 * 60, 'Europe/Berlin')).toISOString()).toBe('2027-03-27T08:00:00.000Z');
    expect(new Date(localInstant('2027-03-28', 2 * 60 + 30, 'Europe/Berlin')).toISOString()).toBe('2027-03-28T01:30:00.000Z');
    expect(new Date(localInstant('2027-10-31', 2 * 60 + 30, 'Europe/Berlin')).toISOString()).toBe('2027-10-31T00:30:00.000Z');
    expect(zoneOffsetMs(at('2026-12-01T00:00:00Z'), 'Asia/Kolkata')).toBe(5.5 * HOUR);
    // A working day that loses an hour has one business hour less.
    const berlin = { calendar: { ...DEFAULT_CALENDAR, workingDays: [7], hours: [{ from: '00:00', to: '23:59' }] }, timeZone: 'Europe/Berlin' };
    expect(businessMsBetween(berlin, at('2027-03-27T12:00:00Z'), at('2027-03-29T12:00:00Z'))).toBe(22 * HOUR + 59 * MINUTE);
  });

  it('elapsed business time is monotonic, additive over splits, never more than the wall time; adding it back lands at or before the end', () => {
    fc.assert(
      fc.property(time, ordered(3), (t, [a, b, c]) => {
        const ab = businessMsBetween(t, a!, b!);
        const bc = businessMsBetween(t, b!, c!);
        const ac = businessMsBetween(t, a!, c!);
        expect(ac).toBe(ab + bc);
        expect(ab).toBeLessThanOrEqual(ac);
        expect(ac).toBeLessThanOrEqual(c! - a!);
        for (const span of businessSpans(t, a!, c!)) expect(span.from < span.to && span.from >= a! && span.to <= c!).toBe(true);
        if (ab > 0) {
          const back = addBusinessMs(t, a!, ab)!;
          expect(back).toBeLessThanOrEqual(b!);
          expect(businessMsBetween(t, a!, back)).toBe(ab);
        }
      }),
      { numRuns: 300 },
    );
  }, 30_000);

  it('adding business time is the inverse of measuring it, and later for more', () => {
    fc.assert(
      fc.property(time, instant, fc.integer({ min: 1, max: 60 * 40 }), fc.integer({ min: 0, max: 60 * 10 }), (t, from, minutes, more) => {
        const due = addBusinessMs(t, from, minutes * MINUTE);
        if (due === null) return;
        expect(businessMsBetween(t, from, due)).toBe(minutes * MINUTE);
        const later = addBusinessMs(t, from, (minutes + more) * MINUTE)!;
        expect(later).toBeGreaterThanOrEqual(due);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses overlapping hours, a span that ends before it starts, and a date that is both a holiday and a 调休 day', () => {
    expect(CalendarSchema.safeParse(DEFAULT_CALENDAR).success).toBe(true);
    expect(CalendarSchema.safeParse({ ...DEFAULT_CALENDAR, hours: [{ from: '18:00', to: '09:00' }] }).success).toBe(false);
    expect(CalendarSchema.safeParse({ ...DEFAULT_CALENDAR, hours: [{ from: '09:00', to: '13:00' }, { from: '12:00', to: '18:00' }] }).success).toBe(false);
    expect(CalendarSchema.safeParse({ ...DEFAULT_CALENDAR, holidays: [{ date: '2026-12-05' }], workingDates: [{ date: '2026-12-05' }] }).success).toBe(false);
    expect(CalendarSchema.safeParse({ ...DEFAULT_CALENDAR, workingDays: [1, 1] }).success).toBe(false);
  });
});

describe('SLA clocks', () => {
  const opened: ClockMark = { at: '2026-12-01T01:00:00.000Z', kind: 'opened' };

  it('waiting pauses the clock: the pause adds nothing, and time before and after it adds up', () => {
    fc.assert(
      fc.property(time, ordered(4, nearInstant), (t, [open, pause, resume, now]) => {
        const marks: ClockMark[] = [
          { at: new Date(open!).toISOString(), kind: 'opened' },
          { at: new Date(pause!).toISOString(), kind: 'paused' },
          { at: new Date(resume!).toISOString(), kind: 'resumed' },
        ];
        const reading = readClock(marks, 'resolution', 10, 0.8, t, now!);
        expect(reading.elapsedMs).toBe(businessMsBetween(t, open!, pause!) + businessMsBetween(t, resume!, now!));
        // Monotonic in time: a later reading never shows less elapsed.
        expect(readClock(marks, 'resolution', 10, 0.8, t, now! + HOUR).elapsedMs).toBeGreaterThanOrEqual(reading.elapsedMs);
        // While paused, the reading stands still.
        const paused = marks.slice(0, 2);
        expect(readClock(paused, 'resolution', 10, 0.8, t, resume!).elapsedMs).toBe(readClock(paused, 'resolution', 10, 0.8, t, pause!).elapsedMs);
      }),
      { numRuns: 200 },
    );
  }, 30_000);

  it('a running clock is due when its business time reaches the target, and warns at the share', () => {
    fc.assert(
      fc.property(time, instant, fc.integer({ min: 1, max: 80 }), (t, open, quarterHours) => {
        const hours = quarterHours / 4;
        const reading = readClock([{ at: new Date(open).toISOString(), kind: 'opened' }], 'resolution', hours, 0.8, t, open);
        if (reading.dueAt === null) return;
        expect(businessMsBetween(t, open, Date.parse(reading.dueAt))).toBe(Math.round(hours * HOUR));
        expect(businessMsBetween(t, open, Date.parse(reading.warnAt!))).toBe(Math.round(Math.round(hours * HOUR) * 0.8));
        expect(isBreached(readClock([{ at: new Date(open).toISOString(), kind: 'opened' }], 'resolution', hours, 0.8, t, Date.parse(reading.dueAt)))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('a first response stops its clock; resolving stops both; a reopen runs the resolution clock on from where it stood', () => {
    const marks: ClockMark[] = [opened, { at: '2026-12-01T02:00:00.000Z', kind: 'responded' }, { at: '2026-12-01T05:00:00.000Z', kind: 'resolved' }, { at: '2026-12-02T01:00:00.000Z', kind: 'reopened' }];
    expect(runningIntervals(marks, 'first_response')).toEqual({ intervals: [{ from: at('2026-12-01T01:00:00Z'), to: at('2026-12-01T02:00:00Z') }], paused: false, stopped: true });
    const resolution = readClock(marks, 'resolution', 8, 0.8, shanghai, at('2026-12-02T02:00:00Z'));
    expect(resolution).toMatchObject({ elapsedMs: 5 * HOUR, running: true, stopped: false, dueAt: '2026-12-02T05:00:00.000Z' });
    const first = readClock(marks, 'first_response', 2, 0.8, shanghai, at('2026-12-02T02:00:00Z'));
    expect(first).toMatchObject({ elapsedMs: HOUR, stopped: true, dueAt: null });
    expect(slaState([first, resolution], 0.8)).toBe('on_track');
    expect(slaState([first, readClock(marks.slice(0, 3), 'resolution', 8, 0.8, shanghai, at('2026-12-02T02:00:00Z'))], 0.8)).toBe('met');
    expect(slaState([first, readClock(marks.slice(0, 3), 'resolution', 4, 0.8, shanghai, at('2026-12-02T02:00:00Z'))], 0.8)).toBe('met');
    expect(slaState([first, readClock(marks.slice(0, 3), 'resolution', 3.99, 0.8, shanghai, at('2026-12-02T02:00:00Z'))], 0.8)).toBe('breached');
    expect(slaState([first, readClock([opened, { at: '2026-12-01T02:00:00.000Z', kind: 'paused' }], 'resolution', 8, 0.8, shanghai, at('2026-12-03T02:00:00Z'))], 0.8)).toBe('paused');
    expect(slaState([first, readClock([opened], 'resolution', 8, 0.8, shanghai, at('2026-12-01T08:00:00Z'))], 0.8)).toBe('at_risk');
  });

  it('explains itself: segments running, outside hours, paused and stopped, in order and without gaps', () => {
    const marks: ClockMark[] = [opened, { at: '2026-12-01T03:00:00.000Z', kind: 'paused' }, { at: '2026-12-02T02:00:00.000Z', kind: 'resumed' }, { at: '2026-12-02T12:00:00.000Z', kind: 'resolved' }];
    const segments = clockSegments(marks, shanghai, at('2026-12-03T00:00:00Z'));
    expect(segments.map((s) => s.kind)).toEqual(['running', 'paused', 'running', 'outside_hours', 'stopped']);
    for (const [i, segment] of segments.entries()) if (i > 0) expect(segment.from).toBe(segments[i - 1]!.to);
    expect(segments[0]!.from).toBe(opened.at);
    expect(segments.at(-1)!.to).toBe('2026-12-03T00:00:00.000Z');
  });

  it('picks the target of the priority and customer level, else the priority’s for any level; every priority needs one', () => {
    const policies = SlaPolicies.parse({
      warnAt: 0.75,
      targets: [
        { priority: 'urgent', firstResponseHours: 1, resolutionHours: 4 },
        { priority: 'urgent', customerLevel: 'A', firstResponseHours: 0.5, resolutionHours: 2 },
        { priority: 'high', firstResponseHours: 2, resolutionHours: 8 },
        { priority: 'normal', firstResponseHours: 4, resolutionHours: 24 },
        { priority: 'low', firstResponseHours: 8, resolutionHours: 40 },
      ],
    });
    expect(targetFor(policies, 'urgent', 'A').resolutionHours).toBe(2);
    expect(targetFor(policies, 'urgent', 'B').resolutionHours).toBe(4);
    expect(targetFor(policies, 'urgent', null).resolutionHours).toBe(4);
    expect(SlaPolicies.safeParse({ warnAt: 0.8, targets: [{ priority: 'low', firstResponseHours: 8, resolutionHours: 40 }] }).success).toBe(false);
    expect(SlaPolicies.safeParse({ ...policies, targets: [...policies.targets, { priority: 'low', firstResponseHours: 1, resolutionHours: 2 }] }).success).toBe(false);
    expect(SlaPolicies.safeParse({ ...policies, warnAt: 1 }).success).toBe(false);
    expect(SlaPolicies.safeParse({ ...policies, targets: [{ priority: 'low', firstResponseHours: 9, resolutionHours: 2 }] }).success).toBe(false);
  });

  it('reads warnings and targets crossed between pauses exactly, and says when a clock runs, waits or has stopped', () => {
    // Tuesday 09:00–10:00 local running, paused until Wednesday 09:00, running again: a 2 h target with warning at 1.6 h.
    const marks: ClockMark[] = [opened, { at: '2026-12-01T02:00:00.000Z', kind: 'paused' }, { at: '2026-12-02T01:00:00.000Z', kind: 'resumed' }];
    const running = readClock(marks, 'resolution', 2, 0.8, shanghai, at('2026-12-02T01:30:00Z'));
    expect(running).toMatchObject({ running: true, paused: false, stopped: false, elapsedMs: 1.5 * HOUR, dueAt: '2026-12-02T02:00:00.000Z', warnAt: '2026-12-02T01:36:00.000Z', remainingMs: 0.5 * HOUR });
    // Crossed inside a closed span (resolved after the due time): the instants are where the span crossed them.
    const resolvedLate = readClock([...marks, { at: '2026-12-02T03:00:00.000Z', kind: 'resolved' }], 'resolution', 2, 0.8, shanghai, at('2026-12-03T00:00:00Z'));
    expect(resolvedLate).toMatchObject({ running: false, stopped: true, paused: false, elapsedMs: 3 * HOUR, dueAt: '2026-12-02T02:00:00.000Z', warnAt: '2026-12-02T01:36:00.000Z', remainingMs: 0 });
    expect(isBreached(resolvedLate)).toBe(true);
    // Stopped before the warning: neither instant.
    const early = readClock([opened, { at: '2026-12-01T01:30:00.000Z', kind: 'resolved' }], 'resolution', 2, 0.8, shanghai, at('2026-12-03T00:00:00Z'));
    expect(early).toMatchObject({ running: false, stopped: true, dueAt: null, warnAt: null, elapsedMs: 0.5 * HOUR });
    expect(isBreached(early)).toBe(false);
    // Exactly at the target when it stopped: met; exactly at the warning share while running: at risk.
    const exact = readClock([opened, { at: '2026-12-01T03:00:00.000Z', kind: 'resolved' }], 'resolution', 2, 0.8, shanghai, at('2026-12-03T00:00:00Z'));
    expect(isBreached(exact)).toBe(false);
    expect(slaState([exact, exact], 0.8)).toBe('met');
    const atWarning = readClock([opened], 'resolution', 2, 0.8, shanghai, at('2026-12-01T02:36:00Z'));
    expect(slaState([atWarning], 0.8)).toBe('at_risk');
    expect(slaState([readClock([opened], 'resolution', 2, 0.8, shanghai, at('2026-12-01T02:35:00Z'))], 0.8)).toBe('on_track');
    // Waiting: paused, not running; the warning share crossed before the pause is still known.
    const waiting = readClock([opened, { at: '2026-12-01T02:50:00.000Z', kind: 'paused' }], 'resolution', 2, 0.8, shanghai, at('2026-12-02T00:00:00Z'));
    expect(waiting).toMatchObject({ running: false, paused: true, stopped: false, dueAt: null, warnAt: '2026-12-01T02:36:00.000Z' });
    // Marks before the ticket opened (none) start nothing.
    expect(runningIntervals([{ at: '2026-12-01T01:00:00.000Z', kind: 'resumed' }], 'resolution').intervals).toEqual([]);
    expect(readClock([], 'resolution', 2, 0.8, shanghai, at('2026-12-01T02:00:00Z'))).toMatchObject({ running: false, elapsedMs: 0, dueAt: null });
  });

  it('segments merge what touches, stop at resolution, pause until now when still waiting, and keep the latest when too many', () => {
    expect(clockSegments([], shanghai, at('2026-12-03T00:00:00Z'))).toEqual([]);
    const waitingNow = clockSegments([opened, { at: '2026-12-01T02:00:00.000Z', kind: 'paused' }], shanghai, at('2026-12-02T00:00:00Z'));
    expect(waitingNow).toEqual([
      { from: '2026-12-01T01:00:00.000Z', to: '2026-12-01T02:00:00.000Z', kind: 'running' },
      { from: '2026-12-01T02:00:00.000Z', to: '2026-12-02T00:00:00.000Z', kind: 'paused' },
    ]);
    // Resolved while waiting: the pause ends there and the rest is stopped.
    const resolvedWaiting = clockSegments([opened, { at: '2026-12-01T02:00:00.000Z', kind: 'paused' }, { at: '2026-12-01T04:00:00.000Z', kind: 'resolved' }], shanghai, at('2026-12-01T06:00:00Z'));
    expect(resolvedWaiting.map((segment) => `${segment.kind} ${segment.from.slice(11, 16)}-${segment.to.slice(11, 16)}`)).toEqual(['running 01:00-02:00', 'paused 02:00-04:00', 'stopped 04:00-06:00']);
    // Over a night: running until 18:00 local, outside hours until 09:00, running again.
    const overnight = clockSegments([opened], shanghai, at('2026-12-02T02:00:00Z'));
    expect(overnight.map((segment) => segment.kind)).toEqual(['running', 'outside_hours', 'running']);
    expect(overnight[1]).toEqual({ from: '2026-12-01T10:00:00.000Z', to: '2026-12-02T01:00:00.000Z', kind: 'outside_hours' });
    const many = clockSegments([opened], shanghai, at('2026-12-31T00:00:00Z'), 5);
    expect(many).toHaveLength(5);
    expect(many.at(-1)!.to).toBe('2026-12-31T00:00:00.000Z');
  });

  it('a level’s target is its priority’s only; the policies say what is wrong where', () => {
    const policies = SlaPolicies.parse({
      warnAt: 0.8,
      targets: [
        { priority: 'urgent', firstResponseHours: 1, resolutionHours: 4 },
        { priority: 'high', customerLevel: 'A', firstResponseHours: 0.5, resolutionHours: 1 },
        { priority: 'high', firstResponseHours: 2, resolutionHours: 8 },
        { priority: 'normal', firstResponseHours: 4, resolutionHours: 24 },
        { priority: 'low', firstResponseHours: 8, resolutionHours: 40 },
      ],
    });
    expect(targetFor(policies, 'urgent', 'A').resolutionHours).toBe(4);
    expect(targetFor(policies, 'high', 'A').resolutionHours).toBe(1);
    const issues = (value: unknown) => {
      const parsed = SlaPolicies.safeParse(value);
      return parsed.success ? [] : parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    };
    expect(issues({ ...policies, targets: [...policies.targets, { priority: 'high', customerLevel: 'A', firstResponseHours: 1, resolutionHours: 2 }] })).toEqual([{ path: 'targets.5', message: 'A second target for high and level A' }]);
    expect(issues({ ...policies, targets: [...policies.targets, { priority: 'low', firstResponseHours: 1, resolutionHours: 2 }] })).toEqual([{ path: 'targets.5', message: 'A second target for low' }]);
    expect(issues({ ...policies, targets: policies.targets.filter((target) => target.priority !== 'normal') })).toEqual([{ path: 'targets', message: 'No target for priority normal at any customer level' }]);
    expect(issues({ ...policies, targets: [...policies.targets.slice(0, 4), { priority: 'low', firstResponseHours: 9, resolutionHours: 8 }] })).toEqual([{ path: 'targets.4.firstResponseHours', message: 'A first response comes no later than the resolution' }]);
    expect(issues({ ...policies, targets: [...policies.targets.slice(0, 4), { priority: 'low', firstResponseHours: 8, resolutionHours: 8 }] })).toEqual([]);
  });
});
