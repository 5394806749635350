import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { CommandDeps, RequestMeta } from './context.ts';

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
  fire(deps: CommandDeps, item: DueItem, meta: RequestMeta): Promise<void>;
}

/** The request id a firing runs under: the same for every attempt at the same item and due time. */
export const firingRequestId = (item: Pick<DueItem, 'timer' | 'key' | 'dueAt'>): string => `timer:${item.timer}:${item.key}:${item.dueAt}`;
