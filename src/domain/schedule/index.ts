import { z } from 'zod';
import { localDate, startOfLocalDay } from '../company/index.ts';

/**
 * Recurring work (a nightly re-evaluation, a morning digest) keeps its next run as a fact: each run ends by
 * appending when the next one is due, which the timers read model schedules. Nothing runs until a first fact
 * (a setting saved) starts the chain; a restart after the due time runs it once.
 */
export const scheduleCategory = 'schedule';
export const scheduleStream = (name: string): string => `${scheduleCategory}-${name}`;
export const RunScheduled = z.object({ name: z.string(), nextAt: z.string() });
/** A digest mailed to one person for one day (recorded so that a retried run mails nobody twice). */
export const DigestMailed = z.object({ day: z.iso.date(), employeeId: z.string(), messageId: z.string() });

/** A local time of day, HH:MM (24 h). */
export const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'Expected a time of day, HH:MM (24 h)');

/** The first instant after `after` at which it is `time` (HH:MM) in `timeZone`. */
export function nextDailyAt(time: string, timeZone: string, after: Date): string {
  const [hours, minutes] = time.split(':').map(Number) as [number, number];
  let day = localDate(after, timeZone);
  for (let i = 0; i < 3; i++) {
    // The local day's start plus the time of day (a day with a daylight-saving change is off by its shift for the hours after it).
    const at = new Date(Date.parse(startOfLocalDay(day, timeZone)) + (hours * 60 + minutes) * 60_000);
    if (at > after) return at.toISOString();
    day = new Date(Date.parse(`${day}T00:00:00.000Z`) + 86_400_000).toISOString().slice(0, 10);
  }
  throw new Error(`No ${time} in ${timeZone} after ${after.toISOString()}`);
}
