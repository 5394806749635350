import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/infra/eventstore/port.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { silentLogger } from '../../src/infra/logger.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import type { ReadStore } from '../../src/infra/readstore/port.ts';
import type { Projection } from '../../src/projections/projection.ts';
import { ProjectionRunner } from '../../src/projections/runner.ts';

/** A counting projection: one counter document per stream, `$inc`-ed by every event; `poison` it cannot apply. */
const counting = (name: string, poison?: string): Projection => ({
  name,
  version: 1,
  categories: ['tally'],
  collections: [name],
  async setup() {},
  async apply(event: RecordedEvent, store: ReadStore) {
    if (event.id === poison) throw new Error(`${name} cannot apply ${event.id}`);
    const counters = store.collection<{ _id: string; n: number; _position: number }>(name);
    const current = await counters.findOne({ _id: event.streamId });
    if (current && current._position >= Number(event.position)) return;
    await counters.updateOne({ _id: event.streamId }, { $inc: { n: 1 }, $set: { _position: Number(event.position) } }, { upsert: true });
  },
});

const tally = (id: string) => ({ id, type: 'Tallied', data: {}, metadata: { actor: 'test', at: '2026-11-30T00:00:00.000Z', correlationId: 'test', schemaVersion: 1 } });
const eventId = (n: number) => `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`;

/** An empty event log in a directory of its own. */
const freshLog = () => new SqliteEventStore({ path: join(mkdtempSync(join(tmpdir(), 'crm-batches-')), 'events.sqlite') });

/** 300 events in one transaction, 100 in each of three streams: the subscription hands them out as one batch. */
const appendThreeStreamsAtOnce = (events: SqliteEventStore) =>
  events.appendAtomically!(Array.from({ length: 3 }, (_, s) => ({ streamId: `tally-${s}`, events: Array.from({ length: 100 }, (_, i) => tally(eventId(s * 100 + i))), expected: 'no_stream' as const })));

/** Waits (up to 5 s) for a promise a projection sets, then for the promise. */
async function untilSet(promise: () => Promise<void> | undefined): Promise<void> {
  for (const deadline = Date.now() + 5000; !promise() && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 5));
  await promise();
}

/** A new runner of the counting projection `healthy` on the same log and store, caught up: its counts by stream. */
async function healthyCountsAfterRestart(events: SqliteEventStore, store: EmbeddedReadStore): Promise<number[]> {
  const again = new ProjectionRunner(events, store, [counting('healthy')], silentLogger);
  await again.start();
  await again.waitFor(await events.headPosition(), 5000);
  await again.stop();
  return (await store.collection<{ _id: string; n: number }>('healthy').find({}, { sort: { _id: 1 } })).map((doc) => doc.n);
}

