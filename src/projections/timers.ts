import type { TimerSpec } from '../commands/timers.ts';
import { categoryOf } from '../infra/eventstore/port.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { alreadyApplied, type Projection } from './projection.ts';

export const TIMERS_DUE = 'timers_due';

/** One timer item: when it is due (null once cancelled; kept so a replay cannot bring it back out of order). */
export type DueDoc = { _id: string; timer: string; key: string; dueAt: string | null; data: Record<string, unknown>; _position: number };

/** The due-items read model of every declared timer: what is due when, rebuilt from the log like any read model. */
export function timersProjection(specs: readonly TimerSpec[]): Projection {
  return {
    name: 'timers',
    version: 1,
    categories: [...new Set(specs.flatMap((spec) => spec.categories))],
    collections: [TIMERS_DUE],
    async setup(store) {
      await store.collection(TIMERS_DUE).createIndex({ timer: 1 });
    },
    async apply(event, store) {
      const due = store.collection<DueDoc>(TIMERS_DUE);
      for (const spec of specs) {
        if (!spec.categories.includes(categoryOf(event.streamId))) continue;
        const plan = spec.plan(event);
        if (!plan) continue;
        // The last word per key wins (an event may cancel one item and schedule another, or move one).
        const changes = new Map<string, { dueAt: string | null; data: Record<string, unknown> }>();
        for (const key of plan.cancel ?? []) changes.set(key, { dueAt: null, data: {} });
        for (const item of plan.schedule ?? []) changes.set(item.key, { dueAt: item.dueAt, data: item.data ?? {} });
        for (const [key, change] of changes) {
          const id = `${spec.name}:${key}`;
          if (alreadyApplied(await due.findOne({ _id: id }), event)) continue;
          await due.replaceOne({ _id: id }, { _id: id, timer: spec.name, key, dueAt: change.dueAt, data: change.data, _position: Number(event.position) }, { upsert: true });
        }
      }
    },
  };
}

/** The items due at `now` or before, oldest first. */
export const dueItems = (store: ReadStore, now: Date, limit = 500): Promise<DueDoc[]> =>
  store.collection<DueDoc>(TIMERS_DUE).find({ dueAt: { $lte: now.toISOString() } }, { sort: { dueAt: 1, _id: 1 }, limit });
