import { z } from 'zod';

const zoneExists = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** The company's settings every module reads: where its days begin and end, and the money it keeps books in. */
export const CompanySettings = z
  .object({
    timeZone: z.string().min(1).max(64).refine(zoneExists, 'Expected an IANA time zone, e.g. Asia/Shanghai').describe('IANA time zone; day and month report counters and dates on documents follow it'),
    currency: z.string().regex(/^[A-Z]{3}$/, 'Expected an ISO 4217 code, e.g. CNY').describe('The default currency (ISO 4217)'),
  })
  .strict()
  .meta({ id: 'CompanySettings' });
export type CompanySettings = z.infer<typeof CompanySettings>;

export const DEFAULT_COMPANY: CompanySettings = { timeZone: 'Asia/Shanghai', currency: 'CNY' };
export const COMPANY_SETTING_KEY = 'company';

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at an instant, in milliseconds (east positive). */
export function zoneOffsetMs(at: number, timeZone: string): number {
  let format = offsetFormats.get(timeZone);
  if (!format)
    offsetFormats.set(timeZone, (format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })));
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(at))) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wall - Math.floor(at / 1000) * 1000;
}

/** The local date (YYYY-MM-DD) of an instant at a known offset. */
const dateAtOffset = (at: number, offsetMs: number): string => new Date(at + offsetMs).toISOString().slice(0, 10);

/** Per zone, the date of each UTC hour seen whose instants all fall on one date at one offset (null: one that does not). */
const hourDates = new Map<string, Map<number, string | null>>();
const HOUR_MS = 3_600_000;
/** Hours remembered per zone before the memo starts again (about eleven years of hours). */
const HOURS_KEPT = 100_000;

/**
 * The date every instant of a UTC hour falls on in `timeZone`, or null when the hour holds a change of date or
 * of offset (its instants are then dated one by one). The offset holds all hour exactly when it is the same at
 * the hour's first and last instant (offsets change at most once an hour); then the date holds when it is the
 * same at both ends.
 */
function dateOfHour(hour: number, timeZone: string): string | null {
  let dates = hourDates.get(timeZone);
  if (!dates) hourDates.set(timeZone, (dates = new Map()));
  let date = dates.get(hour);
  if (date === undefined) {
    const first = hour * HOUR_MS;
    const last = first + HOUR_MS - 1;
    const offset = zoneOffsetMs(first, timeZone);
    date = zoneOffsetMs(last, timeZone) === offset && dateAtOffset(first, offset) === dateAtOffset(last, offset) ? dateAtOffset(first, offset) : null;
    if (dates.size >= HOURS_KEPT) dates.clear();
    dates.set(hour, date);
  }
  return date;
}

/** The calendar date (YYYY-MM-DD) an instant falls on in `timeZone` (a replay looks up each UTC hour about once). */
export function localDate(iso: string | Date, timeZone: string): string {
  const at = typeof iso === 'string' ? Date.parse(iso) : iso.getTime();
  return dateOfHour(Math.floor(at / HOUR_MS), timeZone) ?? dateAtOffset(at, zoneOffsetMs(at, timeZone));
}

/** The day before a day (YYYY-MM-DD). */
export const previousDay = (date: string): string => new Date(Date.parse(`${date}T00:00:00.000Z`) - 86_400_000).toISOString().slice(0, 10);

/** The day after a day (YYYY-MM-DD). */
export const nextDay = (date: string): string => new Date(Date.parse(`${date}T00:00:00.000Z`) + 86_400_000).toISOString().slice(0, 10);

/** The UTC instant a local day (YYYY-MM-DD in `timeZone`) starts at: the first instant whose local date is that day. */
export function startOfLocalDay(date: string, timeZone: string): string {
  // Local midnight is within a day of UTC midnight: find the hour at which the local date turns, then the quarter
  // hour (offsets such as +05:30 and +05:45 turn between whole hours).
  const base = Date.parse(`${date}T00:00:00.000Z`);
  const turned = (ms: number) => localDate(new Date(ms), timeZone) >= date;
  for (let hours = -26; hours <= 14; hours++) {
    const at = base + hours * 3_600_000;
    if (!turned(at)) continue;
    let start = at;
    while (turned(start - 900_000)) start -= 900_000;
    return new Date(start).toISOString();
  }
  return new Date(base).toISOString();
}
