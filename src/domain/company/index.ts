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

const formats = new Map<string, Intl.DateTimeFormat>();
const wallClocks = new Map<string, Intl.DateTimeFormat>();
/** Per zone, the date of each UTC hour seen whose instants all fall on one date at one offset (null: one that does not). */
const hourDates = new Map<string, Map<number, string | null>>();
const HOUR_MS = 3_600_000;
/** Hours remembered per zone before the memo starts again (about eleven years of hours). */
const HOURS_KEPT = 100_000;

const formatIn = (timeZone: string): Intl.DateTimeFormat => {
  let format = formats.get(timeZone);
  if (!format) formats.set(timeZone, (format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  return format;
};

/** The wall clock in `timeZone` at an instant: its date and the minute of its day. */
function wallClock(ms: number, timeZone: string): { date: string; minute: number } {
  let format = wallClocks.get(timeZone);
  if (!format) wallClocks.set(timeZone, (format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })));
  const parts: Record<string, string> = {};
  for (const part of format.formatToParts(ms)) parts[part.type] = part.value;
  return { date: `${parts.year}-${parts.month}-${parts.day}`, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

/**
 * The date every instant of a UTC hour falls on in `timeZone`, or null when the hour holds a change of date or
 * of offset (its instants are then formatted one by one). Its last minute reads 59 minutes after its first on
 * the same date exactly when the offset held all hour (offsets change at most once an hour) and no midnight
 * fell inside it.
 */
function dateOfHour(hour: number, timeZone: string): string | null {
  let dates = hourDates.get(timeZone);
  if (!dates) hourDates.set(timeZone, (dates = new Map()));
  let date = dates.get(hour);
  if (date === undefined) {
    const first = wallClock(hour * HOUR_MS, timeZone);
    const last = wallClock(hour * HOUR_MS + HOUR_MS - 1, timeZone);
    date = first.date === last.date && last.minute - first.minute === 59 ? first.date : null;
    if (dates.size >= HOURS_KEPT) dates.clear();
    dates.set(hour, date);
  }
  return date;
}

/** The calendar date (YYYY-MM-DD) an instant falls on in `timeZone` (a replay formats each UTC hour about once). */
export function localDate(iso: string | Date, timeZone: string): string {
  const ms = typeof iso === 'string' ? Date.parse(iso) : iso.getTime();
  if (Number.isFinite(ms)) {
    const date = dateOfHour(Math.floor(ms / HOUR_MS), timeZone);
    if (date !== null) return date;
  }
  return formatIn(timeZone).format(typeof iso === 'string' ? new Date(iso) : iso);
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
