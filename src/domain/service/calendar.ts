import { z } from 'zod';
import { TimeOfDay } from '../schedule/index.ts';
import { nextDay, previousDay as previousOf, zoneOffsetMs } from '../company/index.ts';

export { zoneOffsetMs };

const Day = z.iso.date();
const NamedDay = z.object({ date: Day, name: z.string().trim().min(1).max(100).optional() }).strict();

const minutesOf = (time: string): number => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

/**
 * The business calendar (工作日历) the SLA clocks run on, in the company's time zone: the working weekdays
 * (ISO: 1 Monday … 7 Sunday) and hours, holidays (days off that would be working days) and make-up working days
 * (调休: a weekend day worked in exchange for a holiday bridge).
 */
export const BusinessCalendar = z
  .object({
    workingDays: z
      .array(z.number().int().min(1).max(7))
      .max(7)
      .refine((days) => new Set(days).size === days.length, 'Each weekday once')
      .describe('ISO weekdays that are working days: 1 Monday … 7 Sunday'),
    hours: z
      .array(z.object({ from: TimeOfDay, to: TimeOfDay }).strict().refine((span) => minutesOf(span.from) < minutesOf(span.to), 'from comes before to'))
      .min(1)
      .max(8)
      .refine((spans) => spans.every((span, i) => i === 0 || minutesOf(spans[i - 1]!.to) <= minutesOf(span.from)), 'Spans in order, not overlapping')
      .describe('Working hours of a working day, e.g. 09:00–12:00 and 13:00–18:00'),
    holidays: z.array(NamedDay).max(500).describe('Days off (法定节假日)'),
    workingDates: z.array(NamedDay).max(500).describe('Make-up working days (调休): worked although their weekday is not a working day'),
  })
  .strict()
  .refine((calendar) => !calendar.holidays.some((holiday) => calendar.workingDates.some((day) => day.date === holiday.date)), { message: 'A date is either a holiday or a make-up working day', path: ['workingDates'] })
  .meta({ id: 'BusinessCalendar' });
export type BusinessCalendar = z.infer<typeof BusinessCalendar>;

/** Working days Monday to Friday, 09:00–18:00, no holidays: until an administrator sets the calendar. */
export const DEFAULT_CALENDAR: BusinessCalendar = { workingDays: [1, 2, 3, 4, 5], hours: [{ from: '09:00', to: '18:00' }], holidays: [], workingDates: [] };
export const CALENDAR_SETTING_KEY = 'business-calendar';

/** A calendar in a time zone, as the clock functions take it. */
export interface BusinessTime {
  calendar: BusinessCalendar;
  timeZone: string;
}

/** A span of time [from, to) in epoch milliseconds. */
export interface Span {
  from: number;
  to: number;
}

/**
 * The instant a local wall time (a day and minutes after its midnight) is in the zone. A wall time skipped by a
 * daylight-saving jump reads as the instant after the jump; one repeated reads as its first occurrence.
 */
export function localInstant(date: string, minutes: number, timeZone: string): number {
  const wall = Date.parse(`${date}T00:00:00.000Z`) + minutes * 60_000;
  // The offsets in force within a day of the wall time: an instant is right when its own offset maps it back.
  const offsets = [...new Set([zoneOffsetMs(wall - 86_400_000, timeZone), zoneOffsetMs(wall, timeZone), zoneOffsetMs(wall + 86_400_000, timeZone)])];
  const candidates = offsets.map((offset) => wall - offset).sort((a, b) => a - b);
  return candidates.find((at) => at + zoneOffsetMs(at, timeZone) === wall) ?? candidates[candidates.length - 1]!;
}

/** The local date an instant falls on in the zone (YYYY-MM-DD). */
export const dateIn = (at: number, timeZone: string): string => new Date(at + zoneOffsetMs(at, timeZone)).toISOString().slice(0, 10);

/** ISO weekday of a date: 1 Monday … 7 Sunday. */
const weekday = (date: string): number => ((new Date(`${date}T00:00:00.000Z`).getUTCDay() + 6) % 7) + 1;

/** Whether a local date is a working day of the calendar. */
export function isWorkingDate(calendar: BusinessCalendar, date: string): boolean {
  if (calendar.workingDates.some((day) => day.date === date)) return true;
  if (calendar.holidays.some((day) => day.date === date)) return false;
  return calendar.workingDays.includes(weekday(date));
}

const daySpans = new WeakMap<BusinessCalendar, Map<string, Span[]>>();

/** The working spans of a local date, as instants (none on a day off). */
export function workingSpans(time: BusinessTime, date: string): Span[] {
  let byDay = daySpans.get(time.calendar);
  if (!byDay) daySpans.set(time.calendar, (byDay = new Map()));
  const key = `${time.timeZone} ${date}`;
  let spans = byDay.get(key);
  if (!spans) {
    spans = isWorkingDate(time.calendar, date)
      ? time.calendar.hours.map((span) => ({ from: localInstant(date, minutesOf(span.from), time.timeZone), to: localInstant(date, minutesOf(span.to), time.timeZone) })).filter((span) => span.from < span.to)
      : [];
    if (byDay.size > 20_000) byDay.clear();
    byDay.set(key, spans);
  }
  return spans;
}

/** How far ahead (in days) a due time is looked for before it is called never (a calendar without working days). */
const HORIZON_DAYS = 3 * 366;

/** The working spans that meet [from, to), clipped to it, in order. */
export function businessSpans(time: BusinessTime, from: number, to: number): Span[] {
  const spans: Span[] = [];
  if (to <= from) return spans;
  // A local day's working hours lie within it; start a day early so a zone's offset never skips one.
  const last = dateIn(to, time.timeZone);
  for (let date = previousOf(dateIn(from, time.timeZone)); date <= last; date = nextDay(date)) {
    for (const span of workingSpans(time, date)) {
      const start = Math.max(span.from, from);
      const end = Math.min(span.to, to);
      if (start < end) spans.push({ from: start, to: end });
    }
  }
  return spans;
}

/** Business time between two instants, in milliseconds (0 when `to` is not after `from`). */
export const businessMsBetween = (time: BusinessTime, from: number, to: number): number => businessSpans(time, from, to).reduce((sum, span) => sum + span.to - span.from, 0);

/**
 * The instant at which `ms` of business time has passed since `from` (from itself when ms is 0); null when the
 * calendar has no working time within three years.
 */
export function addBusinessMs(time: BusinessTime, from: number, ms: number): number | null {
  if (ms <= 0) return from;
  let left = ms;
  let date = previousOf(dateIn(from, time.timeZone));
  for (let day = 0; day < HORIZON_DAYS; day++, date = nextDay(date)) {
    for (const span of workingSpans(time, date)) {
      const start = Math.max(span.from, from);
      if (start >= span.to) continue;
      if (span.to - start >= left) return start + left;
      left -= span.to - start;
    }
  }
  return null;
}
