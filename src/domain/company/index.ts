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
/** Dates of recent UTC minutes per zone (every zone's offset today is whole minutes): a replay formats each minute once. */
const minutes = new Map<string, string>();
const UTC_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$/;

/** The calendar date (YYYY-MM-DD) an instant falls on in `timeZone`. */
export function localDate(iso: string | Date, timeZone: string): string {
  const key = typeof iso === 'string' && UTC_INSTANT.test(iso) ? `${timeZone} ${iso.slice(0, 16)}` : undefined;
  const known = key && minutes.get(key);
  if (known) return known;
  let format = formats.get(timeZone);
  if (!format) formats.set(timeZone, (format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  const date = format.format(typeof iso === 'string' ? new Date(iso) : iso);
  if (key) {
    if (minutes.size >= 4096) minutes.clear();
    minutes.set(key, date);
  }
  return date;
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
