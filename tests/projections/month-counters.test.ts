import { describe, expect, it } from 'vitest';
import { prng } from '../../src/cli/seed-data.ts';
import type { RecordedEvent } from '../../src/infra/eventstore/port.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { CounterDeltas, monthly, splitByMonth, sumChangesSince, sumCounters, yearly } from '../../src/projections/counters.ts';

const random = prng(11);
const day = () => {
  const date = new Date(Date.UTC(2025, 10, 1) + Math.floor(random() * 400) * 86_400_000);
  return date.toISOString().slice(0, 10);
};

describe('month-level counters', () => {
  it('split a range into whole months and edge days', () => {
    expect(splitByMonth('2026-08-01', '2026-11-01')).toEqual({ months: { from: '2026-08', to: '2026-11' }, days: [] });
    expect(splitByMonth('2026-08-15', '2026-11-03')).toEqual({ months: { from: '2026-09', to: '2026-11' }, days: [{ from: '2026-08-15', to: '2026-09-01' }, { from: '2026-11-01', to: '2026-11-03' }] });
    expect(splitByMonth('2026-12-02', '2027-02-01')).toEqual({ months: { from: '2027-01', to: '2027-02' }, days: [{ from: '2026-12-02', to: '2027-01-01' }] });
    expect(splitByMonth('2026-08-15', '2026-08-20')).toEqual({ days: [{ from: '2026-08-15', to: '2026-08-20' }] });
    expect(splitByMonth('2026-08-15', '2026-09-10')).toEqual({ days: [{ from: '2026-08-15', to: '2026-09-10' }] });
    expect(splitByMonth('2026-08-01', '2026-08-01')).toEqual({ days: [] });
  });

  it('sum to what the day counters alone sum to, for any range', async () => {
    const store = new EmbeddedReadStore();
    for (let position = 1; position <= 2000; position++) {
      const deltas = new CounterDeltas();
      deltas.add('c', { day: day(), stage: random() < 0.5 ? 'a' : 'b', ownerId: `o${Math.floor(random() * 3)}` }, { count: 1, amount: Math.floor(random() * 1000) }, random() < 0.1 ? -1 : 1);
      await deltas.apply(store, { position: BigInt(position) } as RecordedEvent);
    }
    expect(await store.collection(monthly('c')).countDocuments()).toBeLessThan(await store.collection('c').countDocuments());
    for (let i = 0; i < 200; i++) {
      const [from, to] = [day(), day()].sort() as [string, string];
      const match = random() < 0.5 ? {} : { ownerId: 'o1' };
      const got = await sumCounters<{ count: number; amount: number }>(store, 'c', { from, to }, match, 'stage', ['count', 'amount']);
      const expected = await store.collection('c').aggregate<{ _id: string; count: number; amount: number }>([
        { $match: { ...match, day: { $gte: from, $lt: to } } },
        { $group: { _id: '$stage', count: { $sum: '$count' }, amount: { $sum: '$amount' } } },
      ]);
      const byStage = (rows: { _id: string | null; count: number; amount: number }[]) => Object.fromEntries(rows.map((r) => [r._id, [r.count, r.amount]]).sort());
      expect(byStage(got), `${from}..${to}`).toEqual(byStage(expected));
    }
  });

  it('a balance\'s changes since any day, from its days, months and yearly twin, are what its day counters sum to from that day on', async () => {
    const store = new EmbeddedReadStore();
    // Over three years and a bit, some changes dated ahead (as an overdue one is).
    const anyDay = () => new Date(Date.UTC(2024, 0, 1) + Math.floor(random() * 1300) * 86_400_000).toISOString().slice(0, 10);
    for (let position = 1; position <= 2000; position++) {
      const deltas = new CounterDeltas();
      deltas.addBalance('b', { day: anyDay(), stage: random() < 0.5 ? 'a' : 'b', ownerId: `o${Math.floor(random() * 3)}` }, { count: 1, amount: Math.floor(random() * 1000) }, random() < 0.3 ? -1 : 1);
      await deltas.apply(store, { position: BigInt(position) } as RecordedEvent);
    }
    expect(await store.collection(yearly('b')).countDocuments()).toBeLessThan(await store.collection(monthly('b')).countDocuments());
    const days = ['2024-01-01', '2024-12-31', '2025-01-01', '2025-02-01', '2025-12-01', '2027-07-31', '2030-01-01', ...Array.from({ length: 100 }, anyDay)];
    for (const since of days) {
      const match = random() < 0.5 ? {} : { ownerId: 'o2' };
      const got = await sumChangesSince(store, 'b', since, match, ['stage'], ['count', 'amount']);
      const expected = await store.collection('b').aggregate<{ _id: string; count: number; amount: number }>([
        { $match: { ...match, day: { $gte: since } } },
        { $group: { _id: '$stage', count: { $sum: '$count' }, amount: { $sum: '$amount' } } },
      ]);
      const byStage = (rows: { stage: string; count: number; amount: number }[]) => Object.fromEntries(rows.filter((r) => r.count || r.amount).map((r) => [r.stage, [r.count, r.amount]]).sort());
      expect(byStage(got.map((row) => ({ stage: row.key.stage!, count: row.sums.count!, amount: row.sums.amount! }))), since).toEqual(byStage(expected.map((row) => ({ stage: row._id, count: row.count, amount: row.amount }))));
    }
  });
});
