import { z } from 'zod';
import { activityCategory, type ActivityEvent, type ActivityFields } from '../domain/activity/index.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { Doc, ReadStore } from '../infra/readstore/port.ts';

/**
 * What a customer, contact or opportunity shows of the activities logged on it: when it was last contacted, and
 * how many activities it had in the last 30 days. The read model keeps a count per UTC day of the last 31 days
 * (`_activityDays`, never shown); the 30-day count is summed from it when the record is read, so it is right on
 * any day without a write.
 */
export const ACTIVITY_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

export interface ActivityStats {
  lastContactedAt?: string;
  _activityDays?: Record<string, number>;
}

/** What a projection keeps of each activity, to know what a change or a removal takes away. */
export type ActivityMirrorDoc = Doc & { customerId: string; contactId?: string; opportunityId?: string; occurredAt: string; _position: number };
export type ActivityTarget = 'customerId' | 'contactId' | 'opportunityId';

export const isActivityEvent = (event: RecordedEvent): event is RecordedEvent & ActivityEvent => event.streamId.startsWith(`${activityCategory}-`);

const dayOf = (iso: string) => iso.slice(0, 10);

/** The day counts with one activity on `occurredAt` added (+1) or taken away (-1), keeping the days since `now` - 31 days. */
export function countedDays(days: Record<string, number> | undefined, occurredAt: string, delta: 1 | -1, now: string): Record<string, number> {
  const oldest = dayOf(new Date(new Date(now).getTime() - (ACTIVITY_WINDOW_DAYS + 1) * DAY_MS).toISOString());
  const next: Record<string, number> = {};
  for (const [day, count] of Object.entries(days ?? {})) if (day >= oldest) next[day] = count;
  const day = dayOf(occurredAt);
  if (day >= oldest) {
    const count = (next[day] ?? 0) + delta;
    if (count > 0) next[day] = count;
    else delete next[day];
  }
  return next;
}

/** Activities in the 30 days up to `now` (today and the 29 before it, UTC). */
export function activitiesInWindow(days: Record<string, number> | undefined, now: Date): number {
  const from = dayOf(new Date(now.getTime() - (ACTIVITY_WINDOW_DAYS - 1) * DAY_MS).toISOString());
  let total = 0;
  for (const [day, count] of Object.entries(days ?? {})) if (day >= from) total += count;
  return total;
}

/** The fields a record with activities answers with (OpenAPI). */
export const activityStatsShape = {
  lastContactedAt: z.string().optional().describe('When the last activity (call, visit…) with it took place'),
  activitiesLast30Days: z.number().int().optional().describe('Activities logged on it in the last 30 days (today included, UTC days)'),
};

/** A record's answer with its 30-day activity count (read time: it changes with the days, not only with events). */
export const withActivityCount = <T extends Record<string, unknown>>(doc: T, now: Date): T & { activitiesLast30Days: number } => ({
  ...doc,
  activitiesLast30Days: activitiesInWindow(doc._activityDays as Record<string, number> | undefined, now),
});

/**
 * Applies an activity event to a projection's mirror of the activities (`collection`): what the activity was
 * before the event and what it is after (null: none). `applied` when the mirror has it already (a replay).
 */
export async function mirrorActivity(store: ReadStore, collection: string, event: RecordedEvent & ActivityEvent): Promise<{ applied: boolean; before: ActivityMirrorDoc | null; after: ActivityMirrorDoc | null }> {
  const mirror = store.collection<ActivityMirrorDoc>(collection);
  const id = event.data.activityId;
  const before = await mirror.findOne({ _id: id });
  const position = Number(event.position);
  if (before && before._position >= position) return { applied: true, before, after: before };
  let after: ActivityMirrorDoc | null = null;
  if (event.type === 'ActivityLogged') after = mirrored(id, event.data.fields, position);
  else if (event.type === 'ActivityChanged' && before) {
    const changes = event.data.changes as Partial<Record<'customerId' | 'contactId' | 'opportunityId' | 'occurredAt', string | null>>;
    const next = { ...before, _position: position };
    // (Its customer changes only when that customer is merged into another one.)
    for (const field of ['customerId', 'contactId', 'opportunityId', 'occurredAt'] as const) {
      if (!(field in changes)) continue;
      if (changes[field] === null) delete next[field];
      else next[field] = changes[field] as string;
    }
    after = next;
  }
  if (after) await mirror.replaceOne({ _id: id }, after, { upsert: true });
  else if (before) await mirror.deleteOne({ _id: id });
  return { applied: false, before, after };
}

const mirrored = (id: string, fields: ActivityFields, position: number): ActivityMirrorDoc => ({
  _id: id,
  customerId: fields.customerId,
  ...(fields.contactId ? { contactId: fields.contactId } : {}),
  ...(fields.opportunityId ? { opportunityId: fields.opportunityId } : {}),
  occurredAt: fields.occurredAt,
  _position: position,
});

/**
 * A record's stats after an activity event, for the record `id` its `field` names: the activity counted off the
 * day it was on and onto the day it is on, and the last contact moved forward (or, when an activity went away or
 * moved back, found again among the mirrored ones). `base` is the time the record's clock starts from.
 */
export async function statsAfter(
  store: ReadStore,
  collection: string,
  field: ActivityTarget,
  id: string,
  current: ActivityStats,
  change: { before: ActivityMirrorDoc | null; after: ActivityMirrorDoc | null },
  now: string,
  base?: string,
): Promise<ActivityStats> {
  const was = change.before?.[field] === id ? change.before : null;
  const is = change.after?.[field] === id ? change.after : null;
  let days = current._activityDays;
  if (was) days = countedDays(days, was.occurredAt, -1, now);
  if (is) days = countedDays(days, is.occurredAt, 1, now);
  let last = current.lastContactedAt;
  if (was && (!is || is.occurredAt < was.occurredAt)) {
    const [latest] = await store.collection<ActivityMirrorDoc>(collection).find({ [field]: id }, { sort: { occurredAt: -1 }, limit: 1 });
    last = [base, latest?.occurredAt].filter((t): t is string => t !== undefined).sort().pop();
  } else if (is && (!last || is.occurredAt > last)) last = is.occurredAt;
  return { ...(last ? { lastContactedAt: last } : {}), _activityDays: days ?? {} };
}
