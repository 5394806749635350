import { z } from 'zod';
import { localDate, nextDay, startOfLocalDay } from '../company/index.ts';

/**
 * Recurring work (a nightly re-evaluation, a morning digest) keeps its next run as a fact: each run ends by
 * appending when the next one is due, which the timers read model schedules. Nothing runs until a first fact
 * (a setting saved) starts the chain; a restart after the due time runs it once.
 */
export const scheduleCategory = 'schedule';
export const scheduleStream = (name: string): string => `${scheduleCategory}-${name}`;
export const RunScheduled = z.object({ name: z.string(), nextAt: z.string() });
/** A one-off run (a recomputation after a setting changed) finished: its timer item is done. */
export const RunCompleted = z.object({ name: z.string(), key: z.string() });
/** A digest mailed to one person for one day (recorded so that a retried run mails nobody twice). */
export const DigestMailed = z.object({ day: z.iso.date(), employeeId: z.string(), messageId: z.string() });

/** A local time of day, HH:MM (24 h). */
export const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'Expected a time of day, HH:MM (24 h)');

/** The first instant after `after` at which it is `time` (HH:MM) in `timeZone`: today's, or else tomorrow's. */
export function nextDailyAt(time: string, timeZone: string, after: Date): string {
  const [hours, minutes] = time.split(':').map(Number) as [number, number];
  // The local day's start plus the time of day (on a day with a daylight-saving change, off by the shift after it).
  const on = (day: string) => new Date(Date.parse(startOfLocalDay(day, timeZone)) + (hours * 60 + minutes) * 60_000);
  const today = localDate(after, timeZone);
  const first = on(today);
  // Tomorrow's is always later: `after` is before tomorrow starts.
  return (first > after ? first : on(nextDay(today))).toISOString();
}