describe('projections applied in batches', () => {
  it('a batch with an event one projection cannot apply: it stops on that event with what came before; the others apply the whole batch', async () => {
    const events = freshLog();
    const store = new EmbeddedReadStore();
    const poison = eventId(150);
    const runner = new ProjectionRunner(events, store, [counting('healthy'), counting('fragile', poison)], silentLogger);
    try {
      await runner.start();
      // 300 events in one transaction: the subscription hands them out in one turn, applied as one batch.
      await appendThreeStreamsAtOnce(events);
      const head = await events.headPosition();
      await runner.waitFor(head, 5000, ['healthy']);
      await expect(runner.waitFor(head, 5000, ['fragile'])).rejects.toThrow(/stopped on an event/);
      const healthy = await store.collection('healthy').find({}, { sort: { _id: 1 } });
      expect(healthy.map((doc) => doc.n)).toEqual([100, 100, 100]);
      const fragile = runner.status().find((status) => status.name === 'fragile')!;
      expect(fragile.failure?.event?.id).toBe(poison);
      // Everything before the poisoned event (the first stream, half the second) and nothing after it.
      expect(fragile.position).toBe(fragile.failure!.event!.position - 1n);
      expect((await store.collection('fragile').find({}, { sort: { _id: 1 } })).map((doc) => doc.n)).toEqual([100, 50]);
    } finally {
      await runner.stop();
      await events.close();
    }
  });

  it('a log larger than a batch is applied in batches with the subscription held back between them; a waiting reader gets all of it', async () => {
    const events = freshLog();
    const store = new EmbeddedReadStore();
    const runner = new ProjectionRunner(events, store, [counting('healthy')], silentLogger);
    try {
      await runner.start();
      const { position } = await events.append('tally-0', Array.from({ length: 5000 }, (_, i) => tally(eventId(i))), 'no_stream');
      await runner.waitFor(position, 10_000);
      expect(await store.collection('healthy').findOne({ _id: 'tally-0' })).toMatchObject({ n: 5000 });
    } finally {
      await runner.stop();
      await events.close();
    }
  });

  it('a rebuild keeps every document in one unit until its end, yet one poisoned event stops it with the events before it written and both named', async () => {
    const events = freshLog();
    const store = new EmbeddedReadStore();
    const poison = eventId(2_500);
    try {
      await events.append('tally-0', Array.from({ length: 3_000 }, (_, i) => tally(eventId(i))), 'no_stream');
      // Without the poison: every event counted once, across batches of 1,000 held in one unit.
      const clean = new ProjectionRunner(events, store, [counting('healthy')], silentLogger);
      expect(await clean.rebuild(() => {}, 1_000)).toBe(3_000);
      expect(await store.collection('healthy').findOne({ _id: 'tally-0' })).toMatchObject({ n: 3_000 });
      // With it, in the third batch: the rebuild fails naming the projection and the event; what came before is written.
      const runner = new ProjectionRunner(events, store, [counting('fragile', poison)], silentLogger);
      await expect(runner.rebuild(() => {}, 1_000)).rejects.toThrow(new RegExp(`fragile cannot apply event ${poison}`));
      expect(await store.collection('fragile').findOne({ _id: 'tally-0' })).toMatchObject({ n: 2_500 });
    } finally {
      await events.close();
    }
  });

  it('a stop while a failed batch is applied again one event at a time ends it there; the next start applies the rest, each event once', async () => {
    const events = freshLog();
    const store = new EmbeddedReadStore();
    const poison = eventId(150);
    // After the poisoned event fails the batch, the healthy projection's 10th apply asks the runner to stop.
    let failed = false;
    let appliedAfterFailure = 0;
    let stopped: Promise<void> | undefined;
    const healthy = counting('healthy');
    const fragile = counting('fragile', poison);
    const runner: ProjectionRunner = new ProjectionRunner(
      events,
      store,
      [
        {
          ...healthy,
          async apply(event, target) {
            if (failed && ++appliedAfterFailure === 10) stopped = runner.stop();
            await healthy.apply(event, target);
          },
        },
        {
          ...fragile,
          apply: (event, target) =>
            fragile.apply(event, target).catch((error: unknown) => {
              failed = true;
              throw error;
            }),
        },
      ],
      silentLogger,
    );
    try {
      await runner.start();
      await appendThreeStreamsAtOnce(events);
      await untilSet(() => stopped);
      // Not the 300 events of the batch: the one in hand when the stop came, then no more.
      expect(appliedAfterFailure).toBe(10);
      expect(await healthyCountsAfterRestart(events, store)).toEqual([100, 100, 100]);
    } finally {
      await runner.stop();
      await events.close();
    }
  });

  it('a stop in the middle of a live batch drops it uncommitted; the next start applies all of it, each event once', async () => {
    const events = freshLog();
    const store = new EmbeddedReadStore();
    const healthy = counting('healthy');
    let applied = 0;
    let stopped: Promise<void> | undefined;
    const runner: ProjectionRunner = new ProjectionRunner(
      events,
      store,
      [
        {
          ...healthy,
          async apply(event, target) {
            if (++applied === 10) stopped = runner.stop();
            await healthy.apply(event, target);
          },
        },
      ],
      silentLogger,
    );
    try {
      await runner.start();
      await appendThreeStreamsAtOnce(events);
      await untilSet(() => stopped);
      // The event in hand when the stop came, then no more; nothing of the batch written, no position moved.
      expect(applied).toBe(10);
      expect(await store.collection('healthy').find({})).toEqual([]);
      expect(runner.status().find((status) => status.name === 'healthy')!.position).toBe(0n);
      expect(await healthyCountsAfterRestart(events, store)).toEqual([100, 100, 100]);
    } finally {
      await runner.stop();
      await events.close();
    }
  });
});

describe('the heap compacted after a backlog', () => {
  /** A runner of the counting projection whose compactions are counted instead of done. */
  const countingCompactions = (events: SqliteEventStore, store: EmbeddedReadStore, after: number) => {
    const runner = new ProjectionRunner(events, store, [counting('healthy')], silentLogger);
    const compactions: number[] = [];
    runner.compactAfterEvents = after;
    runner.compactHeap = () => {
      compactions.push(Date.now());
      return { heapBeforeMb: 2, heapAfterMb: 1, ms: 0 };
    };
    return { runner, compactions };
  };
  /** `count` events in streams of 100, appended 500 at a time. */
  const appendMany = async (events: SqliteEventStore, count: number, from = 0) => {
    for (let start = from; start < from + count; start += 500)
      await events.appendAtomically!(Array.from({ length: Math.min(500, from + count - start) / 100 }, (_, s) => ({ streamId: `tally-${start + s * 100}`, events: Array.from({ length: 100 }, (_, i) => tally(eventId(start + s * 100 + i))), expected: 'no_stream' as const })));
  };

  it('once, when the live subscription has caught up with a log of at least that many events (many full batches), and not for the events after', async () => {
    const events = freshLog();
    await appendMany(events, 4500);
    const { runner, compactions } = countingCompactions(events, new EmbeddedReadStore(), 4500);
    try {
      await runner.start();
      await runner.waitFor(await events.headPosition(), 10_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(compactions).toHaveLength(1);
      await appendMany(events, 100, 4500);
      await runner.waitFor(await events.headPosition(), 5000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(compactions).toHaveLength(1);
    } finally {
      await runner.stop();
      await events.close();
    }
  });

  it('never after a smaller catch-up, and never when it is turned off', async () => {
    const events = freshLog();
    await appendMany(events, 600);
    try {
      for (const after of [601, 0]) {
        const { runner, compactions } = countingCompactions(events, new EmbeddedReadStore(), after);
        await runner.start();
        await runner.waitFor(await events.headPosition(), 5000);
        await new Promise((resolve) => setTimeout(resolve, 50));
        await runner.stop();
        expect(compactions, `after ${after}`).toHaveLength(0);
      }
    } finally {
      await events.close();
    }
  });

  it('after a rebuild of at least that many events', async () => {
    const events = freshLog();
    await appendMany(events, 600);
    try {
      for (const [after, expected] of [[600, 1], [601, 0]] as const) {
        const { runner, compactions } = countingCompactions(events, new EmbeddedReadStore(), after);
        expect(await runner.rebuild()).toBe(600);
        expect(compactions, `after ${after}`).toHaveLength(expected);
      }
    } finally {
      await events.close();
    }
  });
});
