import { EventsExpired, retentionStream } from '../domain/audit/index.ts';
import { idempotencyCategory, loginCategory, notificationCategory } from '../domain/categories.ts';
import { localDate } from '../domain/company/index.ts';
import { companySettings } from './company.ts';
import type { CommandDeps, RequestMeta } from './context.ts';
import { systemActor } from './employees.ts';
import { onceFactEvent } from './pipeline.ts';
import { dailyJob } from './daily-job.ts';

const TIMER = 'retention';
/** When, in the company's time zone, expired events are removed. */
const RUN_AT = '03:00';

/** How long each kind of short-lived stream is kept, in hours (0: forever). */
export interface RetentionPeriods {
  loginHours: number;
  idempotencyHours: number;
  notificationHours: number;
}

/** The periods the configuration sets; an idempotency key is kept at least a day past its replay window. */
export const retentionPeriods = (config: { CRM_RETENTION_LOGIN_DAYS: number; CRM_RETENTION_IDEMPOTENCY_DAYS: number; CRM_RETENTION_NOTIFICATION_DAYS: number; CRM_IDEMPOTENCY_TTL_HOURS: number }): RetentionPeriods => ({
  loginHours: config.CRM_RETENTION_LOGIN_DAYS * 24,
  idempotencyHours: config.CRM_RETENTION_IDEMPOTENCY_DAYS === 0 ? 0 : Math.max(config.CRM_RETENTION_IDEMPOTENCY_DAYS * 24, config.CRM_IDEMPOTENCY_TTL_HOURS + 24),
  notificationHours: config.CRM_RETENTION_NOTIFICATION_DAYS * 24,
});

/** Each category with a retention period, and the period in hours (0: kept for ever). */
const periodsByCategory = (periods: RetentionPeriods) =>
  [
    [loginCategory, periods.loginHours],
    [idempotencyCategory, periods.idempotencyHours],
    [notificationCategory, periods.notificationHours],
  ] as const;

/** The periods in seconds by category, as EventStoreDB's `$maxAge` takes them (categories kept for ever left out). */
export const maxAgeSeconds = (periods: RetentionPeriods): Record<string, number> => Object.fromEntries(periodsByCategory(periods).filter(([, hours]) => hours > 0).map(([category, hours]) => [category, hours * 3_600]));

/**
 * Removes what the periods say has expired, through the event store's truncation (a store without one keeps
 * everything), and records each category's removal as an `EventsExpired` event of the day. Answers the removals.
 */
export async function applyRetention(deps: CommandDeps, periods: RetentionPeriods, meta: RequestMeta): Promise<EventsExpired[]> {
  const expire = deps.eventStore.expire;
  if (!expire) return [];
  const now = deps.clock.now();
  const day = localDate(now, (await companySettings(deps)).settings.timeZone);
  const done: EventsExpired[] = [];
  for (const [category, hours] of periodsByCategory(periods)) {
    if (hours === 0) continue;
    const before = new Date(now.getTime() - hours * 3_600_000).toISOString();
    const { expired } = await expire.call(deps.eventStore, category, before);
    if (expired === 0) continue;
    const removal = EventsExpired.parse({ category, before, expired });
    const stream = retentionStream(day);
    await deps.eventStore.append(stream, [onceFactEvent(deps, { ...meta, requestId: `${meta.requestId}:${category}` }, systemActor.userId, stream, { type: 'EventsExpired', data: removal })], 'any');
    done.push(removal);
  }
  return done;
}

/** Retention's job: at 03:00 company time, the expired events go, then the next run is scheduled. */
const nightly = dailyJob(TIMER, RUN_AT, async (deps, { meta, ports }) => {
  if (ports.retention) await applyRetention(deps, ports.retention, meta);
});
export const retentionTimer = nightly.timer;
/** Starts the nightly retention run on the first start of a version that has it. */
export const startRetention = nightly.start;
