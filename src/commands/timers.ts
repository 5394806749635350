import type { ChainVerifier } from '../infra/eventstore/chain.ts';
import { WrongExpectedRevisionError } from '../infra/eventstore/port.ts';
import type { RetentionPeriods } from './retention.ts';
import { RunCompleted, RunScheduled, scheduleStream } from '../domain/schedule/index.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { Mailer } from '../infra/mail/port.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { onceFactEvent } from './pipeline.ts';

/** One thing due at a time: a reminder, an SLA warning, a digest. */
export interface DueItem {
  timer: string;
  /** Unique within the timer, e.g. the task id. */
  key: string;
  /** ISO-8601 UTC. */
  dueAt: string;
  data: Record<string, unknown>;
}

/** What one event does to a timer's due items: schedule (or move) some, cancel others. */
export interface TimerPlan {
  schedule?: { key: string; dueAt: string; data?: Record<string, unknown> }[];
  cancel?: string[];
}

/**
 * A timer, declared by the module that needs it (ARCHITECTURE.md, "Time, processes and roles"). The timers read
 * model follows `categories` and keeps, per key, when the item is due (`plan`). When the item falls due, the
 * worker calls `fire` with request facts whose request id is derived from (timer, key, due time): a command
 * run with them appends its events once, and a second attempt (a crash, a restart after the due time, a second
 * worker) is recognised by that request id and writes nothing. `fire` re-checks the record (a task done
 * meanwhile is not reminded); the events it appends should make `plan` cancel or move the item.
 */
export interface TimerSpec {
  name: string;
  categories: readonly string[];
  plan(event: RecordedEvent): TimerPlan | undefined;
  fire(deps: CommandDeps, item: DueItem, meta: RequestMeta, ports: TimerPorts): Promise<void>;
}

/** What a firing may read and send through besides the event store: the read models, the mail port, the campaign sender. */
export interface TimerPorts {
  readStore: ReadStore;
  mailer: Mailer;
  /** Starts (or joins) a campaign's send in the background; without it the send resumes at the next start. */
  sendCampaign?: (campaignId: string) => void;
  /** The signed unsubscribe link of an address an automation (`key`) mails. */
  unsubscribeLink?: (email: string, key: string) => string;
  /** The event store's hash chain, where it keeps one (the daily anchors). */
  chain?: ChainVerifier;
  /** How long short-lived streams are kept (the retention run). */
  retention?: RetentionPeriods;
}

/** The request id a firing runs under: the same for every attempt at the same item and due time. */
export const firingRequestId = (item: Pick<DueItem, 'timer' | 'key' | 'dueAt'>): string => `timer:${item.timer}:${item.key}:${item.dueAt}`;

/**
 * Recurring work (see domain/schedule): a timer whose item `run` is due when the last `RunScheduled` of its name
 * says. `scheduleNextRun` appends that fact, once per request (its id comes from the request); `no_stream` starts a
 * chain only if none was ever started.
 */
export const plannedRun = (name: string, event: RecordedEvent): TimerPlan | undefined => {
  if (event.type !== 'RunScheduled') return undefined;
  const data = RunScheduled.parse(event.data);
  return data.name === name ? { schedule: [{ key: 'run', dueAt: data.nextAt }] } : undefined;
};

/**
 * Starts a recurring run's chain on the first start of a version that has it: its first run at what `firstAt`
 * answers (null: not to be started). False when it was started before (here, or by another instance just now).
 */
export async function startRecurringRun(deps: CommandDeps, name: string, firstAt: () => Promise<string | null>, actor: Actor, meta: RequestMeta): Promise<boolean> {
  if ((await deps.eventStore.readStream(scheduleStream(name), { maxCount: 1 })).length > 0) return false;
  const nextAt = await firstAt();
  if (nextAt === null) return false;
  try {
    await scheduleNextRun(deps, name, nextAt, actor, meta, 'no_stream');
    return true;
  } catch (error) {
    if (error instanceof WrongExpectedRevisionError) return false;
    throw error;
  }
}

export async function scheduleNextRun(deps: CommandDeps, name: string, nextAt: string, actor: Actor, meta: RequestMeta, expected: 'any' | 'no_stream' = 'any'): Promise<void> {
  const stream = scheduleStream(name);
  await deps.eventStore.append(stream, [onceFactEvent(deps, meta, actor.userId, stream, { type: 'RunScheduled', data: { name, nextAt } })], expected);
}

/**
 * One-off work a timer does once per cause (a recomputation after a setting changed): each cause schedules its own
 * key; `completeRun` records that the key's work is done, and `completedRun` cancels it from that fact.
 */
export async function completeRun(deps: CommandDeps, name: string, key: string, actor: Actor, meta: RequestMeta): Promise<void> {
  const stream = scheduleStream(name);
  await deps.eventStore.append(stream, [onceFactEvent(deps, meta, actor.userId, stream, { type: 'RunCompleted', data: { name, key } })], 'any');
}

export const completedRun = (name: string, event: RecordedEvent): TimerPlan | undefined => {
  if (event.type !== 'RunCompleted') return undefined;
  const data = RunCompleted.parse(event.data);
  return data.name === name ? { cancel: [data.key] } : undefined;
};
