import { z } from 'zod';
import { localDate } from '../company/index.ts';
import { shiftDays } from '../shared/periods.ts';
import { nextDailyAt, TimeOfDay } from './index.ts';

/**
 * A scheduled report mail (定时报表): a report of the period just ended, mailed at a time of day (company time) every
 * day, every week on a weekday (1 = Monday … 7 = Sunday), or every month on a day (1–28), to some employees, each
 * seeing their own data scope.
 */
export const ReportSchedule = z
  .object({
    key: z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'a key of lower-case letters, digits, _ and -'),
    report: z.literal('kpi').describe('The report mailed: the KPIs with the previous period and last year'),
    every: z.enum(['day', 'week', 'month']).describe('day: yesterday; week: last week (Monday to Sunday); month: last month'),
    weekday: z.number().int().min(1).max(7).optional().describe('For every week: 1 = Monday … 7 = Sunday'),
    day: z.number().int().min(1).max(28).optional().describe('For every month: the day of the month'),
    time: TimeOfDay.describe('When, in the company time zone (HH:MM)'),
    recipients: z.array(z.string().min(1).max(100)).min(1).max(100).describe('Employee ids; each gets the report of their own data scope'),
  })
  .strict()
  .refine((s) => s.every !== 'week' || s.weekday !== undefined, { message: 'every week needs a weekday (1 = Monday … 7 = Sunday)', path: ['weekday'] })
  .refine((s) => s.every !== 'month' || s.day !== undefined, { message: 'every month needs a day (1–28)', path: ['day'] });
export type ReportSchedule = z.infer<typeof ReportSchedule>;

export const ReportMailSettings = z
  .object({ schedules: z.array(ReportSchedule).max(50) })
  .strict()
  .refine((s) => new Set(s.schedules.map((schedule) => schedule.key)).size === s.schedules.length, { message: 'each schedule needs a key of its own', path: ['schedules'] })
  .meta({ id: 'ReportMailSettings', examples: [{ schedules: [{ key: 'weekly-kpi', report: 'kpi', every: 'week', weekday: 1, time: '08:00', recipients: ['0193…'] }] }] });
export type ReportMailSettings = z.infer<typeof ReportMailSettings>;

/** A report mailed to one recipient for one occurrence of a schedule (a retried run mails nobody twice). */
export const ReportMailed = z.object({ schedule: z.string(), on: z.iso.date(), employeeId: z.string(), messageId: z.string() });

/** 1 = Monday … 7 = Sunday, of a date (YYYY-MM-DD). */
const weekdayOf = (date: string) => ((new Date(`${date}T00:00:00.000Z`).getUTCDay() + 6) % 7) + 1;

/** Whether a schedule runs on a local date. */
const runsOn = (schedule: Pick<ReportSchedule, 'every' | 'weekday' | 'day'>, date: string) =>
  schedule.every === 'day' || (schedule.every === 'week' ? weekdayOf(date) === schedule.weekday : Number(date.slice(8, 10)) === schedule.day);

/** The first instant after `after` at which a schedule runs. */
export function nextOccurrence(schedule: Pick<ReportSchedule, 'every' | 'weekday' | 'day' | 'time'>, timeZone: string, after: Date): string {
  let at = nextDailyAt(schedule.time, timeZone, after);
  // At most a month of days ahead (day 1–28 comes in every month).
  for (let i = 0; i < 32 && !runsOn(schedule, localDate(at, timeZone)); i++) at = nextDailyAt(schedule.time, timeZone, new Date(at));
  return at;
}


/** The period just ended that a run on a local date reports: yesterday, last week (Monday to Sunday), last month. */
export function reportedPeriod(every: ReportSchedule['every'], date: string): { from: string; to: string } {
  if (every === 'day') return { from: shiftDays(date, -1), to: date };
  if (every === 'week') {
    const monday = shiftDays(date, 1 - weekdayOf(date));
    return { from: shiftDays(monday, -7), to: monday };
  }
  const first = `${date.slice(0, 7)}-01`;
  const previous = shiftDays(first, -1).slice(0, 7);
  return { from: `${previous}-01`, to: first };
}
