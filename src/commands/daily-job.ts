import { nextDailyAt, scheduleCategory } from '../domain/schedule/index.ts';
import { companySettings } from './company.ts';
import type { CommandDeps, RequestMeta } from './context.ts';
import { systemActor } from './employees.ts';
import { plannedRun, scheduleNextRun, startRecurringRun, type TimerPorts, type TimerSpec } from './timers.ts';

/**
 * A job the service itself runs every day at a time of the company's day (HH:MM in its time zone): its timer,
 * which does the work and then schedules the next run, and its start, which schedules the first run once (on
 * the first start of a version that has the job).
 */
export function dailyJob(name: string, at: string, work: (deps: CommandDeps, context: { meta: RequestMeta; ports: TimerPorts; now: Date; timeZone: string }) => Promise<void>) {
  const timeZone = async (deps: CommandDeps) => (await companySettings(deps)).settings.timeZone;
  const timer: TimerSpec = {
    name,
    categories: [scheduleCategory],
    plan: (event) => plannedRun(name, event),
    async fire(deps, _item, meta, ports) {
      const now = deps.clock.now();
      const zone = await timeZone(deps);
      await work(deps, { meta, ports, now, timeZone: zone });
      await scheduleNextRun(deps, name, nextDailyAt(at, zone, now), systemActor, { ...meta, requestId: `${meta.requestId}:next` });
    },
  };
  const start = (deps: CommandDeps, meta: RequestMeta): Promise<boolean> => startRecurringRun(deps, name, async () => nextDailyAt(at, await timeZone(deps), deps.clock.now()), systemActor, meta);
  return { timer, start };
}
